//! Reading what a provider sends back as hostile input: a body is read in chunks up to a cap
//! (an endless reply once took zen to 22 GB), and `Retry-After` is parsed without trusting it
//! (`inf` used to panic the conversion to a Duration).
use std::time::{Duration, SystemTime};

use reqwest::Response;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// Why a body could not be read whole.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The body is longer than the cap (announced or seen); reading stopped there.
    TooLarge,
    /// The connection failed mid-body.
    Broken(reqwest::Error),
}

/// Read the whole body, refusing one longer than `cap` bytes: a Content-Length over the cap is
/// refused before reading, and a body that keeps coming is cut off at the cap. Never holds
/// more than `cap` bytes plus one network chunk; the response (and so its connection) is
/// dropped on return.
pub(crate) async fn read_capped(mut response: Response, cap: u64) -> Result<Vec<u8>, ReadError> {
    if response.content_length().is_some_and(|n| n > cap) {
        return Err(ReadError::TooLarge);
    }
    match read_up_to(&mut response, cap).await {
        Ok((body, true)) => Ok(body),
        Ok((_, false)) => Err(ReadError::TooLarge),
        Err(e) => Err(ReadError::Broken(e)),
    }
}

/// Read at most `cap` bytes of the body and drop the rest: enough of an error reply to quote.
pub(crate) async fn read_prefix(
    mut response: Response,
    cap: u64,
) -> Result<Vec<u8>, reqwest::Error> {
    read_up_to(&mut response, cap).await.map(|(body, _)| body)
}

/// Up to `cap` bytes of the body, and whether that was all of it.
async fn read_up_to(response: &mut Response, cap: u64) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    // A small start: an announced length is only a claim, so it never sizes more than the cap.
    let announced = response.content_length().unwrap_or(0);
    let mut body = Vec::with_capacity(
        usize::try_from(announced)
            .unwrap_or(0)
            .min(cap)
            .min(1 << 20),
    );
    while let Some(chunk) = response.chunk().await? {
        let room = cap - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, false));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, true))
}

/// The provider's `Retry-After`, when it is a usable wait: delta-seconds (a decimal is
/// tolerated) or an HTTP-date. Negative, non-finite or unreadable values are ignored; a wait too
/// long for a Duration saturates (the caller's cap then refuses it). A date in the past is zero.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

/// `retry_after` on the header's text, with the clock passed in for tests.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        if !secs.is_finite() || secs < 0.0 {
            return None;
        }
        return Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
    }
    // Digits too many for an f64 do not reach here (they parse as a large finite number).
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use reqwest::header::HeaderValue;

    fn at(value: &str) -> Option<Duration> {
        // 2015-10-21 07:28:00 GMT, a fixed "now" for the date form.
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        parse_retry_after(value, now)
    }

    #[test]
    fn retry_after_inf_or_1e30_is_ignored_or_saturated_never_a_panic() {
        assert_eq!(at("7"), Some(Duration::from_secs(7)));
        assert_eq!(at(" 1.5 "), Some(Duration::from_millis(1500)));
        assert_eq!(at("3600"), Some(Duration::from_secs(3600)));
        assert_eq!(at("1e30"), Some(Duration::MAX));
        assert_eq!(at("99999999999999999999999"), Some(Duration::MAX));
        for ignored in ["inf", "-inf", "NaN", "-1", "-0.5", "", "soon", "7 s"] {
            assert_eq!(at(ignored), None, "{ignored:?}");
        }
    }

    #[test]
    fn retry_after_reads_http_dates_and_a_past_date_is_now() {
        assert_eq!(
            at("Wed, 21 Oct 2015 07:29:00 GMT"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(at("Wed, 21 Oct 2015 07:00:00 GMT"), Some(Duration::ZERO));
        assert!(at("Fri, 31 Dec 9999 23:59:59 GMT").unwrap() > Duration::from_secs(1 << 30));
        assert_eq!(at("Wed, 99 Oct 2015 07:29:00 GMT"), None);
    }

    proptest! {
        #[test]
        fn no_retry_after_header_can_panic_the_parser(
            text in "\\PC{0,40}",
            // Numbers of every size and sign, and the float words (inf, NaN) Rust parses.
            numeric in "[ ]?[-+]?([0-9]{1,25}(\\.[0-9]{0,4})?([eE][-+]?[0-9]{1,3})?|inf|infinity|NaN|INF)[ ]?",
            date in "[A-Za-z]{3}, [0-9]{1,2} [A-Za-z]{3} [0-9]{1,5} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT",
            raw in proptest::collection::vec(any::<u8>(), 0..48),
        ) {
            let _ = at(&text);
            let _ = at(&numeric);
            let _ = at(&date);
            if let Ok(value) = HeaderValue::from_bytes(&raw) {
                let mut headers = HeaderMap::new();
                headers.insert(RETRY_AFTER, value);
                let _ = retry_after(&headers);
            }
        }
    }
}
