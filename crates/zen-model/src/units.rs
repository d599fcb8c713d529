//! Figures for people and from people: a wait of `5s 189us 435ns` reads `5.2 s`, a byte count
//! reads in binary units named as such (`8 MiB`), and a duration is typed as `250ms`, `10s`, `1.5`.

use std::time::Duration;

/// Seconds as a person reads them: `250 ms` under a second, `5.2 s` under ten, `60 s` above,
/// `1.8e19 s` for the absurd (a Retry-After of `1e30` saturates to Duration::MAX).
pub fn seconds(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 1.0 {
        return format!("{} ms", d.as_millis());
    }
    if secs < 10.0 {
        // One decimal, without a trailing `.0` ("5 s", not "5.0 s").
        let text = format!("{secs:.1}");
        return format!("{} s", text.trim_end_matches(".0"));
    }
    if secs < 1e7 {
        return format!("{secs:.0} s");
    }
    format!("{secs:.1e} s")
}

/// A byte count in binary units: `512 B`, `64 KiB`, `8 MiB`, `1.5 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let text = format!("{value:.1}");
    format!("{} {}", text.trim_end_matches(".0"), UNITS[unit])
}

/// A duration: `250ms`, `10s`, `5m`, `1h`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        // try_: 1e30 seconds is finite yet too long for a Duration, and must not panic.
        return Duration::try_from_secs_f64(secs).map_err(|_| {
            format!("'{s}' is not a duration of zero or more; use e.g. 30, 1.5 or 10s")
        });
    }
    humantime::parse_duration(s)
        .map_err(|e| format!("'{s}' is not a duration ({e}); use e.g. 250ms, 10s, 5m or 1h"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_wait_reads_rounded_not_in_nanoseconds() {
        assert_eq!(seconds(Duration::new(5, 189_435)), "5 s");
        assert_eq!(seconds(Duration::from_millis(5_249)), "5.2 s");
        assert_eq!(seconds(Duration::new(60, 189_435)), "60 s");
        assert_eq!(seconds(Duration::from_millis(250)), "250 ms");
        assert_eq!(seconds(Duration::from_hours(1)), "3600 s");
        assert_eq!(seconds(Duration::from_secs(9_999_999)), "9999999 s");
        assert_eq!(seconds(Duration::MAX), "1.8e19 s");
    }

    #[test]
    fn byte_counts_read_in_binary_units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(64 * 1024), "64 KiB");
        assert_eq!(bytes(8 * 1024 * 1024), "8 MiB");
        assert_eq!(bytes(3 * 512 * 1024 * 1024), "1.5 GiB");
    }
}
