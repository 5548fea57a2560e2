//! Notice Ctrl-C and SIGTERM while the agent works, the way `depin up` does (tokio's signal
//! handling), without making the agent's loop async: a small thread waits for the signal and
//! tells the loop over a bounded channel. A second signal exits at once.

use std::cell::Cell;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, TryRecvError};
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};

use crate::error::{CliError, CliResult};

/// Exit status after a second interrupt (128 + SIGINT), as a shell reports an interrupted
/// command.
const EXIT_INTERRUPTED: i32 = 130;

/// A stop request from a signal.
pub(super) struct Stop {
    rx: Receiver<&'static str>,
    stopped: Cell<bool>,
}

impl Stop {
    /// Start watching SIGINT and SIGTERM (the handlers are installed before this returns).
    pub(super) fn install() -> CliResult<Stop> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .map_err(|e| CliError::fail(format!("cannot start the signal watcher: {e}")))?;
        let (mut interrupt, mut terminate) = {
            let _guard = runtime.enter();
            let install = |kind| signal(kind).map_err(|e| CliError::fail(format!("cannot watch signals: {e}")));
            (install(SignalKind::interrupt())?, install(SignalKind::terminate())?)
        };
        let (tx, rx) = sync_channel(1);
        std::thread::Builder::new()
            .name("agent-signals".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let what = tokio::select! {
                        _ = interrupt.recv() => "interrupted",
                        _ = terminate.recv() => "terminated",
                    };
                    let _ = tx.send(what);
                    tokio::select! {
                        _ = interrupt.recv() => {},
                        _ = terminate.recv() => {},
                    }
                    eprintln!("agent: stopping at once (second signal)");
                    std::process::exit(EXIT_INTERRUPTED);
                })
            })
            .map_err(|e| CliError::fail(format!("cannot start the signal watcher: {e}")))?;
        Ok(Stop { rx, stopped: Cell::new(false) })
    }

    /// True once a stop was asked for.
    pub(super) fn requested(&self) -> bool {
        if !self.stopped.get() {
            match self.rx.try_recv() {
                Ok(what) => self.note(what),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => {}
            }
        }
        self.stopped.get()
    }

    /// Wait up to `d`; true if a stop was asked for (at once, or while waiting).
    pub(super) fn wait(&self, d: Duration) -> bool {
        if self.requested() {
            return true;
        }
        match self.rx.recv_timeout(d) {
            Ok(what) => self.note(what),
            Err(RecvTimeoutError::Timeout) => {}
            // The watcher is gone (it only ends by exiting the process): still wait.
            Err(RecvTimeoutError::Disconnected) => std::thread::sleep(d),
        }
        self.stopped.get()
    }

    fn note(&self, what: &str) {
        eprintln!("agent: {what}; stopping (press Ctrl-C again to stop at once)");
        self.stopped.set(true);
    }
}
