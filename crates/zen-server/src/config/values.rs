//! The values settings are made of, and their parsers: durations, addresses, latencies,
//! `name=value` maps, and the checks that keep a typo from silently changing nothing.
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

pub use zen_model::units::parse_duration;

/// Simulated latency: fixed or uniform in `lo..hi` milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Latency {
    /// Always this many milliseconds.
    Fixed(u64),
    /// Anywhere from the first to the second number of milliseconds, inclusive.
    Uniform(u64, u64),
}

/// A circuit breaker's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerSpec {
    /// Failures in a row that open the breaker.
    pub failures: u32,
    /// How long it stays open the first time before one trial call (half-open); each failed
    /// trial doubles it, up to `open_for`.
    pub first_retry: Duration,
    /// The longest it stays open before a trial call.
    pub open_for: Duration,
}

impl BreakerSpec {
    /// The first try after opening when the setting names none: soon enough that a provider
    /// back after a blip is used again within seconds.
    pub const FIRST_RETRY: Duration = Duration::from_secs(3);

    /// `failures` to open, the first trial after [`Self::FIRST_RETRY`] (or `open_for` if
    /// shorter), backing off to `open_for`.
    pub fn new(failures: u32, open_for: Duration) -> Self {
        BreakerSpec {
            failures,
            first_retry: Self::FIRST_RETRY.min(open_for),
            open_for,
        }
    }
}

/// `name=value,name=value`, for per-provider settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NameMap<T>(pub BTreeMap<String, T>);

/// A duration as a map value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DurationArg(pub Duration);

/// A number from 0.0 to 1.0 as a map value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fraction(pub f64);

impl std::str::FromStr for DurationArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_duration(s).map(DurationArg)
    }
}

impl std::str::FromStr for Fraction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_fraction(s).map(Fraction)
    }
}

impl std::str::FromStr for BreakerSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (n, d) = s.split_once('/').ok_or_else(|| {
            format!(
                "'{s}' is not FAILURES/DURATION or FAILURES/FIRST..MAX, e.g. 5/60s or 5/2s..60s"
            )
        })?;
        let failures = n
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("'{n}' is not a failure count of 1 or more"))?;
        let Some((first, max)) = d.split_once("..") else {
            return Ok(BreakerSpec::new(failures, parse_duration(d)?));
        };
        let (first_retry, open_for) = (parse_duration(first)?, parse_duration(max)?);
        if first_retry > open_for {
            return Err(format!(
                "'{d}': the first try after opening ({first}) is later than the longest wait ({max})"
            ));
        }
        Ok(BreakerSpec {
            failures,
            first_retry,
            open_for,
        })
    }
}

/// Parse `name=value,...` into a map; an empty string is an empty map.
pub fn parse_name_map<T: std::str::FromStr>(s: &str) -> Result<NameMap<T>, String>
where
    T::Err: std::fmt::Display,
{
    let mut map = BTreeMap::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (name, value) = item
            .split_once('=')
            .ok_or_else(|| format!("'{item}' is not NAME=VALUE"))?;
        let value = value
            .trim()
            .parse::<T>()
            .map_err(|e| format!("{}: {e}", name.trim()))?;
        map.insert(name.trim().to_ascii_lowercase(), value);
    }
    Ok(NameMap(map))
}

/// The providers zen knows, for per-provider settings.
pub const PROVIDER_NAMES: [&str; 8] = [
    "openai",
    "openrouter",
    "gemini",
    "azure",
    "xai",
    "dial",
    "custom",
    "simulated",
];

/// Pools that are not model providers: `clink`'s child processes.
pub const OTHER_POOLS: [&str; 1] = ["clink"];

/// A per-provider map: a misspelt provider name would silently change nothing.
pub fn parse_provider_map<T: std::str::FromStr>(s: &str) -> Result<NameMap<T>, String>
where
    T::Err: std::fmt::Display,
{
    let map = parse_name_map::<T>(s)?;
    if let Some(name) = map.0.keys().find(|k| !PROVIDER_NAMES.contains(&k.as_str())) {
        return Err(format!(
            "unknown provider '{name}'; the providers are {}",
            PROVIDER_NAMES.join(", ")
        ));
    }
    Ok(map)
}

/// Provider pool sizes: known providers (and clink), and at least 1 (0 would queue every call
/// forever).
pub fn parse_provider_limits(s: &str) -> Result<NameMap<u32>, String> {
    let map = parse_name_map::<u32>(s)?;
    let known = |k: &str| PROVIDER_NAMES.contains(&k) || OTHER_POOLS.contains(&k);
    if let Some(name) = map.0.keys().find(|k| !known(k)) {
        return Err(format!(
            "unknown provider '{name}'; the pools are {}, {}",
            PROVIDER_NAMES.join(", "),
            OTHER_POOLS.join(", ")
        ));
    }
    if let Some((name, _)) = map.0.iter().find(|(_, n)| **n == 0) {
        return Err(format!(
            "{name}=0 would make every {name} call wait forever; give a limit of 1 or more"
        ));
    }
    Ok(map)
}

