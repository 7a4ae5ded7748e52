//! The async details jobs API: lifecycle by poll count, cursor paging, interval matching, caps and faults.

use super::*;
use uuid::Uuid;

const JOBS: &str = "/api/v2/analytics/conversations/details/jobs";

impl Env {
    async fn submit(&self, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{JOBS}", self.sim.base_url()))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("submit");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("json body"))
    }

    async fn submit_ok(&self, body: Value) -> String {
        let (status, v) = self.submit(body).await;
        assert_eq!(status, 202, "{v}");
        v["jobId"].as_str().expect("jobId").to_string()
    }

    async fn poll(&self, id: &str) -> Value {
        let (status, v) = self.get(&format!("{JOBS}/{id}")).await;
        assert_eq!(status, 200, "{v}");
        v
    }

    async fn fulfil(&self, id: &str) {
        for _ in 0..10 {
            if self.poll(id).await["state"] == "FULFILLED" {
                return;
            }
        }
        panic!("job {id} never fulfilled");
    }

    async fn results_page(&self, id: &str, query: &str) -> (u16, Value) {
        self.get(&format!("{JOBS}/{id}/results{query}")).await
    }

    /// Every record of a fulfilled job, following cursors.
    async fn all_results(&self, id: &str, size: usize) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let q = match &cursor {
                None => format!("?pageSize={size}"),
                Some(c) => format!("?pageSize={size}&cursor={c}"),
            };
            let (status, v) = self.results_page(id, &q).await;
            assert_eq!(status, 200, "{v}");
            let cs = v["conversations"].as_array().unwrap();
            assert!(cs.len() <= size);
            out.extend(cs.iter().cloned());
            match v.get("cursor") {
                Some(c) => cursor = Some(c.as_str().unwrap().to_string()),
                None => return out,
            }
        }
    }

    async fn query_all(&self, iv: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for page in 1.. {
            let (status, v) = self
                .query(json!({"interval": iv, "paging": {"pageSize": 100, "pageNumber": page}}))
                .await;
            assert_eq!(status, 200, "{v}");
            let Some(cs) = v.get("conversations") else {
                return out;
            };
            out.extend(cs.as_array().unwrap().iter().cloned());
        }
        out
    }

    async fn delete(&self, path: &str) -> u16 {
        self.http
            .delete(format!("{}{}", self.sim.base_url(), path))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("delete")
            .status()
            .as_u16()
    }
}

fn ids(cs: &[Value]) -> Vec<String> {
    cs.iter()
        .map(|c| c["conversationId"].as_str().unwrap().to_string())
        .collect()
}

