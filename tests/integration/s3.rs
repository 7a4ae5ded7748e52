//! Object-storage output against a real S3-compatible server: moto's server, started here on
//! 127.0.0.1:0 from the venv `.ci/run` makes (`WRAPUP_TEST_PYTHON`, else
//! `target/client-check-venv/bin/python`). Without it the tests skip, except under `CI=true`, where
//! they fail. GCS and Azure take the same `object_store` calls; no emulator for them is set up here.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use object_store::{aws::AmazonS3Builder, ObjectStore, ObjectStoreExt};

use crate::support::emulator::Emulator;
use crate::support::*;

const KEY_ID: &str = "AKIATESTKEYNEVERLOGGED";
const SECRET: &str = "s3cr3t-value-that-must-never-reach-a-log";
const AS_OF: &str = "2026-11-21T00:20:00Z";

/// The venv's python with moto, or `None` (skip) outside CI.
fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("WRAPUP_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/client-check-venv/bin/python")
        });
    let ok = Command::new(&candidate)
        .args(["-c", "import moto.server, boto3, pyarrow"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(candidate);
    }
    let msg = format!(
        "no python with moto[server], boto3 and pyarrow at {} (run `bash scripts/check_clients.sh --setup` and set WRAPUP_TEST_PYTHON)",
        candidate.display()
    );
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
    eprintln!("skipping the S3 test: {msg}");
    None
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/integration/py")
        .join(name)
}

/// A moto server process (`py/moto_s3.py`); stopped when dropped.
struct Moto(Emulator);

impl Moto {
    fn start(python: &Path, auth: bool, buckets: &[&str]) -> Moto {
        let mut args = Vec::new();
        if auth {
            args.push("--auth");
        }
        args.extend_from_slice(buckets);
        Moto(Emulator::start(python, "moto_s3.py", &args))
    }

    fn endpoint(&self) -> String {
        self.0.url()
    }

    fn store(&self, bucket: &str) -> Arc<dyn ObjectStore> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Arc::new(
            AmazonS3Builder::new()
                .with_bucket_name(bucket)
                .with_endpoint(self.endpoint())
                .with_region("us-east-1")
                .with_access_key_id(KEY_ID)
                .with_secret_access_key(SECRET)
                .with_allow_http(true)
                .build()
                .unwrap(),
        )
    }
}

/// Environment of a run against `sim` writing to `moto`.
fn s3_env(
    sim: &wrapup_audit::simulator::SimHandle,
    moto: &Moto,
    staging: &Path,
) -> Vec<(String, String)> {
    let mut env = env_for(sim);
    env.extend([
        ("AWS_ACCESS_KEY_ID".into(), KEY_ID.into()),
        ("AWS_SECRET_ACCESS_KEY".into(), SECRET.into()),
        ("AWS_REGION".into(), "us-east-1".into()),
        ("AWS_ENDPOINT_URL".into(), moto.endpoint()),
        (
            "WRAPUP_AUDIT_STAGING_DIR".into(),
            staging.display().to_string(),
        ),
        ("RUST_LOG".into(), "trace".into()),
    ]);
    env
}

fn args<'a>(from: &'a str, to: &'a str, out: &'a str, rpm: &'a str) -> Vec<&'a str> {
    vec![
        "run",
        "--from",
        from,
        "--to",
        to,
        "--as-of",
        AS_OF,
        "--output-dir",
        out,
        "--requests-per-minute",
        rpm,
    ]
}

/// Every object under `prefix`: relative key → bytes.
async fn objects(
    store: &Arc<dyn ObjectStore>,
    prefix: &str,
) -> std::collections::BTreeMap<String, Vec<u8>> {
    let p = object_store::path::Path::from(prefix);
    let metas: Vec<_> = store.list(Some(&p)).try_collect().await.unwrap();
    let mut out = std::collections::BTreeMap::new();
    for m in metas {
        let bytes = store.get(&m.location).await.unwrap().bytes().await.unwrap();
        let rel = m.location.as_ref()[prefix.len()..]
            .trim_start_matches('/')
            .to_string();
        out.insert(rel, bytes.to_vec());
    }
    out
}

