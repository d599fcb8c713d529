//! Keys to actions: a pure mapping, so it is tested without a terminal.
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What the dashboard shows on top of the panels; keys mean different things in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Mode {
    /// The panels.
    #[default]
    Normal,
    /// The help overlay is open.
    Help,
}

/// Something the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Quit,
    TogglePause,
    /// Show more time (`+`).
    WiderWindow,
    /// Show less time (`-`).
    NarrowerWindow,
    FocusNext,
    FocusPrev,
    /// Next sort column of the tool table.
    CycleSort,
    /// Ascending / descending.
    ReverseSort,
    ToggleHelp,
    ScrollUp,
    ScrollDown,
}

/// Map one key event to an action. Release and repeat events of keyboards that report them are
/// ignored (only presses count). In help mode, Esc and `?` close the overlay; q and Ctrl-C quit.
pub(crate) fn key_to_action(key: KeyEvent, mode: Mode) -> Option<Action> {
    if key.kind != KeyEventKind::Press {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl {
        return match key.code {
            KeyCode::Char('c' | 'C') => Some(Action::Quit),
            _ => None,
        };
    }
    if mode == Mode::Help {
        return match key.code {
            KeyCode::Char('q' | 'Q') => Some(Action::Quit),
            KeyCode::Esc | KeyCode::Char('?' | 'h') => Some(Action::ToggleHelp),
            _ => None,
        };
    }
    match key.code {
        KeyCode::Char('q' | 'Q') | KeyCode::Esc => Some(Action::Quit),
        KeyCode::Char('p' | 'P' | ' ') => Some(Action::TogglePause),
        // `=` is `+` without shift on most layouts.
        KeyCode::Char('+' | '=') => Some(Action::WiderWindow),
        KeyCode::Char('-' | '_') => Some(Action::NarrowerWindow),
        KeyCode::Tab => Some(Action::FocusNext),
        KeyCode::BackTab => Some(Action::FocusPrev),
        KeyCode::Char('s') => Some(Action::CycleSort),
        KeyCode::Char('S') => Some(Action::ReverseSort),
        KeyCode::Char('?' | 'h') => Some(Action::ToggleHelp),
        KeyCode::Up | KeyCode::Char('k') => Some(Action::ScrollUp),
        KeyCode::Down | KeyCode::Char('j') => Some(Action::ScrollDown),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEventState;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn normal(code: KeyCode) -> Option<Action> {
        key_to_action(key(code), Mode::Normal)
    }

    #[test]
    fn the_documented_keys_map_to_their_actions() {
        assert_eq!(normal(KeyCode::Char('q')), Some(Action::Quit));
        assert_eq!(normal(KeyCode::Esc), Some(Action::Quit));
        assert_eq!(normal(KeyCode::Char('p')), Some(Action::TogglePause));
        assert_eq!(normal(KeyCode::Char(' ')), Some(Action::TogglePause));
        assert_eq!(normal(KeyCode::Char('+')), Some(Action::WiderWindow));
        assert_eq!(normal(KeyCode::Char('=')), Some(Action::WiderWindow));
        assert_eq!(normal(KeyCode::Char('-')), Some(Action::NarrowerWindow));
        assert_eq!(normal(KeyCode::Tab), Some(Action::FocusNext));
        assert_eq!(normal(KeyCode::BackTab), Some(Action::FocusPrev));
        assert_eq!(normal(KeyCode::Char('s')), Some(Action::CycleSort));
        assert_eq!(normal(KeyCode::Char('S')), Some(Action::ReverseSort));
        assert_eq!(normal(KeyCode::Char('?')), Some(Action::ToggleHelp));
        assert_eq!(normal(KeyCode::Up), Some(Action::ScrollUp));
        assert_eq!(normal(KeyCode::Char('j')), Some(Action::ScrollDown));
        assert_eq!(normal(KeyCode::Char('x')), None);
        assert_eq!(normal(KeyCode::Enter), None);
    }

    #[test]
    fn ctrl_c_quits_in_every_mode_and_other_ctrl_keys_do_nothing() {
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(key_to_action(ctrl_c, Mode::Normal), Some(Action::Quit));
        assert_eq!(key_to_action(ctrl_c, Mode::Help), Some(Action::Quit));
        let ctrl_p = KeyEvent::new(KeyCode::Char('p'), KeyModifiers::CONTROL);
        assert_eq!(key_to_action(ctrl_p, Mode::Normal), None);
    }

    #[test]
    fn help_mode_closes_on_esc_and_question_mark_and_swallows_the_rest() {
        let help = |code| key_to_action(key(code), Mode::Help);
        assert_eq!(help(KeyCode::Esc), Some(Action::ToggleHelp));
        assert_eq!(help(KeyCode::Char('?')), Some(Action::ToggleHelp));
        assert_eq!(help(KeyCode::Char('q')), Some(Action::Quit));
        assert_eq!(help(KeyCode::Char('p')), None);
        assert_eq!(help(KeyCode::Tab), None);
    }

    #[test]
    fn only_key_presses_count() {
        let mut release = key(KeyCode::Char('q'));
        release.kind = KeyEventKind::Release;
        assert_eq!(key_to_action(release, Mode::Normal), None);
        let repeat = KeyEvent {
            code: KeyCode::Char('q'),
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Repeat,
            state: KeyEventState::NONE,
        };
        assert_eq!(key_to_action(repeat, Mode::Normal), None);
    }
}
