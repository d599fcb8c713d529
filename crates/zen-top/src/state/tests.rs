use super::*;
use crate::fixtures::{self, Timeline};
use zen_model::feed::Connection;

#[test]
fn pausing_freezes_the_view_while_updates_keep_coming() {
    let mut state = fixtures::steady();
    let before = state.latest.clone().unwrap();
    let end = state.end_ms();
    state.apply(Action::TogglePause);
    let mut tl = Timeline::new();
    tl.snap = before.clone();
    tl.calls("chat", 10, 0, 5.0);
    let newer = tl.tick(1000);
    state.ingest(&Feed {
        snapshot: Some(newer.clone()),
        connection: Connection::Connected,
        run: None,
        instances: Vec::new(),
    });
    assert_eq!(state.shown(), Some(&before));
    assert_eq!(state.end_ms(), end);
    assert_eq!(
        state.history.last().unwrap().t_ms,
        newer.taken_at_ms,
        "still recorded"
    );
    state.apply(Action::TogglePause);
    assert_eq!(state.shown(), Some(&newer));
}

#[test]
fn keys_move_window_focus_sort_and_scroll_within_bounds() {
    let mut state = fixtures::steady();
    assert_eq!(state.window_secs(), 60);
    for _ in 0..20 {
        state.apply(Action::WiderWindow);
    }
    assert_eq!(state.window_secs(), 3600);
    for _ in 0..20 {
        state.apply(Action::NarrowerWindow);
    }
    assert_eq!(state.window_secs(), 30);
    assert_eq!(state.focus, Panel::Throughput);
    state.apply(Action::FocusPrev);
    assert_eq!(state.focus, Panel::Memory);
    state.apply(Action::FocusNext);
    state.apply(Action::FocusNext);
    assert_eq!(state.focus, Panel::Latency);
    state.apply(Action::ScrollDown);
    assert_eq!(
        (state.tools_scroll, state.pools_scroll),
        (0, 0),
        "only tools and pools scroll"
    );
    state.apply(Action::FocusNext);
    state.apply(Action::ScrollDown);
    state.apply(Action::ScrollDown);
    state.apply(Action::ScrollUp);
    assert_eq!(state.tools_scroll, 1);
    assert_eq!(state.apply(Action::Quit), Flow::Quit);
    assert_eq!(state.apply(Action::ToggleHelp), Flow::Continue);
    assert_eq!(state.mode(), Mode::Help);
}

#[test]
fn the_tool_table_sorts_by_each_column_and_reverses() {
    let mut state = fixtures::steady();
    let names = |s: &State| {
        s.sorted_tools()
            .iter()
            .map(|t| t.0.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(state.sort, SortKey::Calls);
    assert_eq!(names(&state), ["chat", "listmodels", "metrics", "version"]);
    state.apply(Action::ReverseSort);
    assert_eq!(names(&state), ["version", "metrics", "listmodels", "chat"]);
    state.apply(Action::ReverseSort);
    state.apply(Action::CycleSort); // error %
    assert_eq!(names(&state)[0], "chat");
    for _ in 0..4 {
        state.apply(Action::CycleSort);
    }
    assert_eq!(state.sort, SortKey::Name);
    assert_eq!(names(&state), ["chat", "listmodels", "metrics", "version"]);
    state.apply(Action::CycleSort);
    assert_eq!(state.sort, SortKey::Calls, "the sort cycles");
}
