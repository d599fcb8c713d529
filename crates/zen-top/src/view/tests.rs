//! Snapshot tests: the whole screen and each panel, drawn from fixed fixtures into a TestBackend.
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

use super::*;
use crate::fixtures;
use crate::input::Action;

fn screen(state: &State, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| draw(frame, state)).unwrap();
    terminal.backend().to_string()
}

fn panel(state: &State, width: u16, height: u16, render: fn(&mut Frame, Rect, &State)) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| render(frame, frame.area(), state))
        .unwrap();
    terminal.backend().to_string()
}

/// Whole screen at both sizes.
fn both_sizes(name: &str, state: &State) {
    insta::assert_snapshot!(format!("screen_{name}_80x24"), screen(state, 80, 24));
    insta::assert_snapshot!(format!("screen_{name}_160x48"), screen(state, 160, 48));
}

#[test]
fn screen_empty_server() {
    both_sizes("empty", &fixtures::empty());
}

#[test]
fn screen_steady_traffic() {
    both_sizes("steady", &fixtures::steady());
}

#[test]
fn screen_saturated_pools() {
    both_sizes("saturated", &fixtures::saturated());
}

#[test]
fn screen_high_error_rate() {
    both_sizes("high_errors", &fixtures::high_errors());
}

#[test]
fn screen_disconnected() {
    both_sizes("disconnected", &fixtures::disconnected());
}

#[test]
fn screen_connecting_before_any_data() {
    both_sizes("connecting", &fixtures::connecting());
}

#[test]
fn screen_with_a_load_run() {
    both_sizes("run", &fixtures::with_run());
}

#[test]
fn screen_paused_with_help_and_focus_on_tools() {
    let mut state = fixtures::steady();
    for action in [
        Action::TogglePause,
        Action::FocusNext,
        Action::FocusNext,
        Action::ToggleHelp,
    ] {
        state.apply(action);
    }
    both_sizes("paused_help", &state);
}

#[test]
fn screen_tiny_terminal_does_not_panic() {
    let state = fixtures::high_errors();
    for (w, h) in [(1, 1), (10, 5), (20, 8), (40, 12), (300, 100)] {
        screen(&state, w, h);
    }
    let mut help = state.clone();
    help.apply(Action::ToggleHelp);
    for (w, h) in [(1, 1), (3, 3), (10, 5)] {
        screen(&help, w, h);
    }
}

#[test]
fn panel_header() {
    insta::assert_snapshot!(
        "header_steady",
        panel(&fixtures::steady(), 100, 2, header::render)
    );
    insta::assert_snapshot!(
        "header_disconnected",
        panel(&fixtures::disconnected(), 100, 2, header::render)
    );
    insta::assert_snapshot!(
        "header_breaker_open",
        panel(&fixtures::high_errors(), 100, 2, header::render)
    );
    insta::assert_snapshot!(
        "header_run",
        panel(&fixtures::with_run(), 100, 3, header::render)
    );
}

#[test]
fn panel_header_of_two_instances_shows_each_and_the_cluster_totals() {
    let state = fixtures::cluster();
    assert_eq!(header::height(&state), 5);
    let text = panel(&state, 120, 5, header::render);
    assert!(
        text.contains("limits redis shared: 20 leases in cluster, 12 here"),
        "{text}"
    );
    insta::assert_snapshot!("header_cluster", text);
}

#[test]
fn panel_throughput() {
    insta::assert_snapshot!(
        "throughput_steady",
        panel(&fixtures::steady(), 60, 10, throughput::render)
    );
    insta::assert_snapshot!(
        "throughput_high_errors",
        panel(&fixtures::high_errors(), 60, 10, throughput::render)
    );
    insta::assert_snapshot!(
        "throughput_empty",
        panel(&fixtures::empty(), 60, 6, throughput::render)
    );
}

#[test]
fn panel_latency() {
    insta::assert_snapshot!(
        "latency_chart_saturated",
        panel(&fixtures::saturated(), 60, 12, latency::render_chart)
    );
    insta::assert_snapshot!(
        "latency_distribution_steady",
        panel(&fixtures::steady(), 40, 12, latency::render_distribution)
    );
    // Fewer rows than buckets: the slow tail is gathered in the last row.
    insta::assert_snapshot!(
        "latency_distribution_squeezed",
        panel(&fixtures::saturated(), 40, 5, latency::render_distribution)
    );
    insta::assert_snapshot!(
        "latency_empty",
        panel(&fixtures::empty(), 80, 8, latency::render)
    );
}

#[test]
fn panel_tools() {
    let mut state = fixtures::high_errors();
    insta::assert_snapshot!("tools_high_errors", panel(&state, 60, 8, tools::render));
    state.apply(Action::CycleSort);
    state.apply(Action::ReverseSort);
    insta::assert_snapshot!(
        "tools_by_error_reversed",
        panel(&state, 60, 8, tools::render)
    );
    insta::assert_snapshot!(
        "tools_empty",
        panel(&fixtures::empty(), 60, 8, tools::render)
    );
}

#[test]
fn panel_pools() {
    insta::assert_snapshot!(
        "pools_saturated",
        panel(&fixtures::saturated(), 50, 8, pools::render)
    );
    insta::assert_snapshot!(
        "pools_breaker_open",
        panel(&fixtures::high_errors(), 50, 10, pools::render)
    );
}

#[test]
fn panel_memory() {
    insta::assert_snapshot!(
        "memory_steady",
        panel(&fixtures::steady(), 100, 7, memory::render)
    );
    insta::assert_snapshot!(
        "memory_pressure",
        panel(&fixtures::high_errors(), 100, 7, memory::render)
    );
}

#[test]
fn panel_help() {
    insta::assert_snapshot!(
        "help",
        panel(&fixtures::steady(), 70, 16, |f, area, _| help::render(
            f, area
        ))
    );
}

#[test]
fn formats_are_short() {
    assert_eq!(fmt_ms(0.0), "0ms");
    assert_eq!(fmt_ms(0.001), "<0.01ms");
    assert_eq!(fmt_ms(0.123), "0.12ms");
    assert_eq!(fmt_ms(3.44), "3.4ms");
    assert_eq!(fmt_ms(201.7), "202ms");
    assert_eq!(fmt_ms(1234.0), "1.2s");
    assert_eq!(fmt_ms(42_000.0), "42s");
    assert_eq!(fmt_ms(300_000.0), "5.0m");
    assert_eq!(fmt_bytes(512), "512 B");
    assert_eq!(fmt_bytes(6656), "6.5 KiB");
    assert_eq!(fmt_bytes(2 * 1024 * 1024 * 1024), "2 GiB");
    assert_eq!(fmt_count(9999), "9999");
    assert_eq!(fmt_count(12_345), "12.3k");
    assert_eq!(fmt_count(4_500_000), "4.5M");
    assert_eq!(fmt_duration(42.9), "42s");
    assert_eq!(fmt_duration(725.0), "12m05s");
    assert_eq!(fmt_duration(3.0 * 3600.0 + 120.0), "3h02m");
    assert_eq!(fmt_duration(2.0 * 86_400.0 + 3.0 * 3600.0), "2d03h");
}
