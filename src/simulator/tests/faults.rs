//! Fault injection seen from a raw HTTP client.

use std::time::Instant;

use super::*;

fn faulty(faults: FaultProfile) -> SimConfig {
    SimConfig {
        faults,
        ..SimConfig::default()
    }
}

impl Env {
    async fn raw_get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{}", self.sim.base_url(), path))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("response head")
    }
}

/// The `(status, fault)` pairs of the log entries for `path`.
fn logged(sim: &SimHandle, path: &str) -> Vec<(u16, Option<&'static str>)> {
    sim.request_log()
        .into_iter()
        .filter(|r| r.path == path)
        .map(|r| (r.status, r.fault))
        .collect()
}

#[tokio::test]
async fn injected_5xx_are_mixed_and_carry_error_bodies() {
    let e = env_with(faulty(FaultProfile {
        error_rate_5xx: 1.0,
        ..FaultProfile::default()
    }))
    .await;
    let mut seen = BTreeSet::new();
    for _ in 0..30 {
        let (status, v) = e.get("/api/v2/routing/queues").await;
        let code = match status {
            502 => "bad.gateway",
            503 => "service.unavailable",
            504 => "request.timeout",
            s => panic!("unexpected {s}: {v}"),
        };
        assert_error_body(&v, status, code);
        seen.insert(status);
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
    let log = logged(&e.sim, "/api/v2/routing/queues");
    assert_eq!(log.len(), 30);
    for (status, fault) in log {
        assert_eq!(fault, Some(format!("http_{status}").leak() as &str));
    }
    // The token endpoint is never faulted.
    assert_eq!(logged(&e.sim, "/oauth/token"), vec![(200, None)]);
}

#[tokio::test]
async fn injected_429_has_retry_after_and_rate_limit_headers() {
    let e = env_with(faulty(FaultProfile {
        rate_429: 1.0,
        ..FaultProfile::default()
    }))
    .await;
    let resp = e.raw_get("/api/v2/users").await;
    assert_eq!(resp.status(), 429);
    let h = resp.headers();
    assert_eq!(h["retry-after"], "1");
    assert_eq!(h["inin-ratelimit-allowed"], "300");
    assert_eq!(h["inin-ratelimit-count"], "301");
    assert_eq!(h["inin-ratelimit-reset"], "1");
    let v: Value = resp.json().await.unwrap();
    assert_error_body(&v, 429, "too.many.requests");
    assert_eq!(
        v["message"],
        "Rate limit exceeded the maximum [300] requests within [60] seconds"
    );
    assert_eq!(
        logged(&e.sim, "/api/v2/users"),
        vec![(429, Some("http_429"))]
    );
}

#[tokio::test]
async fn dropped_connections_fail_mid_body() {
    let e = env_with(faulty(FaultProfile {
        drop_connection_rate: 1.0,
        ..FaultProfile::default()
    }))
    .await;
    let resp = e.raw_get("/api/v2/routing/wrapupcodes").await;
    assert_eq!(resp.status(), 200);
    let announced: usize = resp.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(announced > 100, "{announced}");
    assert!(resp.bytes().await.is_err(), "the body must fail");
    assert_eq!(
        logged(&e.sim, "/api/v2/routing/wrapupcodes"),
        vec![(200, Some("drop_connection"))]
    );
    // Errors are not broken, only successful bodies.
    let (status, v) = e.get("/api/v2/nothing/here").await;
    assert_eq!(status, 404);
    assert_error_body(&v, 404, "not.found");
    assert_eq!(logged(&e.sim, "/api/v2/nothing/here"), vec![(404, None)]);
}

#[tokio::test]
async fn malformed_json_is_a_complete_200_that_does_not_parse() {
    let e = env_with(faulty(FaultProfile {
        malformed_json_rate: 1.0,
        ..FaultProfile::default()
    }))
    .await;
    let resp = e.raw_get("/api/v2/routing/queues").await;
    assert_eq!(resp.status(), 200);
    let body = resp.bytes().await.expect("the body itself arrives whole");
    assert!(!body.is_empty());
    assert!(serde_json::from_slice::<Value>(&body).is_err());
    assert_eq!(
        logged(&e.sim, "/api/v2/routing/queues"),
        vec![(200, Some("malformed_json"))]
    );
}

#[tokio::test]
async fn token_ttl_override_expires_tokens_silently() {
    let e = env_with(faulty(FaultProfile {
        token_ttl_override_secs: Some(0),
        // Other faults never hide the 401.
        error_rate_5xx: 1.0,
        ..FaultProfile::default()
    }))
    .await;
    let (status, v) = e.get("/api/v2/users").await;
    assert_eq!(status, 401);
    assert_error_body(&v, 401, "credentials.expired");
    assert_eq!(
        logged(&e.sim, "/api/v2/users"),
        vec![(401, Some("token_ttl"))]
    );
    // Unauthenticated requests get their 401 too, never a fault.
    let resp = e
        .http
        .get(format!("{}/api/v2/users", e.sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // The advertised lifetime is unchanged; a token issued without the override works.
    e.sim.set_faults(FaultProfile::default());
    let resp = e
        .http
        .post(format!("{}/oauth/token", e.sim.base_url()))
        .basic_auth(e.sim.client_id(), Some(e.sim.client_secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["expires_in"], 86_399);
    let fresh = Env {
        token: v["access_token"].as_str().unwrap().to_string(),
        sim: e.sim.clone(),
        http: e.http.clone(),
    };
    assert_eq!(fresh.get("/api/v2/users").await.0, 200);
}

#[tokio::test]
async fn injected_latency_applies_per_route() {
    let e = env_with(faulty(FaultProfile {
        slow_ms: 5,
        slow_lookup_ms: 40,
        ..FaultProfile::default()
    }))
    .await;
    let t = Instant::now();
    let (status, _) = e.get("/api/v2/users").await;
    assert_eq!(status, 200);
    let users = t.elapsed();
    assert!(users.as_millis() >= 5, "{users:?}");
    let t = Instant::now();
    let (status, _) = e
        .get("/api/v2/conversations/00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(status, 404);
    assert!(t.elapsed().as_millis() >= 45, "{:?}", t.elapsed());
}

async fn fault_sequence(sim: &Env, n: usize) -> Vec<(u16, Option<&'static str>)> {
    let before = sim.sim.request_log().len();
    for _ in 0..n {
        let resp = sim.raw_get("/api/v2/routing/queues").await;
        let _ = resp.bytes().await;
    }
    sim.sim.request_log()[before..]
        .iter()
        .map(|r| (r.status, r.fault))
        .collect()
}

#[tokio::test]
async fn the_fault_sequence_is_reproducible() {
    let profile = FaultProfile {
        seed: 7,
        error_rate_5xx: 0.25,
        rate_429: 0.15,
        drop_connection_rate: 0.1,
        malformed_json_rate: 0.1,
        ..FaultProfile::default()
    };
    let a = env_with(faulty(profile.clone())).await;
    let b = env_with(faulty(profile.clone())).await;
    let seq_a = fault_sequence(&a, 60).await;
    let seq_b = fault_sequence(&b, 60).await;
    assert_eq!(seq_a, seq_b);
    let kinds: BTreeSet<_> = seq_a.iter().map(|(_, f)| *f).collect();
    assert_eq!(kinds.len(), 7, "every kind and some clean ones: {kinds:?}");

    // Installing the profile again restarts the sequence; another seed gives another one.
    a.sim.set_faults(profile.clone());
    assert_eq!(fault_sequence(&a, 60).await, seq_a);
    a.sim.set_faults(FaultProfile { seed: 8, ..profile });
    assert_ne!(fault_sequence(&a, 60).await, seq_a);
}

#[tokio::test]
async fn chaos_profile_matches_its_description() {
    let c = FaultProfile::chaos(3);
    assert_eq!(c.seed, 3);
    assert_eq!(c.error_rate_5xx, 0.10);
    assert_eq!(c.rate_429, 0.05);
    assert_eq!(c.drop_connection_rate, 0.03);
    assert_eq!(c.token_ttl_override_secs, Some(3));
    assert_eq!(SimConfig::default().faults, FaultProfile::default());
    // Over many requests the shares come out near the rates.
    let mut counts = std::collections::HashMap::new();
    for n in 0..10_000 {
        *counts.entry(c.decide(n).map(|f| f.name())).or_insert(0u32) += 1;
    }
    let share = |names: &[&str]| -> f64 {
        names
            .iter()
            .map(|n| counts.get(&Some(*n)).copied().unwrap_or(0))
            .sum::<u32>() as f64
            / 10_000.0
    };
    assert!((share(&["http_502", "http_503", "http_504"]) - 0.10).abs() < 0.015);
    assert!((share(&["http_429"]) - 0.05).abs() < 0.01);
    assert!((share(&["drop_connection"]) - 0.03).abs() < 0.01);
}

async fn all_pages(e: &Env, iv: &str, size: u64) -> (Vec<String>, Vec<u64>) {
    let mut ids = Vec::new();
    let mut totals = Vec::new();
    for page in 1.. {
        let (status, v) = e
            .query(json!({"interval": iv, "paging": {"pageSize": size, "pageNumber": page}}))
            .await;
        assert_eq!(status, 200, "{v}");
        totals.push(v["totalHits"].as_u64().unwrap());
        let Some(cs) = v.get("conversations") else {
            break;
        };
        ids.extend(
            cs.as_array()
                .unwrap()
                .iter()
                .map(|c| c["conversationId"].as_str().unwrap().to_string()),
        );
    }
    (ids, totals)
}

#[tokio::test]
async fn repeated_rows_and_drifting_totals_never_lose_a_row() {
    let e = env().await;
    let now = e.sim.now();
    let iv = interval(now - Duration::days(1), now);
    let (clean, clean_totals) = all_pages(&e, &iv, 25).await;
    let exact = clean.len() as u64;
    assert!(clean_totals.iter().all(|t| *t == exact));

    e.sim.set_faults(FaultProfile {
        seed: 11,
        repeat_rows_rate: 0.5,
        drifting_total_hits: true,
        ..FaultProfile::default()
    });
    let (noisy, totals) = all_pages(&e, &iv, 25).await;
    assert!(noisy.len() > clean.len(), "some rows repeated");
    let mut union: Vec<String> = noisy.clone();
    union.sort();
    union.dedup();
    let mut want = clean.clone();
    want.sort();
    assert_eq!(union, want, "the union of pages is the whole result");
    // First occurrences keep the clean order.
    let mut seen = HashSet::new();
    let firsts: Vec<String> = noisy
        .into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect();
    assert_eq!(firsts, clean);
    assert!(totals.iter().any(|t| *t != exact), "{totals:?}");
    for t in &totals {
        let diff = (*t as f64 - exact as f64).abs() / exact as f64;
        assert!(diff <= 0.051, "{t} vs {exact}");
    }
    let tags: BTreeSet<_> = e.sim.request_log().iter().filter_map(|r| r.fault).collect();
    assert_eq!(
        tags,
        BTreeSet::from(["repeat_rows", "total_hits_drift"]),
        "{tags:?}"
    );
}

#[tokio::test]
async fn the_rate_limit_window_is_per_token_with_documented_429() {
    let e = env_with(SimConfig {
        enforce_rate_limit: true,
        rate_limit_per_minute: 2,
        ..SimConfig::default()
    })
    .await;
    assert_eq!(e.get("/api/v2/users").await.0, 200);
    assert_eq!(e.get("/api/v2/users").await.0, 200);
    let resp = e.raw_get("/api/v2/users").await;
    assert_eq!(resp.status(), 429);
    let h = resp.headers().clone();
    assert_eq!(h["inin-ratelimit-allowed"], "2");
    assert_eq!(h["inin-ratelimit-count"], "3");
    let reset: u64 = h["inin-ratelimit-reset"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&reset));
    assert_eq!(h["retry-after"].to_str().unwrap(), reset.to_string());
    let v: Value = resp.json().await.unwrap();
    assert_error_body(&v, 429, "too.many.requests");
    assert_eq!(
        v["message"],
        "Rate limit exceeded the maximum [2] requests within [60] seconds"
    );
    assert_eq!(v["messageParams"], json!({"0": "2", "1": "60"}));
    assert_eq!(e.sim.request_log().last().unwrap().fault, None);

    // Another token has its own window.
    let other = env_with_token(&e).await;
    let resp = other.raw_get("/api/v2/users").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["inin-ratelimit-count"], "1");
}

async fn env_with_token(e: &Env) -> Env {
    let v: Value = e
        .http
        .post(format!("{}/oauth/token", e.sim.base_url()))
        .basic_auth(e.sim.client_id(), Some(e.sim.client_secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Env {
        token: v["access_token"].as_str().unwrap().to_string(),
        sim: e.sim.clone(),
        http: e.http.clone(),
    }
}
