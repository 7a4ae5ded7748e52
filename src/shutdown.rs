//! SIGINT / SIGTERM → a `CancellationToken`, and the exit status that goes with the signal.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::exit::ExitStatus;

const NONE: u8 = 0;
const INT: u8 = 1;
const TERM: u8 = 2;

/// The first signal this process received (set only by [`Signals`], so in-process tests see none).
static RECEIVED: AtomicU8 = AtomicU8::new(NONE);

/// The status of the signal that stopped the process, if one did.
pub fn received() -> Option<ExitStatus> {
    match RECEIVED.load(Ordering::SeqCst) {
        INT => Some(ExitStatus::Interrupted),
        TERM => Some(ExitStatus::Terminated),
        _ => None,
    }
}

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
            RECEIVED.store(first, Ordering::SeqCst);
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

/// Why a run stops early: a signal (through the caller's token) or its own `max_runtime`.
///
/// The run works with a child of the caller's token; when `max_runtime` runs out the child is
/// cancelled, which every wait of the run already honours, exactly as for SIGTERM.
pub struct RunStop {
    token: CancellationToken,
    timed_out: Arc<std::sync::atomic::AtomicBool>,
    timer: Option<tokio::task::JoinHandle<()>>,
}

impl RunStop {
    pub fn new(parent: &CancellationToken, max_runtime: Option<std::time::Duration>) -> RunStop {
        let token = parent.child_token();
        let timed_out = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let timer = max_runtime.map(|limit| {
            let (t, flag) = (token.clone(), timed_out.clone());
            tokio::spawn(async move {
                tokio::select! {
                    _ = t.cancelled() => {}
                    _ = tokio::time::sleep(limit) => {
                        flag.store(true, Ordering::SeqCst);
                        tracing::warn!(
                            max_runtime_s = limit.as_secs(),
                            "max_runtime reached: stopping, keeping finished partitions"
                        );
                        t.cancel();
                    }
                }
            })
        });
        RunStop {
            token,
            timed_out,
            timer,
        }
    }

    /// The token every wait of the run honours.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// `None` while the run may go on; else the status it ends with.
    pub fn status(&self) -> Option<ExitStatus> {
        if !self.token.is_cancelled() {
            None
        } else if self.timed_out.load(Ordering::SeqCst) {
            Some(ExitStatus::TimedOut)
        } else {
            Some(received().unwrap_or(ExitStatus::Interrupted))
        }
    }

    /// Runs `fut` unless the run is stopped first; `what` names the wait for the error line.
    pub async fn until<T>(
        &self,
        what: &str,
        fut: impl std::future::Future<Output = Result<T, crate::exit::Failure>>,
    ) -> Result<T, crate::exit::Failure> {
        tokio::select! {
            biased;
            _ = self.token.cancelled() => Err(crate::exit::Failure::new(
                self.status().unwrap_or(ExitStatus::Interrupted),
                format!("stopped while {what}"),
            )),
            r = fut => r,
        }
    }
}

impl Drop for RunStop {
    fn drop(&mut self) {
        if let Some(t) = self.timer.take() {
            t.abort();
        }
    }
}