/// Per-provider connect timeouts: above zero (0 fails every connect at once), and not for the
/// simulated provider, which makes no connection.
pub fn parse_connect_timeouts(s: &str) -> Result<NameMap<DurationArg>, String> {
    let map = parse_provider_map::<DurationArg>(s)?;
    for (name, timeout) in &map.0 {
        if name == "simulated" {
            return Err("simulated makes no connection: it takes no connect timeout".into());
        }
        if timeout.0.is_zero() {
            return Err(format!(
                "{name}=0 would fail every connect at once; give e.g. 5s"
            ));
        }
    }
    Ok(map)
}

/// The fault kinds the simulated provider can inject.
pub const FAULT_KINDS: [&str; 4] = ["hang", "429", "500", "slow"];

/// `kind=rate,...` for ZEN_SIM_FAULTS: a misspelt kind would silently inject nothing.
pub fn parse_faults(s: &str) -> Result<NameMap<Fraction>, String> {
    let faults = parse_name_map::<Fraction>(s)?;
    if let Some(kind) = faults.0.keys().find(|k| !FAULT_KINDS.contains(&k.as_str())) {
        return Err(format!(
            "unknown fault kind '{kind}'; the kinds are {}",
            FAULT_KINDS.join(", ")
        ));
    }
    let total: f64 = faults.0.values().map(|f| f.0).sum();
    if total > 1.0 {
        return Err(format!(
            "the fault rates add up to {total}; together they must be at most 1"
        ));
    }
    Ok(faults)
}

/// A switch, as people write one in an environment block: true/false, 1/0, yes/no or on/off
/// (any case); anything else is refused, naming what is accepted.
pub fn parse_switch(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "y" | "t" => Ok(true),
        "false" | "0" | "no" | "off" | "n" | "f" | "" => Ok(false),
        _ => Err(format!(
            "'{s}' is neither on nor off; use true/false, 1/0, yes/no or on/off"
        )),
    }
}

/// A byte count above zero: 0 would refuse every reply.
pub fn parse_byte_count(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(0) => Err(
            "0 would refuse every provider reply; give a byte count such as 8388608 (8 MiB)".into(),
        ),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "'{s}' is not a byte count; give a whole number such as 8388608 (8 MiB)"
        )),
    }
}

/// A count of 1 or more: 0 would refuse every session or connection.
pub fn parse_count(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("0 would refuse every client; give 1 or more".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{s}' is not a whole number such as 1000")),
    }
}

/// A listen address: `HOST:PORT`, or a bare `PORT` meaning 127.0.0.1:PORT.
pub fn parse_bind_addr(s: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = s.trim().parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    if let Some(port) = s.trim().strip_prefix("localhost:") {
        let port = port
            .parse::<u16>()
            .map_err(|_| format!("'{s}': bad port"))?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    s.trim()
        .parse()
        .map_err(|_| format!("'{s}' is not HOST:PORT or PORT, e.g. 127.0.0.1:8931"))
}

/// Why a listener could not open on `addr`, set by `--flag` / `var`: a port in use says how
/// to pick another (a free one, or any with port 0) instead of the bare OS error.
pub fn listen_error(addr: SocketAddr, error: &std::io::Error, flag: &str, var: &str) -> String {
    let port = addr.port();
    if error.kind() == std::io::ErrorKind::AddrInUse {
        format!(
            "cannot listen on {addr}: port {port} is already in use (another zen serve, or another \
             program: `ss -ltnp 'sport = :{port}'` shows which). Pick another port with {flag} \
             {}:PORT (or {var}), or port 0 for any free one",
            addr.ip()
        )
    } else {
        format!("cannot listen on {addr} (set by {flag} or {var}): {error}")
    }
}

/// `200` or `50..400` milliseconds.
pub fn parse_latency(s: &str) -> Result<Latency, String> {
    let bad = || format!("'{s}' is not milliseconds: use a number (200) or a range (50..400)");
    match s.trim().split_once("..") {
        None => s.trim().parse().map(Latency::Fixed).map_err(|_| bad()),
        Some((lo, hi)) => {
            let lo: u64 = lo.trim().parse().map_err(|_| bad())?;
            let hi: u64 = hi.trim().parse().map_err(|_| bad())?;
            if lo > hi {
                return Err(format!("'{s}': the low end is above the high end"));
            }
            Ok(Latency::Uniform(lo, hi))
        }
    }
}

/// A number from 0.0 to 1.0.
pub fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("'{s}' is not a number from 0.0 to 1.0")),
    }
}

