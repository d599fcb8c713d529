//! Least-squares lines over stretches of a memory curve, from prefix sums: any stretch's line,
//! its residual error and its slope's standard error in constant time, so the curve can be cut
//! at every candidate point cheaply.

/// A line fitted through (hours, MiB) points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Fit {
    /// Points in the fit.
    pub n: usize,
    /// MiB per hour.
    pub slope: f64,
    /// The mean of the points, MiB.
    pub mean: f64,
    /// The mean time, hours: the line passes through (`mean_x`, `mean`).
    pub mean_x: f64,
    /// Standard error of the slope, MiB per hour (infinite with fewer than three points).
    pub se_slope: f64,
    /// 1 for a perfect line; `None` when the points did not vary.
    pub r_squared: Option<f64>,
    /// The first and last time, hours.
    pub span: (f64, f64),
}

impl Fit {
    /// The line's value at `hours`.
    pub(crate) fn at(&self, hours: f64) -> f64 {
        self.mean + self.slope * (hours - self.mean_x)
    }

    /// Twice the standard error: the slope is known to about ± this.
    pub(crate) fn margin(&self) -> f64 {
        2.0 * self.se_slope
    }

    /// Hours from the first point to the last.
    pub(crate) fn hours(&self) -> f64 {
        self.span.1 - self.span.0
    }
}

/// Prefix sums of x, y, x², xy and y² (x relative to the first point, for precision).
pub(crate) struct Prefix<'a> {
    xs: &'a [f64],
    origin: f64,
    /// Entry i holds the sums over points 0..i.
    sums: Vec<[f64; 5]>,
}

impl<'a> Prefix<'a> {
    /// Sums over the points (`xs` in hours, ascending; `ys` in MiB, as many).
    pub(crate) fn new(xs: &'a [f64], ys: &[f64]) -> Self {
        let origin = xs.first().copied().unwrap_or(0.0);
        let mut sums = Vec::with_capacity(xs.len() + 1);
        let mut acc = [0.0; 5];
        sums.push(acc);
        for (&x, &y) in xs.iter().zip(ys) {
            let x = x - origin;
            acc[0] += x;
            acc[1] += y;
            acc[2] += x * x;
            acc[3] += x * y;
            acc[4] += y * y;
            sums.push(acc);
        }
        Prefix { xs, origin, sums }
    }

    /// Points in all.
    pub(crate) fn len(&self) -> usize {
        self.sums.len() - 1
    }

    /// (n, Sxx, Sxy, Syy, mean x, mean y) over points a..b.
    fn moments(&self, a: usize, b: usize) -> (f64, f64, f64, f64, f64, f64) {
        let (hi, lo) = (self.sums[b], self.sums[a]);
        let d = |i: usize| hi[i] - lo[i];
        let n = (b - a) as f64;
        let (sx, sy) = (d(0), d(1));
        let sxx = (d(2) - sx * sx / n).max(0.0);
        let sxy = d(3) - sx * sy / n;
        let syy = (d(4) - sy * sy / n).max(0.0);
        (n, sxx, sxy, syy, sx / n, sy / n)
    }

    /// The residual sum of squares of the line through points a..b (0 for fewer than 3).
    pub(crate) fn sse(&self, a: usize, b: usize) -> f64 {
        if b <= a + 2 {
            return 0.0;
        }
        let (_, sxx, sxy, syy, _, _) = self.moments(a, b);
        if sxx <= 0.0 {
            return syy;
        }
        (syy - sxy * sxy / sxx).max(0.0)
    }

    /// The line through points a..b (at least one point).
    pub(crate) fn fit(&self, a: usize, b: usize) -> Fit {
        let (n, sxx, sxy, syy, mx, my) = self.moments(a, b);
        let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        let sse = self.sse(a, b);
        let se_slope = if b >= a + 3 && sxx > 0.0 {
            (sse / (n - 2.0) / sxx).sqrt()
        } else {
            f64::INFINITY
        };
        // Relative threshold: a flat series leaves only rounding noise in Syy.
        let flat = syy <= 1e-12 * (my * my * n).max(1.0);
        let r_squared = (sxx > 0.0 && !flat).then(|| (sxy * sxy / (sxx * syy)).clamp(0.0, 1.0));
        Fit {
            n: b - a,
            slope,
            mean: my,
            mean_x: mx + self.origin,
            se_slope,
            r_squared,
            span: (self.xs[a], self.xs[b - 1]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_fitted_exactly_and_stretches_independently() {
        let xs: Vec<f64> = (0..60).map(|i| f64::from(i) / 60.0).collect();
        let ys: Vec<f64> = xs
            .iter()
            .map(|&x| if x < 0.5 { 100.0 + 30.0 * x } else { 200.0 })
            .collect();
        let p = Prefix::new(&xs, &ys);
        let left = p.fit(0, 30);
        assert!((left.slope - 30.0).abs() < 1e-6, "{left:?}");
        assert!((left.at(0.0) - 100.0).abs() < 1e-6);
        assert!(p.sse(0, 30) < 1e-9);
        let right = p.fit(30, 60);
        assert!(right.slope.abs() < 1e-9);
        assert_eq!(right.r_squared, None, "a flat stretch has no R²");
        assert!(p.sse(0, 60) > 1000.0, "one line through a step fits badly");
        assert!((left.hours() - 29.0 / 60.0).abs() < 1e-12);
    }

    #[test]
    fn the_slope_error_shrinks_with_more_points() {
        let noisy = |n: i32| {
            let xs: Vec<f64> = (0..n).map(|i| f64::from(i) / 100.0).collect();
            let ys: Vec<f64> = (0..n)
                .map(|i| 50.0 + if i % 2 == 0 { 0.5 } else { -0.5 })
                .collect();
            Prefix::new(&xs, &ys).fit(0, n as usize)
        };
        let (short, long) = (noisy(20), noisy(200));
        assert!(long.se_slope < short.se_slope / 10.0, "{short:?} {long:?}");
        assert!(long.slope.abs() < long.margin());
    }
}
