use super::*;

#[test]
fn rates_use_whole_seconds_only() {
    let mut ring = RateRing::new();
    for sec in 0..20 {
        for _ in 0..10 {
            ring.add(sec, sec % 2 == 0);
        }
    }
    ring.add(20, false); // the current, partial second is not counted
    assert_eq!(ring.rate(20, 1), (10.0, 0.0)); // second 19 is odd: no errors
    assert_eq!(ring.rate(20, 10), (10.0, 5.0));
    assert_eq!(ring.rate(20, 60), (10.0, 5.0)); // only 20 seconds so far
    assert_eq!(ring.rate(0, 10), (0.0, 0.0));
    // Long after, stale slots do not count.
    assert_eq!(ring.rate(200, 60), (0.0, 0.0));
}

#[test]
fn series_count_errors_by_kind() {
    let m = Metrics::new(&["chat"], &["simulated"]);
    let first = m.begin_tool("chat");
    assert_eq!(m.tool_stats()["chat"].in_flight, 1);
    first.finish(CallOutcome::Ok);
    m.begin_tool("chat").finish(CallOutcome::Rejected);
    drop(m.begin_tool("chat")); // cancelled: counted as a timeout
    let s = &m.tool_stats()["chat"];
    assert_eq!((s.total_operations, s.total_errors), (3, 2));
    assert_eq!((s.errors.rejected, s.errors.timeout), (1, 1));
    // The failed calls' latency is kept per kind, so an export can give durations an error.type.
    let kinds: Vec<&str> = s.failed_hdr.keys().map(String::as_str).collect();
    assert_eq!(kinds, ["rejected", "timeout"]);
    let rejected = zen_model::hdr::decode(&s.failed_hdr["rejected"]).unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!((s.in_flight, s.peak_in_flight), (0, 1));
    assert!((s.error_rate - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(m.total_stats().total_operations, 3);
}

#[test]
fn tokens_add_up_per_model_and_the_map_is_capped() {
    let m = Metrics::new(&["chat"], &["simulated"]);
    m.record_tokens("simulated", "a", 10, 2);
    m.record_tokens("simulated", "a", 5, 1);
    for i in 0..MAX_TOKEN_SERIES + 5 {
        m.record_tokens("simulated", &format!("m{i}"), 1, 1);
    }
    let t = m.token_stats();
    assert_eq!(t.len(), MAX_TOKEN_SERIES + 1, "the cap plus `other`");
    let a = t.iter().find(|t| t.model == "a").unwrap();
    assert_eq!((a.prompt_tokens, a.completion_tokens), (15, 3));
    let other = t.iter().find(|t| t.model == "other").unwrap();
    assert_eq!(
        other.prompt_tokens, 6,
        "nothing dropped: counted under other"
    );
}
