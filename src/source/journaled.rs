//! The day's lookups, started as its rows arrive (issue 14), through the day's journal: answers an
//! interrupted run of the same day already settled are reused, and every new settled answer is
//! appended as it arrives, before the rows that read it are written.
//!
//! Lookups start in the order they are asked, at most `concurrency` at once, each in its own task, so
//! a lookup in flight runs to its end (its limiter slot and connection released) whether or not the
//! writer is polling at that moment. Answers come back as they settle; the caller puts them in order.

use std::collections::VecDeque;
use std::sync::Arc;

use futures::stream::FuturesUnordered;
use futures::StreamExt;

use crate::api::wire::Conversation;
use crate::api::{ApiClient, ApiError};
use crate::sink::journal::LookupJournal;
use crate::task::Spawned;

/// A lookup's answer, as the API or the journal gave it.
pub(crate) type Looked = Result<Conversation, ApiError>;

/// The lookups of one day: waiting, in flight, and the journal of those settled.
pub(crate) struct Lookups {
    client: Arc<ApiClient>,
    concurrency: usize,
    journal: Option<LookupJournal>,
    /// Asked and not started yet: the caller's key and the conversation id.
    waiting: VecDeque<(u64, String)>,
    running: FuturesUnordered<Spawned<(u64, String, Looked)>>,
}

impl Lookups {
    pub(crate) fn new(
        client: Arc<ApiClient>,
        concurrency: usize,
        journal: Option<LookupJournal>,
    ) -> Lookups {
        Lookups {
            client,
            concurrency: concurrency.max(1),
            journal,
            waiting: VecDeque::new(),
            running: FuturesUnordered::new(),
        }
    }

    /// Asks for conversation `id` under `key`: the journal's answer at once if it holds one,
    /// otherwise `None` and the answer comes from [`Lookups::next`].
    pub(crate) fn ask(&mut self, key: u64, id: &str) -> Option<Looked> {
        if let Some(r) = self.journal.as_ref().and_then(|j| j.get(id)) {
            return Some(r);
        }
        self.waiting.push_back((key, id.to_string()));
        self.start();
        None
    }

    fn start(&mut self) {
        while self.running.len() < self.concurrency {
            let Some((key, id)) = self.waiting.pop_front() else {
                return;
            };
            let client = self.client.clone();
            self.running.push(Spawned::new(async move {
                let r = client.conversation(&id).await;
                (key, id, r)
            }));
        }
    }

    /// True while some lookup asked has not been answered.
    pub(crate) fn busy(&self) -> bool {
        !self.running.is_empty()
    }

    /// The next answer to settle, recorded in the journal first (an error: the journal could not
    /// take it). Cancel-safe: nothing is awaited after an answer is taken. Never ends while
    /// [`Lookups::busy`]; `None` when nothing is asked.
    pub(crate) async fn next(&mut self) -> Option<anyhow::Result<(u64, Looked)>> {
        let (key, id, r) = self.running.next().await?;
        self.start();
        if let Some(j) = self.journal.as_mut() {
            if let Err(e) = j.record(&id, &r) {
                return Some(Err(e));
            }
        }
        Some(Ok((key, r)))
    }

    /// Makes the journal durable (before rows that read its answers are written).
    pub(crate) fn sync(&mut self) -> anyhow::Result<()> {
        match self.journal.as_mut() {
            Some(j) => j.sync(),
            None => Ok(()),
        }
    }

    /// The journal, once every lookup of the day is answered.
    pub(crate) fn into_journal(self) -> Option<LookupJournal> {
        self.journal
    }
}
