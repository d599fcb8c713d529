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

use super::*;

#[test]
fn usage_is_read_when_both_counts_are_there() {
    let reply = serde_json::json!({"usage": {"prompt_tokens": 12, "completion_tokens": 5}});
    assert_eq!(
        usage(&reply),
        Some(Usage {
            prompt_tokens: 12,
            completion_tokens: 5
        })
    );
    assert_eq!(
        usage(&serde_json::json!({"usage": {"prompt_tokens": 1}})),
        None
    );
    assert_eq!(usage(&serde_json::json!({})), None);
}