/// Every file under a local output, relative path → bytes (the lock left out).
fn local_files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if !p.file_name().unwrap().to_string_lossy().starts_with('.') {
                let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn partition_keys(m: &std::collections::BTreeMap<String, Vec<u8>>) -> Vec<&String> {
    m.keys()
        .filter(|k| k.starts_with("csv/") || k.starts_with("parquet/"))
        .collect()
}

fn no_secrets(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "the secret key reached {what}");
    assert!(!text.contains(KEY_ID), "the access key id reached {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_job_into_s3_reads_back_by_root_path() {
    let Some(py) = python() else { return };
    let moto = Moto::start(&py, false, &["lake"]);
    let sim = sim(41, 60).await;
    let tmp = tempfile::tempdir().unwrap();
    let env = s3_env(&sim, &moto, &tmp.path().join("staging"));
    let local = tmp.path().join("local");
    let local_s = local.to_str().unwrap().to_string();

    let (o, l) = {
        let env = env.clone();
        tokio::task::spawn_blocking(move || {
            let o = run_bin(
                &args("2026-11-18", "2026-11-21", "s3://lake/reports/wrapup", "0"),
                &env,
            );
            let l = run_bin(&args("2026-11-18", "2026-11-21", &local_s, "0"), &env);
            (o, l)
        })
        .await
        .unwrap()
    };
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(l.status.code(), Some(0), "{}", stderr(&l));
    no_secrets("the log", &err);

    // The bucket holds exactly what a local run writes: same keys, same partition bytes, no
    // staging, temporary or lock objects left.
    let store = moto.store("lake");
    let remote = objects(&store, "reports/wrapup").await;
    let here = local_files(&local);
    assert_eq!(
        remote.keys().collect::<Vec<_>>(),
        here.keys().collect::<Vec<_>>()
    );
    for k in partition_keys(&here) {
        assert!(
            remote[k] == here[k],
            "{k} differs between S3 and the local run"
        );
    }
    for (k, v) in &remote {
        no_secrets(k, &String::from_utf8_lossy(v));
    }
    let manifest: serde_json::Value = serde_json::from_slice(&remote["manifest.json"]).unwrap();
    assert_eq!(manifest["status"], "success");

    // Memory: writing to S3 stays within the local run's peak + 64 MB.
    let local_manifest: serde_json::Value = serde_json::from_slice(&here["manifest.json"]).unwrap();
    if let (Some(s3), Some(disk)) = (
        manifest["peak_rss_kb"].as_u64(),
        local_manifest["peak_rss_kb"].as_u64(),
    ) {
        assert!(
            s3 <= disk + 64 * 1024,
            "peak RSS {s3} KiB writing to S3, {disk} KiB locally"
        );
    }

    // An analyst's reader opens each root by its path alone.
    let read = Command::new(&py)
        .arg(script("read_s3.py"))
        .args([moto.endpoint().as_str(), "lake/reports/wrapup"])
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .output()
        .unwrap();
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
    let sum = |t: &str| -> u64 {
        manifest["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[t].as_u64().unwrap())
            .sum()
    };
    for f in ["parquet", "csv"] {
        assert_eq!(
            got[format!("{f}/conversations")],
            sum("conversations"),
            "{f}"
        );
        assert_eq!(got[format!("{f}/legs")], sum("legs"), "{f}");
        assert_eq!(
            got["dates"][format!("{f}/conversations")],
            serde_json::json!(["2026-11-18", "2026-11-19", "2026-11-20"])
        );
    }

    // A rerun with only Parquet replaces each day whole: the CSV objects of the window go.
    let env2 = env.clone();
    let o = tokio::task::spawn_blocking(move || {
        let mut a = args("2026-11-18", "2026-11-21", "s3://lake/reports/wrapup", "0");
        a.extend(["--format", "parquet"]);
        run_bin(&a, &env2)
    })
    .await
    .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let after = objects(&store, "reports/wrapup").await;
    assert!(
        after.keys().all(|k| !k.starts_with("csv/")),
        "{:?}",
        after.keys()
    );
    assert_eq!(
        after.keys().filter(|k| k.starts_with("parquet/")).count(),
        3 * wrapup_audit::sink::Table::ALL.len()
    );
    sim.shutdown().await;
}

/// Polls the bucket (bounded) until `key` exists, while `child` still runs.
async fn wait_for_object(store: &Arc<dyn ObjectStore>, key: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(90);
    let path = object_store::path::Path::from(key);
    while store.head(&path).await.is_err() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before {key} appeared"
        );
        assert!(Instant::now() < deadline, "{key} never appeared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_run_resumes_and_the_lock_keeps_a_second_run_out() {
    let Some(py) = python() else { return };
    let moto = Moto::start(&py, false, &["lake"]);
    let sim = sim(42, 60).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut env = s3_env(&sim, &moto, &tmp.path().join("staging"));
    env.push(("WRAPUP_AUDIT_LOCK_LEASE_SECS".into(), "3".into()));
    let url = "s3://lake/w";
    let store = moto.store("lake");

    // Slowed by the limiter so it is still writing when the second run starts and when killed.
    let mut first = {
        let mut c = Command::new(env!("CARGO_BIN_EXE_wrapup-audit"));
        c.args(args("2026-11-15", "2026-11-20", url, "900"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_clear()
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Ok(path) = std::env::var("PATH") {
            c.env("PATH", path);
        }
        c.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        c.spawn().unwrap()
    };
    // The manifest appears once the first day is published (its files go first).
    wait_for_object(&store, "w/manifest.json", &mut first).await;

    // A second run finds the lock held and leaves.
    let env2 = env.clone();
    let second = tokio::task::spawn_blocking(move || {
        run_bin(&args("2026-11-15", "2026-11-20", url, "0"), &env2)
    })
    .await
    .unwrap();
    let err = stderr(&second);
    assert_eq!(second.status.code(), Some(6), "{err}");
    assert!(
        err.contains("another run holds the lock on s3://lake/w"),
        "{err}"
    );

    // Killed in the middle of a later day.
    first.kill().unwrap();
    first.wait().unwrap();
    let left = objects(&store, "w").await;
    let manifest: serde_json::Value = serde_json::from_slice(&left["manifest.json"]).unwrap();
    assert_eq!(manifest["status"], "running");
    let listed: Vec<String> = manifest["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            p["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["path"].as_str().unwrap().to_string())
        })
        .collect();
    // Every object of a day is complete (Parquet ends with its footer), and the manifest never
    // lists a file the bucket lacks.
    for k in partition_keys(&left) {
        if k.ends_with(".parquet") {
            assert!(left[k].ends_with(b"PAR1"), "{k} is incomplete");
        }
    }
    for p in &listed {
        assert!(
            left.contains_key(p),
            "manifest lists {p} but the bucket lacks it"
        );
    }

    // The dead run's lock expires with its lease; then a rerun takes it over and resumes.
    let lock: serde_json::Value = serde_json::from_slice(&left["_wrapup-audit.lock"]).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(lock["expires_at"].as_str().unwrap()).unwrap();
    let wait = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(200)).await;
    let env3 = env.clone();
    let local = tmp.path().join("clean");
    let local_s = local.to_str().unwrap().to_string();
    let (o, clean) = tokio::task::spawn_blocking(move || {
        (
            run_bin(&args("2026-11-15", "2026-11-20", url, "0"), &env3),
            run_bin(&args("2026-11-15", "2026-11-20", &local_s, "0"), &env3),
        )
    })
    .await
    .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    assert!(err.contains("Took over an expired lock"), "{err}");
    assert!(err.contains("Resuming"), "{err}");
    assert!(err.contains("Skipping date=2026-11-15"), "{err}");
    no_secrets("the log", &err);

    let remote = objects(&store, "w").await;
    let here = local_files(&local);
    assert_eq!(partition_keys(&remote), partition_keys(&here));
    for k in partition_keys(&here) {
        assert!(remote[k] == here[k], "{k} differs from a clean run");
    }
    assert!(
        !remote.contains_key("_wrapup-audit.lock"),
        "the lock is released"
    );
    let m: serde_json::Value = serde_json::from_slice(&remote["manifest.json"]).unwrap();
    assert_eq!(m["status"], "success");
    assert!(m["resumed_days"].as_u64().unwrap() >= 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_destinations_fail_before_any_api_call_with_exit_5() {
    let Some(py) = python() else { return };
    let moto = Moto::start(&py, false, &["lake"]);
    let guarded = Moto::start(&py, true, &["private"]);
    // Bound but not listening: the port stays this test's, and a connection to it is refused.
    let unlistened = tokio::net::TcpSocket::new_v4().unwrap();
    unlistened.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let closed = unlistened.local_addr().unwrap().port();
    let sim = sim(43, 20).await;
    let tmp = tempfile::tempdir().unwrap();
    let env = s3_env(&sim, &moto, &tmp.path().join("staging"));
    let with_endpoint = |endpoint: String| -> Vec<(String, String)> {
        env.iter()
            .cloned()
            .map(|(k, v)| {
                if k == "AWS_ENDPOINT_URL" {
                    (k, endpoint.clone())
                } else {
                    (k, v)
                }
            })
            .collect()
    };
    let cases = [
        ("ftp://lake/x", env.clone(), "unknown storage scheme ftp://"),
        ("s3://missing-bucket/x", env.clone(), "does not exist"),
        (
            "s3://private/x",
            with_endpoint(guarded.endpoint()),
            "access denied",
        ),
        // Wrong endpoint: a closed port, and the right port with the wrong scheme (TLS to a
        // plain-HTTP server).
        (
            "s3://lake/x",
            with_endpoint(format!("http://127.0.0.1:{closed}")),
            "cannot be reached",
        ),
        (
            "s3://lake/x",
            with_endpoint(format!("https://127.0.0.1:{}", moto.0.port)),
            "cannot be reached",
        ),
        // Wrong region: not here. moto (5.x) serves a bucket created in one region to requests
        // signed for any other (checked with boto3 against a bucket in eu-west-1, with and without
        // moto's auth), so it cannot produce the 301 PermanentRedirect / 400
        // AuthorizationHeaderMalformed that AWS answers; the unit test
        // `region_and_access_errors_name_their_cause` covers the message for those answers.
    ];
    for (url, env, want) in cases {
        let started = Instant::now();
        let o = tokio::task::spawn_blocking(move || {
            run_bin(&args("2026-11-19", "2026-11-20", url, "0"), &env)
        })
        .await
        .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(5), "{url}: {err}");
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{url}: {err}");
        assert!(errors[0].contains(want), "{url}: {}", errors[0]);
        no_secrets("the log", &err);
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{url} took {:?}",
            started.elapsed()
        );
    }
    assert!(
        sim.request_log().is_empty(),
        "a bad destination must stop the run before any Genesys request"
    );
    drop(unlistened);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_taken_over_mid_run_stops_it_with_exit_6_and_publishes_nothing_more() {
    let Some(py) = python() else { return };
    let moto = Moto::start(&py, false, &["lake"]);
    let sim = sim(44, 60).await;
    let tmp = tempfile::tempdir().unwrap();
    let staging = tmp.path().join("staging");
    let mut env = s3_env(&sim, &moto, &staging);
    // Renewed every second, so a takeover is seen within about a second even between days.
    env.push(("WRAPUP_AUDIT_LOCK_LEASE_SECS".into(), "3".into()));
    let url = "s3://lake/t";
    let store = moto.store("lake");

    // Slowed by the limiter so that days remain to publish when the lock is taken over.
    let log_path = tmp.path().join("stderr.log");
    let mut run = {
        let mut c = Command::new(env!("CARGO_BIN_EXE_wrapup-audit"));
        c.args(args("2026-11-15", "2026-11-20", url, "300"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_clear()
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap());
        if let Ok(path) = std::env::var("PATH") {
            c.env("PATH", path);
        }
        c.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        c.spawn().unwrap()
    };
    wait_for_object(&store, "t/manifest.json", &mut run).await;

    // Another run takes the lock over (as an operator's forced takeover or a clock-skewed peer
    // would): an unconditional PUT of its own body.
    let theirs = serde_json::json!({
        "owner": "other-host pid 1",
        "run_id": "20261121T010000Z-0th3r0wn",
        "acquired_at": "2026-11-21T01:00:00Z",
        "expires_at": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
    });
    let theirs = serde_json::to_vec(&theirs).unwrap();
    let lock_key = object_store::path::Path::from("t/_wrapup-audit.lock");
    store.put(&lock_key, theirs.clone().into()).await.unwrap();
    let at_takeover = objects(&store, "t").await;

    let code = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || run.wait().unwrap()),
    )
    .await
    .expect("the run stops after losing its lock")
    .unwrap()
    .code();
    let err = std::fs::read_to_string(&log_path).unwrap();
    assert_eq!(code, Some(6), "{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(
        errors[0].contains(
            "lost the lock on s3://lake/t: another run took it over (now run 20261121T010000Z-0th3r0wn"
        ),
        "{}",
        errors[0]
    );
    no_secrets("the log", &err);

    // The store is left to the new holder: its lock untouched, no success published, and at
    // most the one day whose upload had already begun when the lock changed hands.
    let after = objects(&store, "t").await;
    assert_eq!(after["_wrapup-audit.lock"], theirs, "the new holder's lock");
    let days = |m: &std::collections::BTreeMap<String, Vec<u8>>| -> usize {
        let v: serde_json::Value = serde_json::from_slice(&m["manifest.json"]).unwrap();
        assert_ne!(v["status"], "success", "a success was published");
        v["partitions"].as_array().unwrap().len()
    };
    let (before_n, after_n) = (days(&at_takeover), days(&after));
    assert!(
        after_n <= before_n + 1 && after_n < 5,
        "{before_n} days published at the takeover, {after_n} after"
    );
    if after_n == before_n {
        for k in ["manifest.json", "partitions.json"] {
            assert!(
                after[k] == at_takeover[k],
                "{k} was published after the takeover"
            );
        }
    }
    assert!(!after.contains_key("summary.json"), "{:?}", after.keys());

    // The run's own manifest (in its staging folder) says why it stopped.
    let staged = std::fs::read_dir(&staging)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(staged.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["status"], "locked", "{m}");
    assert!(
        m["error"]
            .as_str()
            .unwrap()
            .starts_with("lost the lock on s3://lake/t"),
        "{m}"
    );
    sim.shutdown().await;
}

/// Object metadata under `prefix`: relative key → (last modified, ETag).
async fn versions(
    store: &Arc<dyn ObjectStore>,
    prefix: &str,
) -> std::collections::BTreeMap<String, (chrono::DateTime<chrono::Utc>, Option<String>)> {
    let p = object_store::path::Path::from(prefix);
    let metas: Vec<_> = store.list(Some(&p)).try_collect().await.unwrap();
    metas
        .into_iter()
        .map(|m| {
            let rel = m.location.as_ref()[prefix.len()..]
                .trim_start_matches('/')
                .to_string();
            (rel, (m.last_modified, m.e_tag))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookback_on_s3_reaudits_the_stores_non_final_days_and_leaves_final_ones() {
    let Some(py) = python() else { return };
    let moto = Moto::start(&py, false, &["lake"]);
    let sim = sim(45, 60).await;
    let tmp = tempfile::tempdir().unwrap();
    let env = s3_env(&sim, &moto, &tmp.path().join("staging"));
    let store = moto.store("lake");
    let url = "s3://lake/lb";
    let local = tmp.path().join("local");
    let local_s = local.to_str().unwrap().to_string();

    // Night 1: the window reaches the clock, so 2026-11-20 holds in_progress/too_recent rows and
    // is not final; 2026-11-19 is. The same nights run into a local folder for comparison.
    let (s3, disk) = {
        let (env, local_s) = (env.clone(), local_s.clone());
        tokio::task::spawn_blocking(move || {
            let run = |out: &str| run_bin(&args("2026-11-19", AS_OF, out, "0"), &env);
            (run(url), run(&local_s))
        })
        .await
        .unwrap()
    };
    assert_eq!(s3.status.code(), Some(0), "{}", stderr(&s3));
    assert_eq!(disk.status.code(), Some(0), "{}", stderr(&disk));
    let index: serde_json::Value =
        serde_json::from_slice(&objects(&store, "lb").await["partitions.json"]).unwrap();
    assert_eq!(index["2026-11-19"]["is_final"], true, "{index}");
    assert_eq!(index["2026-11-20"]["is_final"], false, "{index}");
    let night1 = versions(&store, "lb").await;

    // Night 2, a day later, a fresh staging folder (another pod): only the new day is in the
    // window, and the lookback read from the bucket's partitions.json re-audits 2026-11-20.
    let later = as_of() + chrono::Duration::days(1);
    sim.set_now(later);
    let staging2 = tmp.path().join("staging2");
    let env2: Vec<(String, String)> = env
        .iter()
        .cloned()
        .map(|(k, v)| match k.as_str() {
            "WRAPUP_AUDIT_STAGING_DIR" => (k, staging2.display().to_string()),
            _ => (k, v),
        })
        .collect();
    let later_s = later.to_rfc3339();
    let (s3, disk) = {
        let local_s = local_s.clone();
        tokio::task::spawn_blocking(move || {
            let run = |out: &str| {
                let mut a = args("2026-11-21", "2026-11-22", out, "0");
                let i = a.iter().position(|x| *x == AS_OF).unwrap();
                a[i] = later_s.as_str();
                a.extend(["--lookback-days", "3"]);
                run_bin(&a, &env2)
            };
            (run(url), run(&local_s))
        })
        .await
        .unwrap()
    };
    let err = stderr(&s3);
    assert_eq!(s3.status.code(), Some(0), "{err}");
    assert_eq!(disk.status.code(), Some(0), "{}", stderr(&disk));
    assert!(
        err.contains("Re-auditing 1 earlier day(s) that were not final"),
        "{err}"
    );
    no_secrets("the log", &err);

    let remote = objects(&store, "lb").await;
    let index: serde_json::Value = serde_json::from_slice(&remote["partitions.json"]).unwrap();
    assert_eq!(index["2026-11-20"]["is_final"], true, "{index}");
    let manifest: serde_json::Value = serde_json::from_slice(&remote["manifest.json"]).unwrap();
    assert_eq!(manifest["healed_days"], serde_json::json!(["2026-11-20"]));
    // The bucket holds what the local folder holds after the same two nights.
    let here = local_files(&local);
    assert_eq!(partition_keys(&remote), partition_keys(&here));
    for k in partition_keys(&here) {
        assert!(remote[k] == here[k], "{k} differs from the local run");
    }
    // The final day was not written again; the healed day was.
    let night2 = versions(&store, "lb").await;
    for (k, v) in &night1 {
        if k.contains("date=2026-11-19/") {
            assert_eq!(night2.get(k), Some(v), "{k} was rewritten");
        }
        if k.contains("date=2026-11-20/") {
            assert_ne!(night2.get(k), Some(v), "{k} was not re-audited");
        }
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_the_closing_line_name_the_destination_never_the_staging_folder() {
    let Some(py) = python() else { return };
    let pg = crate::operate::pushgateway().await;
    let moto = Moto::start(&py, false, &["lake"]);
    let sim = sim(47, 30).await;
    let tmp = tempfile::tempdir().unwrap();
    let staging = tmp.path().join("staging");
    let env = s3_env(&sim, &moto, &staging);
    let prom = tmp.path().join("wrapup_audit.prom");
    // Pasted with a user part and a query, as a URL sometimes is: neither may reach a label or log.
    let url = format!("s3://{KEY_ID}:{SECRET}@lake/m?token={SECRET}");
    let mut a: Vec<String> = args("2026-11-19", "2026-11-21", &url, "0")
        .into_iter()
        .map(String::from)
        .collect();
    a.extend([
        "--metrics-file".into(),
        prom.display().to_string(),
        "--log-format".into(),
        "json".into(),
    ]);
    if let Some(pg) = &pg {
        a.extend(["--pushgateway-url".into(), pg.url.clone()]);
    }
    let run = |a: Vec<String>, env: Vec<(String, String)>| {
        tokio::task::spawn_blocking(move || {
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            run_bin(&a, &env)
        })
    };
    let o = run(a.clone(), env.clone()).await.unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    no_secrets("the log", &err);
    let staged = staging.display().to_string();
    assert!(!err.contains("?token"), "{err}");
    let last: serde_json::Value = serde_json::from_str(err.lines().last().unwrap()).unwrap();
    assert_eq!(last["output_dir"], "s3://lake/m", "{last}");
    assert_eq!(last["summary_html"], "s3://lake/m/summary.html", "{last}");
    assert!(
        last["message"]
            .as_str()
            .unwrap()
            .contains("reports in s3://lake/m, open s3://lake/m/summary.html"),
        "{last}"
    );

    // The text file, read by a real Prometheus text parser: no label names the staging folder
    // or carries a credential.
    let text = std::fs::read_to_string(&prom).unwrap();
    no_secrets("the metrics file", &text);
    let file = crate::operate::samples(&text);
    assert!(!file.is_empty());
    for (name, labels, _) in &file {
        for v in labels.values() {
            assert!(!v.contains(&staged), "{name} has a staging label {v}");
        }
    }

    // A failed run (refused Genesys credentials) names the destination too.
    let mut bad = env.clone();
    bad.retain(|(k, _)| k != "GENESYS_CLIENT_SECRET");
    bad.push(("GENESYS_CLIENT_SECRET".into(), "wrong".into()));
    let o = run(a, bad).await.unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    no_secrets("the log", &err);
    let fatal: serde_json::Value = serde_json::from_str(err.lines().last().unwrap()).unwrap();
    assert_eq!(fatal["output_dir"], "s3://lake/m", "{fatal}");

    let Some(pg) = pg else {
        eprintln!("skipped the Pushgateway half: no prometheus-pushgateway here");
        return;
    };
    // The push's `instance` label is the destination URL, for the success and the failure alike.
    let scraped = reqwest::get(format!("{}/metrics", pg.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    no_secrets("the Pushgateway", &scraped);
    let pushed = crate::operate::samples(&scraped);
    let ours: Vec<_> = pushed
        .iter()
        .filter(|(n, _, _)| n.starts_with("wrapup_audit_"))
        .collect();
    assert!(!ours.is_empty(), "{scraped}");
    for (name, labels, _) in &ours {
        assert_eq!(
            labels.get("instance").map(String::as_str),
            Some("s3://lake/m"),
            "{name}: {labels:?}"
        );
        for v in labels.values() {
            assert!(!v.contains(&staged), "{name} has a staging label {v}");
        }
    }
    let exit = ours
        .iter()
        .find(|(n, _, _)| n == "wrapup_audit_last_run_exit_code")
        .unwrap();
    assert_eq!(exit.2, 3.0);
    sim.shutdown().await;
}
