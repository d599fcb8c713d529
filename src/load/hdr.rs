//! Full latency histograms in reports: HDR histogram V2 format, deflated, base64 (a few hundred
//! bytes), so a report can be merged, compared or re-read exactly, not only as percentiles.
use anyhow::{Context, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};

/// The histogram as base64 of its V2 deflate serialisation.
pub fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    // Serialising into a Vec cannot fail for a histogram we built ourselves.
    if V2DeflateSerializer::new().serialize(h, &mut bytes).is_err() {
        return String::new();
    }
    STANDARD.encode(bytes)
}

/// The histogram back from [`encode`]'s text, with zen's usual bounds so histograms add.
pub fn decode(text: &str) -> Result<Histogram<u64>> {
    let bytes = STANDARD
        .decode(text.trim())
        .context("the histogram is not base64")?;
    let read: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| anyhow::anyhow!("the histogram is not HDR V2 deflate data: {e:?}"))?;
    let mut h = crate::snapshot::new_histogram();
    h.add(&read)
        .map_err(|e| anyhow::anyhow!("the histogram does not fit zen's bounds: {e:?}"))?;
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_round_trips_compactly() {
        let mut h = crate::snapshot::new_histogram();
        for v in 1..5000u64 {
            h.record(v * 37).unwrap();
        }
        let text = encode(&h);
        assert!(text.len() < 8000, "{} bytes", text.len());
        let back = decode(&text).unwrap();
        assert_eq!(back.len(), h.len());
        assert_eq!(back.value_at_quantile(0.99), h.value_at_quantile(0.99));
    }
}
