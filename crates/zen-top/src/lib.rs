//! `zen top`: a live terminal dashboard of a zen serve, in the style of tokio-console.
//!
//! Data flows one way: a producer publishes [`Feed`] values into a `watch` channel (the
//! [`attach`] poller for `zen top`, the load generator for `zen stress --tui` / `zen soak --tui`);
//! [`run_dashboard`] owns the terminal and runs one `select!` loop over input events, feed
//! changes and quit signals, updating the [`state::State`] and drawing exactly once per event.
use std::io::IsTerminal;

use anyhow::{Context, Result, bail};
use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use zen_model::ExitOutcome;
use zen_model::feed::Feed;

mod args;
mod attach;
mod history;
mod input;
mod state;
mod term;
mod view;

#[cfg(test)]
mod fixtures;

pub use args::TopArgs;

use state::{Flow, State};

/// `zen top`: attach to a running zen serve (found by --url, --pid or the discovery directory)
/// and show the dashboard until the user quits or `quit` is cancelled (SIGINT, SIGTERM).
pub async fn run(args: TopArgs, quit: CancellationToken) -> Result<ExitOutcome> {
    let target = attach::resolve(&args)?;
    require_terminal()?;
    tracing::info!(url = %target.url, interval = ?args.interval, "zen top attaching");
    let title = format!("zen top · {}", target.url);
    let (tx, rx) = watch::channel(Feed::default());
    let poller = tokio::spawn(attach::poll(target, args.interval, tx));
    let shown = run_dashboard(rx, title, quit).await;
    // The poller only stops by itself on a setup error (the dashboard then ends: its feed closed).
    if poller.is_finished() {
        poller.await.context("the snapshot poller failed")??;
    } else {
        poller.abort();
    }
    shown?;
    Ok(ExitOutcome::Success)
}

/// Run the live dashboard on this process's terminal until the user quits (q, Esc, Ctrl-C),
/// `quit` is cancelled (the caller's SIGINT or SIGTERM) or every sender of `feed` is dropped,
/// whichever comes first.
///
/// This is the entry point for `zen stress --tui` and `zen soak --tui`: keep a
/// `watch::Sender<Feed>`, publish a new [`Feed`] (or `send_modify`) whenever a snapshot of the
/// target arrives or the run progresses, and fill [`Feed::run`] so the header shows elapsed /
/// total time and ok / failed calls. Drop the sender to close the dashboard when the run ends
/// (or keep it to let the user read the final state and quit). `title` is shown at the right of
/// the header, e.g. "zen stress · http://127.0.0.1:8931/mcp". When it returns while the sender is
/// still held, the user quit: `sender.closed()` resolves then, so a load task can select on it to
/// stop the run.
///
/// The terminal is put in raw mode on the alternate screen and restored on return, on error and
/// on panic. Nothing may write to stdout or stderr meanwhile: log to a file or not at all. Fails when stdout is not a terminal.
pub async fn run_dashboard(
    mut feed: watch::Receiver<Feed>,
    title: String,
    quit: CancellationToken,
) -> Result<()> {
    require_terminal()?;
    let mut state = State::new(title);
    state.ingest(&feed.borrow_and_update());
    let mut guard = term::TerminalGuard::enter()?;
    let mut events = EventStream::new();
    guard.terminal().draw(|frame| view::draw(frame, &state))?;
    loop {
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => {
                    let action = input::key_to_action(key, state.mode());
                    if action.is_some_and(|a| state.apply(a) == Flow::Quit) {
                        break;
                    }
                }
                // Resize (and anything else) just redraws at the new size.
                Some(Ok(_)) => {}
                Some(Err(err)) => return Err(err).context("cannot read terminal input"),
                None => break,
            },
            changed = feed.changed() => match changed {
                Ok(()) => state.ingest(&feed.borrow_and_update()),
                Err(_) => break, // every sender is gone: the feed has ended
            },
            // Raw mode turns the Ctrl-C key into a key event; this is `kill`.
            () = quit.cancelled() => break,
        }
        guard.terminal().draw(|frame| view::draw(frame, &state))?;
    }
    Ok(())
}

fn require_terminal() -> Result<()> {
    if !std::io::stdout().is_terminal() {
        bail!(
            "the dashboard needs a terminal, but stdout is not one (run it in a terminal, not through a pipe or file)"
        );
    }
    Ok(())
}