/// A number above zero (hours, megabytes, seconds).
pub fn parse_positive_f64(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!("'{s}' is not a number above 0")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_units_and_bare_seconds() {
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("soon").unwrap_err().contains("10s"));
        for bad in ["1e30", "inf", "-1", "NaN"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn byte_counts_refuse_zero_and_junk() {
        assert_eq!(parse_byte_count(" 8388608 "), Ok(8_388_608));
        assert!(parse_byte_count("0").unwrap_err().contains("refuse every"));
        assert!(parse_byte_count("8MB").unwrap_err().contains("'8MB'"));
    }

    #[test]
    fn name_maps_name_the_bad_item() {
        let m = parse_name_map::<u32>("openai=20, Custom=8").unwrap();
        assert_eq!(m.0.get("custom"), Some(&8));
        assert!(
            parse_name_map::<u32>("openai")
                .unwrap_err()
                .contains("NAME=VALUE")
        );
        assert!(
            parse_name_map::<u32>("openai=x")
                .unwrap_err()
                .starts_with("openai")
        );
        let b =
            parse_name_map::<BreakerSpec>("gemini=3/30s, openai=5/1s..60s, custom=2/2s").unwrap();
        assert_eq!(b.0["gemini"].open_for, Duration::from_secs(30));
        assert_eq!(b.0["gemini"].first_retry, BreakerSpec::FIRST_RETRY);
        assert_eq!(b.0["openai"].first_retry, Duration::from_secs(1));
        assert_eq!(b.0["openai"].open_for, Duration::from_secs(60));
        assert_eq!(
            b.0["custom"].first_retry,
            Duration::from_secs(2),
            "never past the longest"
        );
        let err = "1/9s..3s".parse::<BreakerSpec>().unwrap_err();
        assert!(err.contains("later than the longest"), "{err}");
    }

    #[test]
    fn per_provider_settings_name_real_providers_and_real_limits() {
        assert_eq!(
            parse_provider_limits("openai=20,Custom=8").unwrap().0["custom"],
            8
        );
        assert_eq!(
            parse_provider_limits("clink=2,xai=4").unwrap().0["clink"],
            2
        );
        assert!(parse_provider_map::<BreakerSpec>("clink=3/30s").is_err());
        let err = parse_provider_limits("nosuch=3").unwrap_err();
        assert!(
            err.contains("'nosuch'") && err.contains("simulated"),
            "{err}"
        );
        assert!(
            parse_provider_limits("simulated=0")
                .unwrap_err()
                .contains("1 or more")
        );
        assert!(parse_provider_map::<BreakerSpec>("gemni=3/30s").is_err());
        assert!(parse_connect_timeouts("custom=2s").is_ok());
        assert!(
            parse_connect_timeouts("custom=0s")
                .unwrap_err()
                .contains("every connect")
        );
        assert!(parse_connect_timeouts("simulated=1s").is_err());
    }

    #[test]
    fn fault_kinds_are_checked_so_a_typo_is_not_a_silent_no_op() {
        let f = parse_faults("429=0.05, HANG=0.01").unwrap();
        assert_eq!(f.0.len(), 2);
        let err = parse_faults("timeout=0.1").unwrap_err();
        assert!(
            err.contains("'timeout'") && err.contains("hang, 429, 500, slow"),
            "{err}"
        );
        assert!(
            parse_faults("500=0.7,429=0.6")
                .unwrap_err()
                .contains("at most 1")
        );
        assert!(parse_faults("").unwrap().0.is_empty());
    }

    #[test]
    fn bind_addresses_default_to_loopback() {
        assert_eq!(
            parse_bind_addr("8931").unwrap().to_string(),
            "127.0.0.1:8931"
        );
        assert_eq!(
            parse_bind_addr("localhost:1").unwrap().to_string(),
            "127.0.0.1:1"
        );
        assert!(parse_bind_addr("nowhere").is_err());
    }

    #[test]
    fn switches_read_as_people_write_them_and_nonsense_is_refused() {
        for on in ["1", "true", "YES", "on", " y "] {
            assert_eq!(parse_switch(on), Ok(true), "{on}");
        }
        for off in ["0", "false", "No", "off", ""] {
            assert_eq!(parse_switch(off), Ok(false), "{off}");
        }
        let err = parse_switch("maybe").unwrap_err();
        assert!(err.contains("'maybe'") && err.contains("1/0"), "{err}");
    }
}
