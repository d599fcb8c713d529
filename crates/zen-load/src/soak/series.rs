//! The memory samples a soak keeps for its verdict and its chart, in a fixed amount of memory:
//! when the buffer is full, neighbouring points are averaged pairwise and later samples are
//! averaged in groups twice as large, so a day-long soak at 100 ms holds as many points as a
//! minute-long one, evenly spread over the run.

/// Points kept at most (a power of two, so pairwise merging stays even).
pub(crate) const CAPACITY: usize = 2048;

/// One sample, or the mean of several neighbouring ones.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Point {
    /// Seconds into the run.
    pub t: f64,
    /// The target's RSS, MiB.
    pub target: f64,
    /// The generator's RSS, MiB.
    pub generator: f64,
    /// Each bounded part's size, MiB, in the order of [`Series::part_keys`] (missing: 0).
    pub parts: Vec<f64>,
    /// Successful calls so far (the last of the merged samples: a running count).
    pub ok: u64,
    /// Failed calls so far (likewise).
    pub failed: u64,
    /// How many raw samples this point averages.
    pub weight: u32,
}

impl Point {
    /// A bounded part's size, 0 when this point predates the part.
    pub(crate) fn part(&self, i: usize) -> f64 {
        self.parts.get(i).copied().unwrap_or(0.0)
    }

    /// RSS minus every bounded part: the memory only the curve can judge.
    pub(crate) fn rest(&self) -> f64 {
        self.target - self.parts.iter().sum::<f64>()
    }

    /// The weighted mean of two points (counts: the later one's).
    fn merge(&self, later: &Point) -> Point {
        let (a, b) = (f64::from(self.weight), f64::from(later.weight));
        let mean = |x: f64, y: f64| (x * a + y * b) / (a + b);
        let width = self.parts.len().max(later.parts.len());
        Point {
            t: mean(self.t, later.t),
            target: mean(self.target, later.target),
            generator: mean(self.generator, later.generator),
            parts: (0..width)
                .map(|i| mean(self.part(i), later.part(i)))
                .collect(),
            ok: later.ok,
            failed: later.failed,
            weight: self.weight + later.weight,
        }
    }
}

/// The bounded series of a run's memory samples.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    /// Most points kept.
    capacity: usize,
    /// Merged points, oldest first; every one averages `stride` raw samples.
    points: Vec<Point>,
    /// Raw samples per point.
    stride: u32,
    /// Raw samples gathered toward the next point.
    pending: Option<Point>,
    /// The bounded parts' keys, in the order of each point's `parts`.
    part_keys: Vec<String>,
}

impl Default for Series {
    fn default() -> Self {
        Series::with_capacity(CAPACITY)
    }
}

impl Series {
    /// An empty series keeping at most `capacity` points (rounded up to an even number).
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Series {
            capacity: capacity.max(2).next_multiple_of(2),
            points: Vec::new(),
            stride: 1,
            pending: None,
            part_keys: Vec::new(),
        }
    }

    /// The index of a bounded part's key, added on first sight.
    pub(crate) fn part_index(&mut self, key: &str) -> usize {
        if let Some(i) = self.part_keys.iter().position(|k| k == key) {
            return i;
        }
        self.part_keys.push(key.to_string());
        self.part_keys.len() - 1
    }

    /// The bounded parts' keys.
    pub(crate) fn part_keys(&self) -> &[String] {
        &self.part_keys
    }

    /// Add one raw sample (its `weight` is taken as 1).
    pub(crate) fn push(&mut self, mut sample: Point) {
        sample.weight = 1;
        let gathered = match self.pending.take() {
            Some(p) => p.merge(&sample),
            None => sample,
        };
        if gathered.weight < self.stride {
            self.pending = Some(gathered);
            return;
        }
        self.points.push(gathered);
        if self.points.len() == self.capacity {
            self.points = self.points.chunks(2).map(|c| c[0].merge(&c[1])).collect();
            self.stride *= 2;
        }
    }

    /// Every point, the partial last one included.
    pub(crate) fn points(&self) -> Vec<Point> {
        let mut all = self.points.clone();
        all.extend(self.pending.clone());
        all
    }

    /// At most `n` points for a report: neighbours averaged in equal groups.
    pub(crate) fn thinned(&self, n: usize) -> Vec<Point> {
        let all = self.points();
        let group = all.len().div_ceil(n.max(1)).max(1);
        all.chunks(group)
            .map(|c| c[1..].iter().fold(c[0].clone(), |acc, p| acc.merge(p)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: f64) -> Point {
        Point {
            t,
            target: t * 2.0,
            generator: 1.0,
            parts: vec![t],
            ok: t as u64,
            failed: 0,
            weight: 1,
        }
    }

    #[test]
    fn a_full_series_halves_its_resolution_and_stays_bounded() {
        let mut s = Series::with_capacity(8);
        for i in 0..1000 {
            s.push(sample(f64::from(i)));
        }
        let points = s.points();
        assert!(points.len() <= 9, "{}", points.len());
        // Evenly spread over the whole run, means preserved.
        let first = &points[0];
        assert!(first.t < 100.0, "{first:?}");
        assert!((first.target - 2.0 * first.t).abs() < 1e-9);
        assert!((first.part(0) - first.t).abs() < 1e-9);
        assert!(points.last().unwrap().t > 900.0);
        assert_eq!(
            points.last().unwrap().ok,
            999,
            "counts are the latest, not averaged"
        );
        let total: u32 = points.iter().map(|p| p.weight).sum();
        assert_eq!(total, 1000, "every sample counted once");
    }

    #[test]
    fn thinning_keeps_the_mean_and_the_span() {
        let mut s = Series::default();
        for i in 0..1000 {
            s.push(sample(f64::from(i)));
        }
        let thin = s.thinned(100);
        assert_eq!(thin.len(), 100);
        assert!((thin[0].t - 4.5).abs() < 1e-9);
        assert_eq!(thin.iter().map(|p| p.weight).sum::<u32>(), 1000);
    }

    #[test]
    fn parts_that_appear_later_read_zero_before() {
        let mut s = Series::default();
        assert_eq!(s.part_index("store_cache"), 0);
        assert_eq!(s.part_index("histograms"), 1);
        assert_eq!(s.part_index("store_cache"), 0);
        let p = Point {
            target: 10.0,
            parts: vec![3.0],
            ..Point::default()
        };
        assert_eq!(p.part(1), 0.0);
        assert!((p.rest() - 7.0).abs() < 1e-9);
    }
}
