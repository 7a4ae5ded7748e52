//! Failures end loud and bounded: every config problem at once, no raw server text, capped bodies,
//! a manifest that tells the truth, and no undocumented exit code.

use crate::support::*;

#[test]
fn every_job_file_type_error_is_reported_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let job = tmp.path().join("job.toml");
    std::fs::write(
        &job,
        "concurrency = \"eight\"\npage_size = -1\n[filters]\nmedia_types = \"voice\"\n",
    )
    .unwrap();
    let o = run_bin(
        &["validate", "--job", job.to_str().unwrap()],
        &[("GENESYS_REGION".into(), "moon-1".into())],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for needle in [
        "(line 1): concurrency",
        "(line 2): page_size",
        "(line 4): filters.media_types",
        // Problems outside the file come in the same report.
        "unknown GENESYS_REGION",
    ] {
        assert!(err.contains(needle), "{needle} missing: {err}");
    }
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{err}"
    );
}

/// A stand-in API on 127.0.0.1:0 built from `app`; returns its base URL.
async fn fake(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

const TOKEN: &str = "tok-9f8e7d6c5b4a39281706f5e4d3c2b1a0";
const SECRET: &str = "s3cr3t-client-value-42";

fn fake_env(base: &str) -> Vec<(String, String)> {
    vec![
        ("GENESYS_API_BASE_URL".into(), base.to_string()),
        ("GENESYS_LOGIN_BASE_URL".into(), base.to_string()),
        ("GENESYS_CLIENT_ID".into(), "client-1".into()),
        ("GENESYS_CLIENT_SECRET".into(), SECRET.into()),
    ]
}

async fn token_ok() -> axum::Json<serde_json::Value> {
    axum::Json(
        serde_json::json!({"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600}),
    )
}

/// Runs the binary against `base` with a small job; returns (exit code, stderr, output dir).
async fn run_against(base: String, job: &'static str) -> (Option<i32>, String, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let job_path = tmp.path().join("job.toml");
    std::fs::write(&job_path, job).unwrap();
    let out = tmp.path().join("o");
    let (code, err) = tokio::task::spawn_blocking(move || {
        let o = run_bin(
            &[
                "run",
                "--job",
                job_path.to_str().unwrap(),
                "--output-dir",
                out.to_str().unwrap(),
                "--from",
                "2026-11-19",
                "--to",
                "2026-11-20",
                "--as-of",
                "2026-11-21T00:20:00Z",
            ],
            &fake_env(&base),
        );
        (o.status.code(), stderr(&o))
    })
    .await
    .unwrap();
    (code, err, tmp)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_text_that_echoes_credentials_is_redacted() {
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::{get, post};
    // The API echoes the request's Authorization header in its error message.
    let echo = |headers: HeaderMap| async move {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({
                "code": "bad.request",
                "message": format!("cannot parse request with header Authorization: {auth} {}", "x".repeat(5000)),
            })),
        )
    };
    let base = fake(
        axum::Router::new()
            .route("/oauth/token", post(token_ok))
            .route("/api/v2/routing/wrapupcodes", get(echo)),
    )
    .await;
    let (code, err, tmp) = run_against(base, "max_retries = 0\n").await;
    assert_eq!(code, Some(4), "{err}");
    assert!(!err.contains(TOKEN), "the token reached stderr:\n{err}");
    assert!(err.contains("Bearer [redacted]"), "{err}");
    assert!(
        err.len() < 2_000,
        "server text not cut: {} bytes",
        err.len()
    );
    let m = std::fs::read_to_string(tmp.path().join("o/manifest.json")).unwrap();
    assert!(!m.contains(TOKEN), "{m}");

    // The login host echoes the Basic credentials and the secret when it refuses them.
    let refuse = |headers: HeaderMap| async move {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({
                "error": "invalid_client",
                "error_description": format!("{auth} rejected; client_secret={SECRET}"),
            })),
        )
    };
    let base = fake(axum::Router::new().route("/oauth/token", post(refuse))).await;
    let (code, err, _tmp) = run_against(base, "max_retries = 0\n").await;
    assert_eq!(code, Some(3), "{err}");
    let basic = base64_of(&format!("client-1:{SECRET}"));
    assert!(
        !err.contains(SECRET) && !err.contains(&basic),
        "credentials reached stderr:\n{err}"
    );
    assert!(err.contains("[redacted]"), "{err}");
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_not_blamed_on_a_role_permission() {
    use axum::http::StatusCode;
    use axum::routing::{get, post};
    let refused = || async {
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(
                serde_json::json!({"code": "bad.credentials", "message": "Invalid login credentials."}),
            ),
        )
    };
    let base = fake(
        axum::Router::new()
            .route("/oauth/token", post(token_ok))
            .route("/api/v2/routing/wrapupcodes", get(refused)),
    )
    .await;
    let (code, err, _tmp) = run_against(base, "max_retries = 0\n").await;
    assert_eq!(code, Some(3), "{err}");
    assert!(!err.contains("role needs"), "{err}");
    assert!(err.contains("refused a fresh token"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_body_fails_at_the_cap_without_buffering_it() {
    use axum::routing::{get, post};
    // A 200 that never ends: one MiB of spaces after another.
    let endless = || async {
        let chunk = bytes_of_spaces();
        let stream = futures::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
        axum::body::Body::from_stream(stream)
    };
    let base = fake(
        axum::Router::new()
            .route("/oauth/token", post(token_ok))
            .route("/api/v2/routing/wrapupcodes", get(endless)),
    )
    .await;
    let started = std::time::Instant::now();
    let (code, err, _tmp) = run_against(
        base,
        "max_retries = 0\nmax_response_mb = 2\nrequest_timeout_secs = 60\n",
    )
    .await;
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("over the 2 MiB limit"), "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

fn bytes_of_spaces() -> axum::body::Bytes {
    axum::body::Bytes::from(vec![b' '; 1 << 20])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_manifests_carry_status_error_and_real_api_counts() {
    use wrapup_audit::simulator::SimConfig;
    // The queue catalog is refused: the run fails before any day, after two catalogs were read.
    let sim = sim_with(SimConfig {
        seed: 3,
        conversations_per_day: 10,
        now: as_of(),
        denied_permissions: vec!["routing:queue:view".into()],
        ..SimConfig::default()
    })
    .await;
    let env = env_for(&sim);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let out_s = out.to_str().unwrap().to_string();
    let o = tokio::task::spawn_blocking(move || {
        run_bin(
            &["run", "--output-dir", &out_s, "--requests-per-minute", "0"],
            &env,
        )
    })
    .await
    .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let m = manifest(&out);
    assert_eq!(
        (m["status"].as_str(), m["exit_code"].as_u64()),
        (Some("auth_error"), Some(3)),
        "{m}"
    );
    assert!(
        m["error"].as_str().unwrap().contains("routing:queue:view"),
        "{m}"
    );
    assert_eq!(m["api"]["requests"].as_u64(), Some(2), "{m}");
    assert_eq!(m["api"]["token_requests"].as_u64(), Some(1), "{m}");

    // A failure inside the day loop counts every request made before it.
    let sim = sim_with(SimConfig {
        seed: 3,
        conversations_per_day: 10,
        now: as_of(),
        denied_permissions: vec!["analytics:conversationDetail:view".into()],
        ..SimConfig::default()
    })
    .await;
    let env = env_for(&sim);
    let out_s = out.to_str().unwrap().to_string();
    let o = tokio::task::spawn_blocking(move || {
        run_bin(
            &[
                "run",
                "--output-dir",
                &out_s,
                "--requests-per-minute",
                "0",
                "--mode",
                "query",
            ],
            &env,
        )
    })
    .await
    .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let m = manifest(&out);
    assert_eq!(m["status"], "auth_error", "{m}");
    let logged = sim
        .request_log()
        .iter()
        .filter(|r| r.path.starts_with("/api/"))
        .count() as u64;
    assert!(logged >= 4, "{logged}");
    assert_eq!(m["api"]["requests"].as_u64(), Some(logged), "{m}");
}

#[test]
fn a_panic_exits_70_and_the_manifest_says_internal_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let o = run_bin(
        &[
            "run",
            "--simulator",
            "--output-dir",
            out.to_str().unwrap(),
            "--requests-per-minute",
            "0",
        ],
        &[(
            wrapup_audit::failpoint::VAR.into(),
            "run-after-catalogs:panic".into(),
        )],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(70), "{err}");
    assert!(err.contains("internal error"), "{err}");
    let m = manifest(&out);
    assert_eq!(
        (m["status"].as_str(), m["exit_code"].as_u64()),
        (Some("internal_error"), Some(70)),
        "{m}"
    );
    assert!(m["error"].as_str().unwrap().contains("failpoint"), "{m}");
    assert!(m["api"]["requests"].as_u64().unwrap() >= 3, "{m}");

    // Right after the lock, before anything was asked: still a manifest.
    let early = tmp.path().join("early");
    let o = run_bin(
        &[
            "run",
            "--simulator",
            "--output-dir",
            early.to_str().unwrap(),
        ],
        &[(
            wrapup_audit::failpoint::VAR.into(),
            "run-after-lock:panic".into(),
        )],
    );
    assert_eq!(o.status.code(), Some(70), "{}", stderr(&o));
    assert_eq!(manifest(&early)["status"], "internal_error");

    // Outside a run (no lock, no manifest) a panic still ends with 70, not Rust's 101.
    let o = run_bin(
        &["validate", "--job", "jobs/demo.toml"],
        &[(wrapup_audit::failpoint::VAR.into(), "validate:panic".into())],
    );
    assert_eq!(o.status.code(), Some(70), "{}", stderr(&o));
}

#[test]
fn every_exit_code_is_documented() {
    use wrapup_audit::exit::{ExitStatus, EXIT_CODES_HELP};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let ops = std::fs::read_to_string(root.join("docs/operations.md")).unwrap();
    let table = |doc: &str, heading: &str| -> Vec<u8> {
        let section = doc
            .split("\n## ")
            .find(|s| s.starts_with(heading))
            .unwrap_or_else(|| panic!("no section {heading}"));
        section
            .lines()
            .filter_map(|l| l.strip_prefix("| ")?.split(' ').next()?.parse().ok())
            .collect()
    };
    let codes: Vec<u8> = ExitStatus::ALL.iter().map(|s| s.code()).collect();
    assert_eq!(table(&readme, "Exit codes"), codes, "README.md");
    assert_eq!(table(&ops, "Exit codes"), codes, "docs/operations.md");
    for c in &codes {
        assert!(
            EXIT_CODES_HELP.contains(&format!("  {c} ")),
            "--help lacks {c}"
        );
    }
}

#[test]
fn simulate_fault_flags_reach_the_served_api() {
    use std::io::BufRead;
    let mut sim = std::process::Command::new(env!("CARGO_BIN_EXE_wrapup-audit"))
        .args([
            "simulate",
            "--now",
            "2026-11-21T00:20:00Z",
            "--error-rate-5xx",
            "1",
            "--fault-seed",
            "3",
        ])
        .env_clear()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(sim.stdout.take().unwrap()).lines();
    let base = lines.next().unwrap().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let job = tmp.path().join("job.toml");
    std::fs::write(&job, "max_retries = 0\n").unwrap();
    let env = vec![
        ("GENESYS_API_BASE_URL".to_string(), base.clone()),
        ("GENESYS_CLIENT_ID".to_string(), "sim-client".to_string()),
        (
            "GENESYS_CLIENT_SECRET".to_string(),
            "sim-secret".to_string(),
        ),
    ];
    let o = run_bin(
        &[
            "run",
            "--job",
            job.to_str().unwrap(),
            "--output-dir",
            tmp.path().join("o").to_str().unwrap(),
            "--as-of",
            "2026-11-21T00:20:00Z",
        ],
        &env,
    );
    send_signal(&sim, "-TERM");
    let ended = sim.wait().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("HTTP 50"), "{err}");
    assert_eq!(ended.code(), Some(143), "simulate ends with SIGTERM's code");

    let o = run_bin(&["simulate", "--rate-429", "1.5"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
