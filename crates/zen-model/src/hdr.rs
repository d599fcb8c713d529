//! Latency histograms and their one text form. Every histogram zen records is in µs from 1 µs to
//! one hour at 3 significant digits, so any two add. The text form is HdrHistogram's V2 deflate
//! encoding in base64 (the format every HdrHistogram library reads, a few hundred bytes), the
//! same in snapshots and reports; the empty string is the empty histogram, both ways.
use std::io::Read;

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
/// string (or only white space) is the empty histogram. The text comes from files and peers,
/// so its headers are checked before anything is sized from them ([`checked_v2`]).
pub fn decode(text: &str) -> Result<Histogram<u64>, DecodeError> {
    let text = text.trim();
    let mut h = new_histogram();
    if text.is_empty() {
        return Ok(h);
    }
    if text.len() > MAX_TEXT_CHARS {
        return Err(DecodeError::NotHdr(format!(
            "{} characters of text, more than any histogram zen reads ({MAX_TEXT_CHARS})",
            text.len()
        )));
    }
    let bytes = STANDARD.decode(text).map_err(|_| DecodeError::NotBase64)?;
    let v2 = checked_v2(&bytes)?;
    let read: Histogram<u64> = Deserializer::new()
        .deserialize(&mut v2.as_slice())
        .map_err(|e| DecodeError::NotHdr(format!("{e:?}")))?;
    h.add(&read)
        .map_err(|e| DecodeError::OutOfBounds(format!("{e:?}")))?;
    Ok(h)
}

/// Longest histogram text decoded (zen's are a few hundred bytes).
const MAX_TEXT_CHARS: usize = 4 * 1024 * 1024;
/// Largest uncompressed V2 form decoded (a zen histogram's counts take well under 1 MiB).
const MAX_V2_BYTES: usize = 4 * 1024 * 1024;
/// Highest `highest trackable value` accepted from a header: its counts array is allocated
/// from it (2^40 µs is 12 days; zen's is an hour).
const MAX_HIGH: u64 = 1 << 40;
/// The V2 cookies (HdrHistogram's, with the 0x10 word-size bits every library writes).
const V2_COOKIE: u32 = 0x1c84_9313;
const V2_DEFLATE_COOKIE: u32 = 0x1c84_9314;
/// Bytes of a V2 header: cookie, payload length, offset, digits, low, high, ratio.
const V2_HEADER: usize = 40;

/// The uncompressed V2 form of `bytes` (V2 or V2 deflate), with its header checked: the
/// library sizes a buffer from the declared payload length (a 40-byte bomb asked for 2 GiB)
/// and the counts from the declared range and digits, so those are bounded first.
fn checked_v2(bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let bad = |why: &str| DecodeError::NotHdr(why.to_string());
    let be32 = |b: &[u8], at: usize| {
        b.get(at..at + 4)
            .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    };
    let v2 = match be32(bytes, 0) {
        Some(V2_COOKIE) => bytes.to_vec(),
        Some(V2_DEFLATE_COOKIE) => {
            let len = be32(bytes, 4).ok_or_else(|| bad("truncated header"))? as usize;
            let data = bytes
                .get(8..8 + len)
                .ok_or_else(|| bad("truncated payload"))?;
            let mut out = Vec::new();
            let mut inflate = flate2::read::ZlibDecoder::new(data).take(MAX_V2_BYTES as u64 + 1);
            inflate
                .read_to_end(&mut out)
                .map_err(|e| bad(&format!("bad deflate data ({e})")))?;
            if out.len() > MAX_V2_BYTES {
                return Err(bad("it inflates past 4 MiB"));
            }
            out
        }
        _ => return Err(bad("unknown cookie")),
    };
    if v2.len() < V2_HEADER || be32(&v2, 0) != Some(V2_COOKIE) {
        return Err(bad("truncated or foreign V2 header"));
    }
    let payload = be32(&v2, 4).unwrap_or(0) as usize;
    let digits = be32(&v2, 12).unwrap_or(0);
    let be64 = |at: usize| u64::from_be_bytes(v2[at..at + 8].try_into().unwrap_or([0; 8]));
    let (low, high) = (be64(16), be64(24));
    if payload > v2.len() - V2_HEADER {
        return Err(bad("its payload is shorter than its header says"));
    }
    if digits > 5 || low == 0 || high > MAX_HIGH || high < low.saturating_mul(2) {
        return Err(DecodeError::OutOfBounds(format!(
            "declared range {low}..{high} at {digits} digits"
        )));
    }
    Ok(v2)
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

    /// A V2 deflate text whose inner header declares these figures, with no payload.
    fn forged(payload_len: u32, digits: u32, low: u64, high: u64) -> String {
        use std::io::Write;
        let mut inner = Vec::new();
        for word in [V2_COOKIE, payload_len, 0, digits] {
            inner.extend_from_slice(&word.to_be_bytes());
        }
        inner.extend_from_slice(&low.to_be_bytes());
        inner.extend_from_slice(&high.to_be_bytes());
        inner.extend_from_slice(&1.0f64.to_be_bytes());
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&inner).unwrap();
        let data = z.finish().unwrap();
        let mut outer = V2_DEFLATE_COOKIE.to_be_bytes().to_vec();
        outer.extend_from_slice(&(data.len() as u32).to_be_bytes());
        outer.extend_from_slice(&data);
        STANDARD.encode(outer)
    }

    #[test]
    fn forged_headers_are_refused_before_anything_is_sized_from_them() {
        // The library would have resized a buffer to the declared 2 GiB payload.
        let bomb = forged(i32::MAX as u32, 3, 1, MAX_US);
        assert!(matches!(decode(&bomb), Err(DecodeError::NotHdr(_))));
        // ...or allocated counts for a range up to 2^62 at 5 digits.
        let wide = forged(0, 5, 1, 1 << 62);
        assert!(matches!(decode(&wide), Err(DecodeError::OutOfBounds(_))));
        // A header within bounds and an empty payload is an empty histogram.
        assert!(decode(&forged(0, 3, 1, MAX_US)).unwrap().is_empty());
    }

    #[test]
    fn garbage_is_an_error_that_says_what_it_is() {
        assert_eq!(decode("not base64!").unwrap_err(), DecodeError::NotBase64);
        assert!(matches!(decode("aGVsbG8="), Err(DecodeError::NotHdr(_))));
    }
}
