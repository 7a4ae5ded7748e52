//! `az://` destinations against Azurite's blob service, started here on 127.0.0.1:0 (npm
//! `azurite`, installed by `.ci/run` into `target/azurite`, or `WRAPUP_TEST_AZURITE`; a python
//! script creates the container). Without it the test skips, except under `CI=true`, where it
//! fails. The run takes the same `object_store` calls as for S3; only the store's environment
//! differs. No installable GCS emulator serves `object_store`'s GCS calls (docs/operations.md says
//! what was tried), so `gs://` has no test here.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::support::emulator::Emulator;
use crate::support::*;

const AS_OF: &str = "2026-11-21T00:20:00Z";
/// Azurite's documented development account and key (public, not a secret).
const AZ_ACCOUNT: &str = "devstoreaccount1";
const AZ_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn missing(what: &str) {
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{what}");
    eprintln!("skipping: {what}");
}

fn python() -> Option<PathBuf> {
    let py = std::env::var_os("WRAPUP_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/client-check-venv/bin/python"));
    let ok = Command::new(&py)
        .args(["-c", "import json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(py);
    }
    missing(&format!(
        "no python at {} (run `bash scripts/check_clients.sh --setup` and set WRAPUP_TEST_PYTHON)",
        py.display()
    ));
    None
}

fn azurite_bin() -> Option<PathBuf> {
    let bin = std::env::var_os("WRAPUP_TEST_AZURITE")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/azurite/node_modules/.bin/azurite-blob"));
    if bin.exists() {
        return Some(bin);
    }
    missing(&format!(
        "no Azurite at {} (`npm install --prefix target/azurite azurite@3.35.0`, as .ci/run does)",
        bin.display()
    ));
    None
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

/// Partition files of a local output: relative path → bytes.
fn local_partitions(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                if rel.starts_with("csv/") || rel.starts_with("parquet/") {
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_job_into_azure_blob_on_azurite_reads_back_and_locks() {
    let (Some(py), Some(bin)) = (python(), azurite_bin()) else {
        return;
    };
    let az = Emulator::start(&py, "azurite.py", &[bin.to_str().unwrap(), "lake"]);
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The test reads with an explicit endpoint and key; the run uses the emulator switch.
    let store: Arc<dyn ObjectStore> = Arc::new(
        object_store::azure::MicrosoftAzureBuilder::new()
            .with_endpoint(format!("{}/{AZ_ACCOUNT}", az.url()))
            .with_account(AZ_ACCOUNT)
            .with_access_key(AZ_KEY)
            .with_container_name("lake")
            .with_allow_http(true)
            .build()
            .unwrap(),
    );
    let sim = sim(46, 40).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut env = env_for(&sim);
    env.extend([
        ("AZURE_STORAGE_USE_EMULATOR".to_string(), "true".to_string()),
        ("AZURITE_BLOB_STORAGE_URL".into(), az.url()),
        (
            "WRAPUP_AUDIT_STAGING_DIR".into(),
            tmp.path().join("staging").display().to_string(),
        ),
        ("RUST_LOG".into(), "trace".into()),
    ]);
    let url = "az://lake/reports/wrapup";
    let local = tmp.path().join("local");
    let local_s = local.to_str().unwrap().to_string();
    let run = |out: String, env: Vec<(String, String)>| {
        tokio::task::spawn_blocking(move || {
            run_bin(
                &[
                    "run",
                    "--from",
                    "2026-11-19",
                    "--to",
                    "2026-11-21",
                    "--as-of",
                    AS_OF,
                    "--output-dir",
                    &out,
                    "--requests-per-minute",
                    "0",
                ],
                &env,
            )
        })
    };

    // A lock object another run holds (lease in the future): Azure's create-if-absent refuses.
    let lock = object_store::path::Path::from("reports/wrapup/_wrapup-audit.lock");
    let theirs = serde_json::json!({
        "owner": "other-host pid 1",
        "run_id": "20261121T010000Z-0th3r0wn",
        "acquired_at": "2026-11-21T01:00:00Z",
        "expires_at": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
    });
    store
        .put(&lock, serde_json::to_vec(&theirs).unwrap().into())
        .await
        .unwrap();
    let o = run(url.into(), env.clone()).await.unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(6), "{err}");
    assert!(
        err.contains("another run holds the lock on az://lake/reports/wrapup"),
        "{err}"
    );
    store.delete(&lock).await.unwrap();

    let (o, l) = (
        run(url.into(), env.clone()).await.unwrap(),
        run(local_s, env).await.unwrap(),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(l.status.code(), Some(0), "{}", stderr(&l));
    assert!(!err.contains(AZ_KEY), "the account key reached the log");
    assert!(err.contains(&format!("reports in {url}")), "{err}");

    // Read back: the container holds the local run's partitions byte for byte, the run files, a
    // success manifest, and no lock or staging object.
    let remote = objects(&store, "reports/wrapup").await;
    let here = local_partitions(&local);
    let remote_parts: Vec<&String> = remote
        .keys()
        .filter(|k| k.starts_with("csv/") || k.starts_with("parquet/"))
        .collect();
    assert_eq!(remote_parts, here.keys().collect::<Vec<_>>());
    for (k, v) in &here {
        assert!(&remote[k] == v, "{k} differs from the local run");
    }
    for k in [
        "partitions.json",
        "summary.json",
        "summary.html",
        "summary.md",
    ] {
        assert!(remote.contains_key(k), "{k} missing: {:?}", remote.keys());
    }
    assert!(
        remote
            .keys()
            .all(|k| !k.starts_with('_') && !k.starts_with('.')),
        "a lock or staging object was left: {:?}",
        remote.keys()
    );
    let manifest: serde_json::Value = serde_json::from_slice(&remote["manifest.json"]).unwrap();
    assert_eq!(manifest["status"], "success");
    assert_eq!(manifest["partitions"].as_array().unwrap().len(), 2);
    sim.shutdown().await;
}
