//! What the fetching task sends the writer, and how much it may send ahead.

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::mpsc;

use crate::api::ApiError;
use crate::transform::rows::Fetched;

/// Conversations classified, looked up and written per step of a day.
pub(crate) const ROWS_PER_CHUNK: usize = 2_000;

/// Messages the fetching task may send ahead of the writer (pages of at most `page_size` rows).
pub(crate) const MSGS_AHEAD: usize = 8;

/// What the fetching task sends: a day starts, rows of it in API order, the day is done.
pub(crate) enum Msg {
    Day(NaiveDate, DateTime<Utc>, DateTime<Utc>),
    Rows(Vec<Fetched>),
    Done(Result<DayMeta, ApiError>),
    /// Every day was sent: a channel that closes without it means the fetching task died.
    End,
}

/// What a day's fetch learnt besides its rows.
pub struct DayMeta {
    pub dropped_outside: u64,
    pub dropped_duplicates: u64,
    /// Jobs only: the data lake holds everything before this instant.
    pub complete_until: Option<DateTime<Utc>>,
    /// Why the day's rows may be incomplete (pages that stayed short, fewer rows than `totalHits`).
    pub shortfall: Option<String>,
}

/// Sends rows to the writer; a closed channel means the run stopped.
pub(crate) async fn emit(tx: &mpsc::Sender<Msg>, rows: Vec<Fetched>) -> Result<(), ApiError> {
    if rows.is_empty() {
        return Ok(());
    }
    tx.send(Msg::Rows(rows))
        .await
        .map_err(|_| ApiError::Cancelled)
}
