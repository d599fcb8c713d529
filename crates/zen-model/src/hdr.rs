//! Latency histograms and their one text form. Every histogram zen records is in µs from 1 µs to
//! one hour at 3 significant digits, so any two add. The text form is HdrHistogram's V2 deflate
//! encoding in base64 (the format every HdrHistogram library reads, a few hundred bytes), the
//! same in snapshots and reports; the empty string is the empty histogram, both ways.
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};

/// Highest value a histogram holds: one hour in µs.
const MAX_US: u64 = 3_600_000_000;

/// A latency histogram in µs from 1 µs to 1 hour at 3 significant digits. Its counts array is
/// allocated zeroed up front, so untouched buckets cost no resident memory.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds")
}

/// Why a histogram's text could not be read back.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The text is not base64.
    #[error("the histogram is not base64")]
    NotBase64,
    /// The bytes are not an HdrHistogram V2 (deflate) serialisation.
    #[error("the histogram is not HDR V2 deflate data: {0}")]
    NotHdr(String),
    /// A value lies outside zen's bounds, so it could not be added to zen's histograms.
    #[error("the histogram does not fit zen's bounds (1 µs to 1 h): {0}")]
    OutOfBounds(String),
}

/// The histogram as base64 of its V2 deflate serialisation; empty for an empty histogram.
pub fn encode(h: &Histogram<u64>) -> String {
    if h.is_empty() {
        return String::new();
    }
    let mut bytes = Vec::new();
    match V2DeflateSerializer::new().serialize(h, &mut bytes) {
        Ok(_) => STANDARD.encode(bytes),
        // Only an I/O error on a Vec, which cannot happen.
        Err(_) => String::new(),
    }
}

/// The histogram back from [`encode`]'s text, with zen's bounds so histograms add; the empty
/// string (or only white space) is the empty histogram.
pub fn decode(text: &str) -> Result<Histogram<u64>, DecodeError> {
    let text = text.trim();
    let mut h = new_histogram();
    if text.is_empty() {
        return Ok(h);
    }
    let bytes = STANDARD.decode(text).map_err(|_| DecodeError::NotBase64)?;
    let read: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| DecodeError::NotHdr(format!("{e:?}")))?;
    h.add(&read)
        .map_err(|e| DecodeError::OutOfBounds(format!("{e:?}")))?;
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_round_trips_compactly() {
        let mut h = new_histogram();
        for v in 1..5000u64 {
            h.record(v * 37).unwrap();
        }
        let text = encode(&h);
        assert!(text.len() < 8000, "{} bytes", text.len());
        let back = decode(&text).unwrap();
        assert_eq!(back.len(), h.len());
        assert_eq!(back.value_at_quantile(0.99), h.value_at_quantile(0.99));
    }

    #[test]
    fn empty_is_the_empty_string_both_ways() {
        assert_eq!(encode(&new_histogram()), "");
        assert!(decode("").unwrap().is_empty());
        assert!(decode("  \n").unwrap().is_empty());
    }

    #[test]
    fn garbage_is_an_error_that_says_what_it_is() {
        assert_eq!(decode("not base64!").unwrap_err(), DecodeError::NotBase64);
        assert!(matches!(decode("aGVsbG8="), Err(DecodeError::NotHdr(_))));
    }
}