fn ts(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

fn midnight(t: DateTime<Utc>) -> DateTime<Utc> {
    t.date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc()
}

#[tokio::test]
async fn job_states_follow_the_poll_count() {
    let e = env().await;
    let now = e.sim.now();
    let id = e
        .submit_ok(json!({"interval": interval(now - Duration::hours(3), now)}))
        .await;
    let (status, v) = e.results_page(&id, "").await;
    assert_eq!(status, 400, "no results before FULFILLED");
    assert_error_body(&v, 400, "bad.request");

    let q = e.poll(&id).await;
    assert_eq!(q["state"], "QUEUED");
    assert_eq!(ts(&q["submissionDate"]), now);
    assert!(ts(&q["expirationDate"]) > now);
    assert!(q.get("completionDate").is_none() && q.get("errorMessage").is_none());
    assert_eq!(e.poll(&id).await["state"], "PENDING");
    assert_eq!(e.results_page(&id, "").await.0, 400);
    let f = e.poll(&id).await;
    assert_eq!(f["state"], "FULFILLED");
    assert_eq!(ts(&f["completionDate"]), now);
    assert_eq!(
        e.poll(&id).await["state"],
        "FULFILLED",
        "terminal states stay"
    );
    let (status, v) = e.results_page(&id, "").await;
    assert_eq!(status, 200, "{v}");
    assert!(!v["conversations"].as_array().unwrap().is_empty());

    let fast = env_with(SimConfig {
        job_polls_to_fulfil: 0,
        ..SimConfig::default()
    })
    .await;
    let id = fast
        .submit_ok(json!({"interval": interval(now - Duration::hours(3), now)}))
        .await;
    assert_eq!(fast.poll(&id).await["state"], "FULFILLED");
}

#[tokio::test]
async fn job_results_page_by_cursor_without_duplicates() {
    let e = env().await;
    let now = e.sim.now();
    let iv = interval(midnight(now) - Duration::days(1), now);
    let id = e
        .submit_ok(json!({"interval": iv, "startOfDayIntervalMatching": true}))
        .await;
    e.fulfil(&id).await;

    let (status, first) = e.results_page(&id, "").await;
    assert_eq!(status, 200);
    assert_eq!(
        first["conversations"].as_array().unwrap().len(),
        100,
        "default pageSize"
    );
    assert!(first["cursor"].is_string());
    assert_eq!(
        ts(&first["dataAvailabilityDate"]),
        now - Duration::minutes(60)
    );
    for c in first["conversations"].as_array().unwrap() {
        for p in c["participants"].as_array().unwrap() {
            assert_eq!(
                p["attributes"],
                json!({}),
                "jobs carry participant attributes"
            );
        }
    }
    assert_eq!(e.results_page(&id, "?pageSize=1001").await.0, 400);
    assert_eq!(e.results_page(&id, "?pageSize=0").await.0, 400);
    let (status, v) = e.results_page(&id, "?cursor=bogus").await;
    assert_eq!(status, 400);
    assert_error_body(&v, 400, "bad.request");

    let paged = e.all_results(&id, 37).await;
    let whole = e.all_results(&id, 1000).await;
    assert_eq!(ids(&paged), ids(&whole));
    let unique: HashSet<_> = ids(&paged).into_iter().collect();
    assert_eq!(unique.len(), paged.len(), "no duplicates");
    // With start-of-day matching a job returns what the query returns, in the same order.
    let queried = e.query_all(&iv).await;
    assert_eq!(ids(&paged), ids(&queried));
    // Field for field the query's record, plus the participants' attributes.
    for (job, query) in paged.iter().zip(&queried) {
        let mut job = job.clone();
        for p in job["participants"].as_array_mut().unwrap() {
            p.as_object_mut().unwrap().remove("attributes");
        }
        assert_eq!(&job, query);
    }
    assert!(paged.len() > 250, "{}", paged.len());
    // Conversations ending after dataAvailabilityDate are included: the client guards latency.
    let lag_edge = now - Duration::minutes(60);
    assert!(paged
        .iter()
        .any(|c| c.get("conversationEnd").is_none_or(|t| ts(t) > lag_edge)));

    // Descending order and a limit.
    let id = e
        .submit_ok(json!({"interval": iv, "startOfDayIntervalMatching": true, "order": "desc", "limit": 10}))
        .await;
    e.fulfil(&id).await;
    let desc = e.all_results(&id, 1000).await;
    let mut want = ids(&paged);
    want.reverse();
    want.truncate(10);
    assert_eq!(ids(&desc), want);
}

#[tokio::test]
async fn overlap_matching_reaches_back_past_the_start_day_unless_start_of_day_is_set() {
    // Business hours in Los Angeles span midnight UTC, so conversations cross UTC days.
    let e = env_with(SimConfig {
        timezone: "America/Los_Angeles".parse().unwrap(),
        ..SimConfig::default()
    })
    .await;
    let now = e.sim.now();
    let from = midnight(now) - Duration::days(1);
    let to = from + Duration::hours(1);
    let iv = interval(from, to);

    let overlap = e.submit_ok(json!({"interval": iv})).await;
    let start_of_day = e
        .submit_ok(json!({"interval": iv, "startOfDayIntervalMatching": true}))
        .await;
    e.fulfil(&overlap).await;
    e.fulfil(&start_of_day).await;
    let overlap = e.all_results(&overlap, 1000).await;
    let start_of_day = e.all_results(&start_of_day, 1000).await;

    // Expected overlap set, from the query over both touched days.
    let wide = e.query_all(&interval(from - Duration::days(1), to)).await;
    let want: BTreeSet<String> = wide
        .iter()
        .filter(|c| {
            ts(&c["conversationStart"]) < to
                && c.get("conversationEnd").is_none_or(|t| ts(t) > from)
        })
        .map(|c| c["conversationId"].as_str().unwrap().to_string())
        .collect();
    let got: BTreeSet<String> = ids(&overlap).into_iter().collect();
    assert_eq!(got, want);

    let earlier: Vec<&Value> = overlap
        .iter()
        .filter(|c| ts(&c["conversationStart"]) < from)
        .collect();
    assert!(
        !earlier.is_empty(),
        "some conversations run across midnight"
    );
    for c in &start_of_day {
        assert!(ts(&c["conversationStart"]) >= from);
    }
    assert_eq!(start_of_day.len() + earlier.len(), overlap.len());
    assert_eq!(ids(&start_of_day), ids(&e.query_all(&iv).await));
}

#[tokio::test]
async fn results_past_the_job_cursor_cap_are_refused() {
    let e = env_with(SimConfig {
        job_result_cap: 150,
        ..SimConfig::default()
    })
    .await;
    let now = e.sim.now();
    let iv = interval(now - Duration::days(1), now);
    let id = e.submit_ok(json!({"interval": iv})).await;
    e.fulfil(&id).await;
    let (status, p1) = e.results_page(&id, "?pageSize=100").await;
    assert_eq!(status, 200);
    let c1 = p1["cursor"].as_str().unwrap().to_string();
    let (status, p2) = e
        .results_page(&id, &format!("?pageSize=100&cursor={c1}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(p2["conversations"].as_array().unwrap().len(), 50);
    let c2 = p2["cursor"].as_str().expect("more rows exist").to_string();
    let (status, v) = e
        .results_page(&id, &format!("?pageSize=100&cursor={c2}"))
        .await;
    assert_eq!(status, 400);
    assert_error_body(&v, 400, "bad.request");
    assert_eq!(v["message"], "Pagination may not exceed 150 results.");

    // A job within the cap pages to the end.
    let id = e.submit_ok(json!({"interval": iv, "limit": 150})).await;
    e.fulfil(&id).await;
    assert_eq!(e.all_results(&id, 100).await.len(), 150);
}

#[tokio::test]
async fn the_first_jobs_fail() {
    let e = env_with(SimConfig {
        fail_jobs_first: 1,
        ..SimConfig::default()
    })
    .await;
    let now = e.sim.now();
    let body = json!({"interval": interval(now - Duration::hours(2), now)});
    let failing = e.submit_ok(body.clone()).await;
    let healthy = e.submit_ok(body).await;
    assert_eq!(e.poll(&failing).await["state"], "QUEUED");
    assert_eq!(e.poll(&failing).await["state"], "PENDING");
    let v = e.poll(&failing).await;
    assert_eq!(v["state"], "FAILED");
    assert_eq!(v["errorMessage"], "Job failed due to an internal error");
    assert!(v["completionDate"].is_string());
    assert_eq!(e.results_page(&failing, "").await.0, 400);
    e.fulfil(&healthy).await;
    assert_eq!(e.results_page(&healthy, "").await.0, 200);
}

#[tokio::test]
async fn deleted_jobs_are_cancelled_and_stale_ones_expire() {
    let e = env().await;
    let now = e.sim.now();
    let body = json!({"interval": interval(now - Duration::hours(2), now)});
    let id = e.submit_ok(body.clone()).await;
    assert_eq!(e.poll(&id).await["state"], "QUEUED");
    assert_eq!(e.delete(&format!("{JOBS}/{id}")).await, 204);
    assert_eq!(e.poll(&id).await["state"], "CANCELLED");
    assert_eq!(e.poll(&id).await["state"], "CANCELLED");
    assert_eq!(e.results_page(&id, "").await.0, 400);

    let unknown = Uuid::new_v4();
    assert_eq!(e.delete(&format!("{JOBS}/{unknown}")).await, 404);
    let (status, v) = e.get(&format!("{JOBS}/{unknown}")).await;
    assert_eq!(status, 404);
    assert_error_body(&v, 404, "not.found");
    assert_eq!(e.results_page(&unknown.to_string(), "").await.0, 404);

    let id = e.submit_ok(body).await;
    e.fulfil(&id).await;
    assert!(e.sim.expire_job(&id));
    assert!(!e.sim.expire_job(&unknown.to_string()));
    assert_eq!(e.poll(&id).await["state"], "EXPIRED");
    let (status, v) = e.results_page(&id, "").await;
    assert_eq!(status, 400);
    assert!(v["message"].as_str().unwrap().contains("EXPIRED"), "{v}");
}

#[tokio::test]
async fn job_intervals_and_availability() {
    let e = env().await;
    let now = e.sim.now();
    let (status, v) = e
        .submit(json!({"interval": interval(now - Duration::days(32), now)}))
        .await;
    assert_eq!(status, 400);
    assert_error_body(&v, 400, "bad.request");
    let (status, _) = e.submit(json!({"order": "asc"})).await;
    assert_eq!(status, 400, "interval is required");
    let (status, _) = e
        .submit(json!({"interval": interval(now - Duration::days(31), now)}))
        .await;
    assert_eq!(status, 202, "31 days need no filter in a job");

    let (status, v) = e.get(&format!("{JOBS}/availability")).await;
    assert_eq!(status, 200);
    assert_eq!(
        v,
        json!({"dataAvailabilityDate": "2025-06-04T14:00:00.000Z"})
    );
}

#[tokio::test]
async fn job_endpoints_are_faulted_like_the_rest() {
    let e = env().await;
    let now = e.sim.now();
    let id = e
        .submit_ok(json!({"interval": interval(now - Duration::hours(2), now)}))
        .await;
    e.sim.set_faults(FaultProfile {
        error_rate_5xx: 1.0,
        ..FaultProfile::default()
    });
    let (status, _) = e.get(&format!("{JOBS}/{id}")).await;
    assert!([502, 503, 504].contains(&status));
    e.sim.set_faults(FaultProfile::default());
    // A faulted poll never reached the job, so this is its first poll.
    assert_eq!(e.poll(&id).await["state"], "QUEUED");
}
