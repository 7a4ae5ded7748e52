//! Lookups through the day's journal: answers an interrupted run of the same day already settled
//! are reused, and every new settled answer is appended as it arrives (fsynced once per chunk).

use crate::api::wire::Conversation;
use crate::api::{ApiClient, ApiError};
use crate::sink::journal::LookupJournal;

use super::lookups::enrich_each;
use crate::transform::enrich::Plan;
use crate::transform::rows::Fetched;

type Answers = Vec<Option<Result<Conversation, ApiError>>>;

/// [`super::lookups::enrich`] with the journal: the result is the same, the API is asked only for what the
/// journal does not hold.
pub(crate) async fn enrich(
    client: &ApiClient,
    conversations: &[Fetched],
    plan: &[Plan],
    concurrency: usize,
    progress: &crate::progress::Progress,
    journal: &mut Option<LookupJournal>,
) -> anyhow::Result<Answers> {
    let Some(j) = journal.as_mut() else {
        return Ok(enrich_each(
            client,
            conversations,
            plan,
            concurrency,
            progress,
            &mut |_, _| {},
        )
        .await);
    };
    let mut from_journal: Answers = (0..conversations.len()).map(|_| None).collect();
    let mut ask = plan.to_vec();
    for (i, p) in plan.iter().enumerate() {
        if *p == Plan::Lookup {
            if let Some(r) = j.get(&conversations[i].id) {
                from_journal[i] = Some(r);
                ask[i] = Plan::NotNeeded;
            }
        }
    }
    let mut failed: Option<anyhow::Error> = None;
    let asked = enrich_each(
        client,
        conversations,
        &ask,
        concurrency,
        progress,
        &mut |id, r| {
            if failed.is_none() {
                failed = j.record(id, r).err();
            }
        },
    )
    .await;
    if let Some(e) = failed {
        return Err(e);
    }
    j.sync()?;
    Ok(asked
        .into_iter()
        .zip(from_journal)
        .map(|(a, b)| a.or(b))
        .collect())
}
