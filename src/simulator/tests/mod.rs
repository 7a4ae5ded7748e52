//! End-to-end tests of the simulator over real HTTP on 127.0.0.1.

use std::collections::{BTreeSet, HashSet};

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use super::*;
use crate::record::ConversationLabel;

fn http() -> reqwest::Client {
    // reqwest is built without a default TLS provider; plain http needs none, but the builder wants one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

struct Env {
    sim: SimHandle,
    http: reqwest::Client,
    token: String,
}

async fn env_with(cfg: SimConfig) -> Env {
    let sim = start(cfg).await.expect("simulator starts");
    let http = http();
    let resp = http
        .post(format!("{}/oauth/token", sim.base_url()))
        .basic_auth(sim.client_id(), Some(sim.client_secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token request");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("token json");
    let token = body["access_token"].as_str().expect("token").to_string();
    Env { sim, http, token }
}

async fn env() -> Env {
    env_with(SimConfig::default()).await
}

impl Env {
    async fn query(&self, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!(
                "{}/api/v2/analytics/conversations/details/query",
                self.sim.base_url()
            ))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("query");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("json body"))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}{}", self.sim.base_url(), path))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("get");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("json body"))
    }
}

fn interval(a: DateTime<Utc>, b: DateTime<Utc>) -> String {
    format!("{}/{}", a.to_rfc3339(), b.to_rfc3339())
}

fn assert_error_body(v: &Value, status: u16, code: &str) {
    assert_eq!(v["status"], status, "{v}");
    assert_eq!(v["code"], code, "{v}");
    for k in [
        "message",
        "messageWithParams",
        "messageParams",
        "contextId",
        "details",
        "errors",
    ] {
        assert!(v.get(k).is_some(), "missing {k} in {v}");
    }
}

mod details;
mod faults;
mod gate;
mod generation;
mod jobs;
mod lookups;
