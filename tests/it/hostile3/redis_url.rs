//! LOW item: Redis passwords showed in startup errors when given as `redis://PASS@host` or
//! `?pass=`. zen serve is started here against a Redis that is not there, with the password in
//! every spelling, for both users of Redis: it exits 2 naming the host, never the password.
use crate::util::zen_output;

#[tokio::test]
async fn redis_passwords_in_any_spelling_stay_out_of_startup_errors() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let urls = [
        format!("redis://Pw0rdSecret@127.0.0.1:{port}/"),
        format!("redis://127.0.0.1:{port}/?pass=Pw0rdSecret"),
        format!("redis://127.0.0.1:{port}/?password=Pw0rdSecret"),
        format!("redis://:Pw0rdSecret@127.0.0.1:{port}/"),
        format!("redis://user:Pw0rdSecret@127.0.0.1:{port}/?password=Pw0rdSecret"),
    ];
    for url in &urls {
        for variable in ["ZEN_STORE", "ZEN_SHARED_LIMITS"] {
            let (code, out, err) =
                zen_output(&["serve", "--no-telemetry"], &[(variable, url.as_str())]).await;
            assert_eq!(code, 2, "{variable}={url}: {err}");
            assert!(
                !err.contains("Pw0rdSecret") && !out.contains("Pw0rdSecret"),
                "{variable}={url}: the password leaked: {err}"
            );
        }
    }
}
