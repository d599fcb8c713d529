//! Keeping the API key out of what zen shows: providers echo keys back in error bodies, whole,
//! cut short or percent-encoded.

/// The shortest piece of a key hidden when it is echoed cut short (a random key shares no run
/// this long with ordinary text).
const MIN_ECHO: usize = 10;

/// `text` with `key` hidden: whole, percent-encoded, or any piece of it of [`MIN_ECHO`]
/// characters or more (a provider that echoes the key cut short, or URL-encoded).
/// Quadratic in the lengths, for error messages of at most a few hundred characters.
pub(super) fn scrub_key(text: &str, key: &str) -> String {
    let encoded = |upper: bool| -> String {
        key.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    char::from(b).to_string()
                } else if upper {
                    format!("%{b:02X}")
                } else {
                    format!("%{b:02x}")
                }
            })
            .collect()
    };
    let mut text = text.to_string();
    for form in [key.to_string(), encoded(true), encoded(false)] {
        text = hide_pieces(&text, form.as_bytes());
    }
    text
}

/// Replace every run of at least [`MIN_ECHO`] bytes of `text` that occurs in `secret`.
fn hide_pieces(text: &str, secret: &[u8]) -> String {
    let t = text.as_bytes();
    if secret.len() < MIN_ECHO {
        return text.to_string();
    }
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        let longest = (0..secret.len())
            .map(|j| {
                t[i..]
                    .iter()
                    .zip(&secret[j..])
                    .take_while(|(a, b)| a == b)
                    .count()
            })
            .max()
            .unwrap_or(0);
        if longest >= MIN_ECHO {
            out.extend_from_slice(b"[redacted]");
            i += longest;
        } else {
            out.push(t[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_echoed_whole_cut_short_or_percent_encoded_is_hidden() {
        let key = "sk-Zq8/Xy+Wv7Ut6Sr5Qp4On3Ml2Kj1";
        for echo in [
            key.to_string(),
            key[..14].to_string(),
            key[10..].to_string(),
            "sk-Zq8%2FXy%2BWv7Ut6Sr5Qp4On3".to_string(),
            "Zq8%2fXy%2bWv7".to_string(),
        ] {
            let got = scrub_key(&format!("invalid key '{echo}', check it"), key);
            assert!(
                got.contains("[redacted]") && !got.contains(&echo),
                "{echo}: {got}"
            );
            assert!(
                got.starts_with("invalid key '") && got.ends_with("', check it"),
                "{got}"
            );
        }
        assert_eq!(scrub_key("provider busy", key), "provider busy");
    }
}
