//! LOW item: the provider-key scrub matched the exact key only, so a provider error that echoed
//! the key cut short or percent-encoded reached the client and the logs. A hostile provider
//! here echoes the key in each of those forms; zen's answer and its log never carry it.
use std::time::Duration;

use serde_json::json;

use super::within;
use crate::hostile_server::{Hostile, Reply};
use crate::util::{call, is_error, stdio_zen, text};

const KEY: &str = "sk-Zq8/Xy+Wv7Ut6Sr5Qp4On3Ml2Kj1Ih0";

#[tokio::test]
async fn a_provider_echoing_the_key_cut_short_or_encoded_never_shows_it() {
    let hostile = Hostile::start(Reply::ServerError(String::new())).await;
    let env = [
        ("CUSTOM_API_URL", hostile.url.as_str()),
        ("CUSTOM_API_KEY", KEY),
        ("ZEN_MAX_RETRIES", "1"),
        ("ZEN_BREAKERS", "custom=1000/1s"),
    ];
    let zen = stdio_zen(&[], &env).await;
    let echoes = [
        KEY.to_string(),
        KEY[..16].to_string(),
        KEY[12..].to_string(),
        "sk-Zq8%2FXy%2BWv7Ut6Sr5".to_string(),
        "Zq8%2fXy%2bWv7Ut6".to_string(),
    ];
    for echo in &echoes {
        hostile.set(Reply::ServerError(format!(
            "invalid api key {echo} for this org"
        )));
        let r = within(
            "a chat",
            Duration::from_secs(30),
            call(&zen.client, "chat", json!({"prompt": "hi"})),
        )
        .await;
        let answer = text(&r);
        assert!(is_error(&r), "{answer}");
        assert!(answer.contains("[redacted]"), "{answer}");
        assert!(!answer.contains(echo.as_str()), "the key leaked: {answer}");
    }
    let log = zen.stderr.text();
    for echo in &echoes {
        assert!(
            !log.contains(echo.as_str()),
            "the key leaked into the log: {log}"
        );
    }
}
