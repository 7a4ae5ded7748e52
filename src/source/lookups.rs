//! `GET /api/v2/conversations/{id}` for the conversations the plan names: bounded, in input order.

use futures::StreamExt;

use crate::api::wire::Conversation;
use crate::api::{ApiClient, ApiError};
use crate::transform::enrich::{Answer, Plan};
use crate::transform::rows::Fetched;

/// Looks up the planned conversations, at most `concurrency` at once; the result is aligned with
/// `conversations` (`None` where no lookup was planned).
pub async fn enrich(
    client: &ApiClient,
    conversations: &[Fetched],
    plan: &[Plan],
    concurrency: usize,
    progress: &crate::progress::Progress,
) -> Vec<Option<Result<Conversation, ApiError>>> {
    enrich_each(
        client,
        conversations,
        plan,
        concurrency,
        progress,
        &mut |_, _| {},
    )
    .await
}

/// [`enrich`], telling `answered` about each answer as it arrives.
pub(crate) async fn enrich_each(
    client: &ApiClient,
    conversations: &[Fetched],
    plan: &[Plan],
    concurrency: usize,
    progress: &crate::progress::Progress,
    answered: &mut dyn FnMut(&str, &Result<Conversation, ApiError>),
) -> Vec<Option<Result<Conversation, ApiError>>> {
    progress.lookups_planned(plan.iter().filter(|p| **p == Plan::Lookup).count() as u64);
    let mut out: Vec<Option<Result<Conversation, ApiError>>> =
        (0..conversations.len()).map(|_| None).collect();
    let wanted = plan
        .iter()
        .enumerate()
        .filter(|(_, p)| **p == Plan::Lookup)
        .map(|(i, _)| i);
    let mut results = futures::stream::iter(wanted)
        .map(|i| async move { (i, client.conversation(&conversations[i].id).await) })
        .buffered(concurrency);
    while let Some((i, r)) = results.next().await {
        progress.lookup_done();
        answered(&conversations[i].id, &r);
        out[i] = Some(r);
    }
    out
}

/// The lookups' results as the rows read them.
pub fn answers(results: Vec<Option<Result<Conversation, ApiError>>>) -> Vec<Option<Answer>> {
    results
        .into_iter()
        .map(|r| {
            r.map(|r| match r {
                Ok(c) => Answer::Found(c),
                Err(e) => Answer::Failed {
                    reason: e.short_reason(),
                    permanent: e.is_permanent(),
                },
            })
        })
        .collect()
}
