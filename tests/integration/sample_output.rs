//! `sample-output/` is what the demo job writes with a fixed clock. This test regenerates it and
//! compares, so the committed folder never drifts from the code; `WRAPUP_AUDIT_BLESS=1` rewrites
//! it instead (a deliberate output change is then one command and a reviewable diff).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use arrow::record_batch::RecordBatch;
use chrono::Utc;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tokio_util::sync::CancellationToken;
use wrapup_audit::config::RunArgs;

/// Keys whose values differ on every run.
const VOLATILE_KEYS: &[&str] = &["run_id", "started_at", "finished_at", "peak_rss_kb"];
/// Left out of the folder and the comparison: the lock is gitignored.
const LOCK_FILE: &str = ".wrapup-audit.lock";

fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-output")
}

/// Relative paths of every file under `dir`, without the lock.
fn files(dir: &Path) -> BTreeSet<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if p.file_name().unwrap() != LOCK_FILE {
                out.insert(p.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

fn parquet_content(path: &Path) -> (arrow::datatypes::SchemaRef, Vec<RecordBatch>) {
    let file = std::fs::File::open(path).unwrap();
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let schema = builder.schema().clone();
    let batches = builder.build().unwrap().collect::<Result<_, _>>().unwrap();
    (schema, batches)
}

fn without_volatile(mut v: serde_json::Value) -> serde_json::Value {
    match &mut v {
        serde_json::Value::Object(map) => {
            for k in VOLATILE_KEYS {
                map.remove(*k);
            }
            for child in map.values_mut() {
                *child = without_volatile(child.take());
            }
        }
        serde_json::Value::Array(items) => {
            for child in items {
                *child = without_volatile(child.take());
            }
        }
        _ => {}
    }
    v
}

fn run_id(dir: &Path) -> String {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    manifest["run_id"].as_str().unwrap().to_string()
}

/// Compares one file of `got` with the committed one; returns a description of the difference.
fn differs(rel: &Path, got: &Path, want: &Path) -> Option<String> {
    let (g, w) = (got.join(rel), want.join(rel));
    let name = rel.to_string_lossy();
    match rel.extension().and_then(|e| e.to_str()) {
        Some("csv") => (std::fs::read(&g).unwrap() != std::fs::read(&w).unwrap())
            .then(|| format!("{name}: bytes differ")),
        Some("parquet") => {
            let (gs, gb) = parquet_content(&g);
            let (ws, wb) = parquet_content(&w);
            if gs != ws {
                Some(format!("{name}: schema differs:\n{gs:#?}\nvs\n{ws:#?}"))
            } else {
                (gb != wb).then(|| format!("{name}: rows differ"))
            }
        }
        Some("json") => {
            let read = |p: &Path| {
                without_volatile(serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            };
            let (gv, wv) = (read(&g), read(&w));
            (gv != wv).then(|| {
                format!(
                    "{name} differs:\n{}\nvs committed\n{}",
                    serde_json::to_string_pretty(&gv).unwrap(),
                    serde_json::to_string_pretty(&wv).unwrap()
                )
            })
        }
        // summary.md and summary.html quote the run id; everything else in them must match.
        _ => {
            let text =
                |p: &Path, id: &str| std::fs::read_to_string(p).unwrap().replace(id, "<run_id>");
            (text(&g, &run_id(got)) != text(&w, &run_id(want)))
                .then(|| format!("{name}: text differs"))
        }
    }
}

/// Replaces `sample-output/` by the fresh run (minus the lock).
fn bless(fresh: &Path, dest: &Path) {
    if dest.exists() {
        std::fs::remove_dir_all(dest).unwrap();
    }
    for rel in files(fresh) {
        let to = dest.join(&rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(fresh.join(&rel), to).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_output_is_current() {
    let tmp = tempfile::tempdir().unwrap();
    // The README's command; the job path stays relative (the test runs from the crate root), so
    // the manifest's `job_file` reads as it does in the committed folder.
    let cmd = RunArgs {
        job: Some(PathBuf::from("jobs/demo.toml")),
        as_of: Some("2026-11-21T00:20:00Z".into()),
        from: Some("2026-11-20".into()),
        to: Some("2026-11-21T00:20:00Z".into()),
        output_dir: Some(tmp.path().to_path_buf()),
        ..RunArgs::default()
    };
    let env: Vec<(String, String)> = Vec::new();
    let result =
        wrapup_audit::commands::run::run_command(&cmd, &env, Utc::now(), CancellationToken::new())
            .await
            .expect("the demo run succeeds");
    assert_eq!(result.status.code(), 0);

    let want = sample_dir();
    if std::env::var("WRAPUP_AUDIT_BLESS").as_deref() == Ok("1") {
        bless(tmp.path(), &want);
        return;
    }
    let hint = "if the change is intended, run: WRAPUP_AUDIT_BLESS=1 cargo test --test integration sample_output";
    let (got_files, want_files) = (files(tmp.path()), files(&want));
    assert_eq!(got_files, want_files, "the file lists differ; {hint}");
    let problems: Vec<String> = got_files
        .iter()
        .filter_map(|rel| differs(rel, tmp.path(), &want))
        .collect();
    assert!(
        problems.is_empty(),
        "sample-output/ is out of date; {hint}\n{}",
        problems.join("\n")
    );
}
