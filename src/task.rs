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
