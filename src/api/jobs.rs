//! The async conversation details jobs endpoints (`/api/v2/analytics/conversations/details/jobs`).
//!
//! Thin wrappers over `ApiClient::send`, so jobs share the limiter, the retry policy and the token
//! with every other request. The submit/poll/page/resubmit logic lives in `source::jobs`.

use chrono::{DateTime, Utc};
use reqwest::Method;

use super::wire::{
    AsyncConversationQuery, AsyncQueryResponse, AsyncQueryResultsPage, AsyncQueryStatus,
    DataAvailabilityResponse,
};
use super::{encode_segment, ApiClient, ApiError};

const JOBS_PATH: &str = "/api/v2/analytics/conversations/details/jobs";

fn job_path(job_id: &str) -> String {
    format!("{JOBS_PATH}/{}", encode_segment(job_id))
}

impl ApiClient {
    /// `POST …/details/jobs`: submits a job and returns its id.
    pub async fn submit_details_job(&self, q: &AsyncConversationQuery) -> Result<String, ApiError> {
        let r: AsyncQueryResponse = self
            .send("details_job_submit", Method::POST, JOBS_PATH, &[], Some(q))
            .await?;
        Ok(r.job_id)
    }

    /// `GET …/details/jobs/{jobId}`: the job's state.
    pub async fn details_job_status(&self, job_id: &str) -> Result<AsyncQueryStatus, ApiError> {
        self.send::<(), _>(
            "details_job_status",
            Method::GET,
            &job_path(job_id),
            &[],
            None,
        )
        .await
    }

    /// `GET …/details/jobs/{jobId}/results`: one page; `cursor` is `None` for the first page. The
    /// page is handed to `reduce` while it borrows from the body (see `details_query_with`).
    pub async fn details_job_results_with<T>(
        &self,
        job_id: &str,
        cursor: Option<&str>,
        page_size: u32,
        mut reduce: impl FnMut(AsyncQueryResultsPage<'_>) -> T,
    ) -> Result<T, ApiError> {
        let (path, query) = results_request(job_id, cursor, page_size);
        self.send_with::<(), _>(
            "details_job_results",
            Method::GET,
            &path,
            &query,
            None,
            |body| super::decode_json(&body).map(&mut reduce),
        )
        .await
    }

    /// [`Self::details_job_results_with`]'s request, the body returned undecoded so that it can be
    /// read ahead while the page before is worked on. A body that does not decode is the caller's to
    /// ask for again (with `details_job_results_with`, which retries it).
    pub async fn details_job_results_body(
        &self,
        job_id: &str,
        cursor: Option<&str>,
        page_size: u32,
    ) -> Result<Vec<u8>, ApiError> {
        let (path, query) = results_request(job_id, cursor, page_size);
        let op = "details_job_results";
        // The body is handed over as read, not copied: a results page is megabytes.
        self.send_with::<(), _>(op, Method::GET, &path, &query, None, Ok)
            .await
    }

    /// `DELETE …/details/jobs/{jobId}`: cancels the job and drops its results (204, empty body).
    pub async fn delete_details_job(&self, job_id: &str) -> Result<(), ApiError> {
        self.send::<(), ()>(
            "details_job_delete",
            Method::DELETE,
            &job_path(job_id),
            &[],
            None,
        )
        .await
    }

    /// `GET …/details/jobs/availability`: the instant before which the data lake is complete.
    pub async fn details_jobs_availability(&self) -> Result<DateTime<Utc>, ApiError> {
        let r: DataAvailabilityResponse = self
            .send::<(), _>(
                "details_job_availability",
                Method::GET,
                &format!("{JOBS_PATH}/availability"),
                &[],
                None,
            )
            .await?;
        Ok(r.data_availability_date)
    }
}

/// The results endpoint's path and query for one page.
fn results_request(
    job_id: &str,
    cursor: Option<&str>,
    page_size: u32,
) -> (String, Vec<(&'static str, String)>) {
    let mut query = vec![("pageSize", page_size.to_string())];
    if let Some(c) = cursor {
        query.push(("cursor", c.to_string()));
    }
    (format!("{}/results", job_path(job_id)), query)
}
