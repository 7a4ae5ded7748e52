//! The gate in front of every endpoint: OAuth tokens, bearer checks, `inin-*` headers, quotas, permissions
//! and error bodies.

use super::*;

#[tokio::test]
async fn token_endpoint_success_and_oauth_errors() {
    let e = env().await;
    assert!(!e.token.is_empty());
    let url = format!("{}/oauth/token", e.sim.base_url());
    let form = [("grant_type", "client_credentials")];

    let wrong_secret = e
        .http
        .post(&url)
        .basic_auth("sim-client", Some("nope"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_secret.status(), 400);
    let v: Value = wrong_secret.json().await.unwrap();
    assert_eq!(
        v,
        json!({"error":"invalid_client","description":"authentication failed","error_description":"authentication failed"})
    );

    let unknown = e
        .http
        .post(&url)
        .basic_auth("who", Some("sim-secret"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    let v: Value = unknown.json().await.unwrap();
    assert_eq!(v["error"], "invalid_client");
    assert_eq!(v["description"], "client not found");

    let grant = e
        .http
        .post(&url)
        .basic_auth("sim-client", Some("sim-secret"))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(grant.status(), 400);
    let v: Value = grant.json().await.unwrap();
    assert_eq!(v["error"], "unsupported_grant_type");

    let ok = e
        .http
        .post(&url)
        .basic_auth("sim-client", Some("sim-secret"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let v: Value = ok.json().await.unwrap();
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["expires_in"], 86_399);
    assert_ne!(v["access_token"], e.token.as_str(), "tokens are random");
}

#[tokio::test]
async fn api_requires_a_valid_bearer_token_and_sets_headers() {
    let e = env().await;
    let url = format!("{}/api/v2/routing/wrapupcodes", e.sim.base_url());
    let none = e.http.get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert!(none.headers().contains_key("inin-correlation-id"));
    let v: Value = none.json().await.unwrap();
    assert_error_body(&v, 401, "authentication.required");

    let bad = e.http.get(&url).bearer_auth("forged").send().await.unwrap();
    assert_eq!(bad.status(), 401);
    assert_error_body(&bad.json().await.unwrap(), 401, "bad.credentials");

    let ok = e.http.get(&url).bearer_auth(&e.token).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    // Without an enforced quota there is no quota to report: a client would pause for nothing.
    assert!(
        !ok.headers()
            .keys()
            .any(|k| k.as_str().starts_with("inin-ratelimit")),
        "{:?}",
        ok.headers()
    );
}

#[tokio::test]
async fn an_enforced_quota_is_reported_in_headers() {
    let e = env_with(SimConfig {
        enforce_rate_limit: true,
        ..SimConfig::default()
    })
    .await;
    let url = format!("{}/api/v2/routing/wrapupcodes", e.sim.base_url());
    let ok = e.http.get(&url).bearer_auth(&e.token).send().await.unwrap();
    let h = ok.headers();
    assert_eq!(h["inin-ratelimit-allowed"], "300");
    assert_eq!(h["inin-ratelimit-count"], "1");
    let reset: u64 = h["inin-ratelimit-reset"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&reset));
    let again = e.http.get(&url).bearer_auth(&e.token).send().await.unwrap();
    assert_eq!(again.headers()["inin-ratelimit-count"], "2");
}

#[tokio::test]
async fn expired_tokens_are_rejected() {
    let e = env_with(SimConfig {
        token_ttl_secs: 0,
        ..SimConfig::default()
    })
    .await;
    let (status, v) = e.get("/api/v2/users").await;
    assert_eq!(status, 401);
    assert_error_body(&v, 401, "credentials.expired");
}

#[tokio::test]
async fn unknown_routes_are_404_error_bodies_and_everything_is_logged() {
    let e = env().await;
    let (status, v) = e.get("/api/v2/interactions/postinteractions").await;
    assert_eq!(status, 404);
    assert_error_body(&v, 404, "not.found");
    let log = e.sim.request_log();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].path, "/oauth/token");
    assert_eq!(log[0].status, 200);
    assert_eq!(log[1].method, "GET");
    assert_eq!(log[1].status, 404);
}

#[tokio::test]
async fn denied_permissions_answer_403() {
    let e = env_with(SimConfig {
        denied_permissions: vec![
            "analytics:conversationDetail:view".into(),
            "routing:wrapupCode:view".into(),
        ],
        ..SimConfig::default()
    })
    .await;
    let now = e.sim.now();
    let (status, v) = e
        .query(json!({"interval": interval(now - Duration::hours(1), now)}))
        .await;
    assert_eq!(status, 403);
    assert_error_body(&v, 403, "missing.any.permissions");
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("analytics:conversationDetail:view"));
    let (status, v) = e.get("/api/v2/routing/wrapupcodes").await;
    assert_eq!(status, 403);
    assert_error_body(&v, 403, "missing.permissions");
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("routing:wrapupCode:view"));
    let (status, _) = e.get("/api/v2/routing/queues").await;
    assert_eq!(status, 200);
}

#[test]
fn basic_auth_header_is_standard_base64() {
    let enc = base64::engine::general_purpose::STANDARD.encode("sim-client:sim-secret");
    assert_eq!(enc, "c2ltLWNsaWVudDpzaW0tc2VjcmV0");
}

#[tokio::test]
async fn rate_limit_is_enforced_when_asked() {
    let e = env_with(SimConfig {
        enforce_rate_limit: true,
        rate_limit_per_minute: 3,
        ..SimConfig::default()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(e.get("/api/v2/routing/queues").await.0, 200);
    }
    let resp = e
        .http
        .get(format!("{}/api/v2/routing/queues", e.sim.base_url()))
        .bearer_auth(&e.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    assert_eq!(resp.headers()["inin-ratelimit-allowed"], "3");
    let v: Value = resp.json().await.unwrap();
    assert_error_body(&v, 429, "too.many.requests");
}
