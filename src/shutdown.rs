//! SIGINT / SIGTERM → a `CancellationToken`, and the exit status that goes with the signal.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::exit::ExitStatus;

const NONE: u8 = 0;
const INT: u8 = 1;
const TERM: u8 = 2;

/// Listens for the first SIGINT or SIGTERM; a second signal of either kind ends the process at once.
pub struct Signals {
    token: CancellationToken,
    which: Arc<AtomicU8>,
}

impl Signals {
    pub fn listen() -> Signals {
        let token = CancellationToken::new();
        let which = Arc::new(AtomicU8::new(NONE));
        let (t, w) = (token.clone(), which.clone());
        tokio::spawn(async move {
            let first = wait_for_signal().await;
            w.store(first, Ordering::SeqCst);
            tracing::warn!("Stopping: finishing the current step, keeping finished partitions");
            t.cancel();
            let second = wait_for_signal().await;
            std::process::exit(if second == TERM { 143 } else { 130 });
        });
        Signals { token, which }
    }

    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }

    /// The status to exit with: the signal's, if one arrived, else the run's own.
    pub fn map_status(&self, status: ExitStatus) -> ExitStatus {
        match self.which.load(Ordering::SeqCst) {
            INT => ExitStatus::Interrupted,
            TERM => ExitStatus::Terminated,
            _ => status,
        }
    }
}

#[cfg(unix)]
async fn wait_for_signal() -> u8 {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = int.recv() => INT,
        _ = term.recv() => TERM,
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> u8 {
    let _ = tokio::signal::ctrl_c().await;
    INT
}
