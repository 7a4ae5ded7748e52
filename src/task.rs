//! Spawned work that is tied to the future awaiting it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A task spawned on the runtime, aborted when this handle is dropped; awaiting it gives the task's
/// output. Requests run this way keep making progress (their timeouts fire, their connections and
/// locks are released) even while the future that holds the handle is not being polled.
pub struct Spawned<T>(tokio::task::JoinHandle<T>);

impl<T: Send + 'static> Spawned<T> {
    pub fn new(f: impl Future<Output = T> + Send + 'static) -> Spawned<T> {
        Spawned(tokio::spawn(f))
    }
}

impl<T> Future for Spawned<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0).poll(cx).map(|r| match r {
            Ok(v) => v,
            // Only a drop of this handle aborts the task, so the error is a panic: pass it on.
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        })
    }
}

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Aborts a spawned task when the run leaves its loop, by error or cancellation.
pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl AbortOnDrop {
    pub async fn finish(mut self, wait: std::time::Duration) {
        let _ = tokio::time::timeout(wait, &mut self.0).await;
    }

    /// Why the task ended early: its panic message, or how it ended otherwise.
    pub async fn why_ended(mut self) -> String {
        match (&mut self.0).await {
            Ok(()) => "it stopped before sending every day".to_string(),
            Err(e) if e.is_panic() => {
                let payload = e.into_panic();
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(no message)".to_string());
                format!("it panicked: {msg}")
            }
            Err(e) => format!("it ended: {e}"),
        }
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
