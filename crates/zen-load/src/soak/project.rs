//! The projection over one hour, part by part: each bounded part of zen's memory grows at most
//! to its cap (at the rate it grew in the deciding window); only the rest of the process is
//! extrapolated from its line.
use super::fit::{Fit, Prefix};
use super::series::Point;
use zen_model::report::soak::PartProjection;
use zen_model::snapshot::{BoundedPart, mib};

/// A part still filling has at least this share of its cap left…
const FAR_FROM_CAP: f64 = 0.1;
/// … and at least this many MiB…
const FAR_FROM_CAP_MB: f64 = 1.0;
/// … and grew in at least this share of the window's sample-to-sample steps (a cache fills
/// sample after sample; a histogram made once is a step, not a filling).
const STEADY_GROWTH: f64 = 0.3;

/// The bounded parts' projections (in `parts` order), then the rest's. `points` are the
/// judged points, `window` the deciding window within them, `rest` the rest's line over it.
pub(crate) fn project(
    points: &[Point],
    window: (usize, usize),
    keys: &[String],
    parts: &[BoundedPart],
    rest: &Fit,
) -> Vec<PartProjection> {
    let seen = &points[window.0..window.1];
    let xs: Vec<f64> = seen.iter().map(|p| p.t / 3600.0).collect();
    let mut out: Vec<PartProjection> = parts
        .iter()
        .map(|part| {
            let i = keys.iter().position(|k| *k == part.key);
            let ys: Vec<f64> = seen.iter().map(|p| i.map_or(0.0, |i| p.part(i))).collect();
            bounded(part, &xs, &ys)
        })
        .collect();
    out.push(PartProjection {
        key: "rest".to_string(),
        name: if parts.is_empty() {
            "RSS".to_string()
        } else {
            "the rest of the process".to_string()
        },
        now_mb: rest.at(rest.span.1),
        cap_mb: None,
        bounded_by: None,
        slope_mb_per_hour: rest.slope,
        growth_mb: rest.slope,
        full_in_secs: None,
    });
    out
}

/// One bounded part over the window: its rate, its growth over an hour up to its cap, and
/// whether it is still filling far from it.
fn bounded(part: &BoundedPart, xs: &[f64], ys: &[f64]) -> PartProjection {
    let cap = mib(part.cap_bytes);
    let now = ys.last().copied().unwrap_or_else(|| mib(part.bytes));
    let slope = if xs.len() >= 2 {
        Prefix::new(xs, ys).fit(0, xs.len()).slope
    } else {
        0.0
    };
    let headroom = (cap - now).max(0.0);
    let rising = ys.windows(2).filter(|w| w[1] > w[0]).count();
    let steady = rising as f64 >= STEADY_GROWTH * ys.len().saturating_sub(1).max(1) as f64;
    let far = headroom > (FAR_FROM_CAP * cap).max(FAR_FROM_CAP_MB);
    let filling = far && steady && slope > 0.0;
    PartProjection {
        key: part.key.clone(),
        name: part.name.clone(),
        now_mb: now,
        cap_mb: Some(cap),
        bounded_by: Some(part.bounded_by.clone()),
        slope_mb_per_hour: slope,
        growth_mb: slope.max(0.0).min(headroom),
        full_in_secs: filling.then(|| headroom / slope * 3600.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(key: &str, cap_mb: u64) -> BoundedPart {
        BoundedPart {
            key: key.into(),
            name: key.into(),
            bytes: 0,
            cap_bytes: cap_mb << 20,
            bounded_by: "a setting".into(),
        }
    }

    fn points(cache: impl Fn(f64) -> f64) -> Vec<Point> {
        (0..120)
            .map(|i| {
                let t = f64::from(i) * 5.0;
                Point {
                    t,
                    target: 30.0 + cache(t),
                    parts: vec![cache(t), 2.0],
                    weight: 1,
                    ..Point::default()
                }
            })
            .collect()
    }

    #[test]
    fn a_filling_part_is_projected_to_its_cap_not_past_it() {
        // 4 MiB in 10 minutes: 24 MiB an hour, but the cap is 16.
        let pts = points(|t| t / 150.0);
        let keys = ["store_cache".to_string(), "histograms".to_string()];
        let parts = [part("store_cache", 16), part("histograms", 80)];
        let xs: Vec<f64> = pts.iter().map(|p| p.t / 3600.0).collect();
        let ys: Vec<f64> = pts.iter().map(Point::rest).collect();
        let rest = Prefix::new(&xs, &ys).fit(0, xs.len());
        let p = project(&pts, (0, pts.len()), &keys, &parts, &rest);
        assert_eq!(p.len(), 3);
        let cache = &p[0];
        assert!((cache.slope_mb_per_hour - 24.0).abs() < 0.1, "{cache:?}");
        assert!(
            (cache.growth_mb - (16.0 - cache.now_mb)).abs() < 1e-9,
            "{cache:?}"
        );
        let full_in = cache.full_in_secs.expect("still filling");
        assert!((full_in - 1800.0).abs() < 60.0, "{full_in}");
        let histograms = &p[1];
        assert_eq!(histograms.growth_mb, 0.0);
        assert_eq!(histograms.full_in_secs, None, "flat: not filling");
        assert_eq!(p[2].key, "rest");
        assert!(p[2].growth_mb.abs() < 1e-6, "{:?}", p[2]);
    }

    #[test]
    fn a_full_part_adds_nothing() {
        let pts = points(|_| 16.0);
        let keys = ["store_cache".to_string()];
        let parts = [part("store_cache", 16)];
        let rest = Prefix::new(&[0.0, 1.0], &[1.0, 1.0]).fit(0, 2);
        let p = project(&pts, (60, 120), &keys, &parts, &rest);
        assert_eq!(p[0].growth_mb, 0.0);
        assert_eq!(p[0].full_in_secs, None);
    }
}
