//! One Hive root per table and format, and the move of old single-folder outputs into it.

use std::path::Path;

use crate::support::*;

/// Turns a new-layout output back into what versions before the per-table roots wrote:
/// `date=D/<table>.<format>` and the catalogs at the top, manifest paths to match.
fn make_legacy(out: &Path) {
    for format in ["csv", "parquet"] {
        // The old layout had no compliance table.
        std::fs::remove_dir_all(out.join(format).join("compliance")).unwrap();
        for table in ["conversations", "legs"] {
            let root = out.join(format).join(table);
            for day in std::fs::read_dir(&root).unwrap() {
                let day = day.unwrap().path();
                let name = day.file_name().unwrap().to_owned();
                std::fs::create_dir_all(out.join(&name)).unwrap();
                let file = format!("{table}.{format}");
                std::fs::rename(day.join(&file), out.join(&name).join(&file)).unwrap();
                std::fs::remove_dir(&day).unwrap();
            }
            std::fs::remove_dir(&root).unwrap();
        }
        std::fs::remove_dir(out.join(format)).unwrap();
    }
    for c in ["wrapup_codes.csv", "queues.csv", "users.csv"] {
        std::fs::rename(out.join("catalogs").join(c), out.join(c)).unwrap();
    }
    std::fs::remove_dir(out.join("catalogs")).unwrap();
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    let mut m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    for p in m["partitions"].as_array_mut().unwrap() {
        for f in p["files"].as_array_mut().unwrap() {
            let path = f["path"].as_str().unwrap().to_string();
            let parts: Vec<&str> = path.split('/').collect();
            f["path"] = format!("{}/{}", parts[2], parts[3]).into();
        }
    }
    std::fs::write(
        out.join("manifest.json"),
        serde_json::to_string_pretty(&m).unwrap(),
    )
    .unwrap();
}

fn top_level(out: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_root_holds_only_its_tables_days() {
    let sim = sim(31, 40).await;
    let out = tempfile::tempdir().unwrap();
    let cmd = run_cmd("2026-11-19", "2026-11-21", out.path());
    run_in_process(&cmd, &sim).await.expect("run succeeds");
    assert_eq!(
        top_level(out.path()),
        [
            "catalogs",
            "csv",
            "manifest.json",
            "parquet",
            "partitions.json",
            "summary.html",
            "summary.json",
            "summary.md"
        ]
    );
    for format in ["csv", "parquet"] {
        for table in ["conversations", "legs"] {
            let root = out.path().join(format).join(table);
            let mut days = top_level(&root);
            days.sort();
            assert_eq!(
                days,
                ["date=2026-11-19", "date=2026-11-20"],
                "{format}/{table}"
            );
            for d in days {
                assert_eq!(
                    top_level(&root.join(&d)),
                    [format!("{table}.{format}")],
                    "{format}/{table}/{d}"
                );
            }
        }
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerun_over_the_old_layout_moves_it_and_keeps_history() {
    let sim = sim(32, 40).await;
    let out = tempfile::tempdir().unwrap();
    run_in_process(&run_cmd("2026-11-18", "2026-11-20", out.path()), &sim)
        .await
        .expect("first run");
    let old_index = std::fs::read_to_string(out.path().join("partitions.json")).unwrap();
    let old_day = read_all(out.path(), "legs")
        .into_iter()
        .filter(|r| r["date"] == "2026-11-18")
        .count();
    make_legacy(out.path());
    assert!(out.path().join("date=2026-11-18/legs.csv").is_file());

    // The rerun covers only the 19th and 20th; the 18th must be moved, not lost.
    let second = run_in_process(&run_cmd("2026-11-19", "2026-11-21", out.path()), &sim)
        .await
        .expect("second run");
    assert_eq!(
        top_level(out.path()),
        [
            "catalogs",
            "csv",
            "manifest.json",
            "parquet",
            "partitions.json",
            "summary.html",
            "summary.json",
            "summary.md"
        ],
        "no old-layout folder is left beside the new roots"
    );
    let moved = read_all(out.path(), "legs")
        .into_iter()
        .filter(|r| r["date"] == "2026-11-18")
        .count();
    assert_eq!(moved, old_day);
    assert!(out
        .path()
        .join("parquet/conversations/date=2026-11-18/conversations.parquet")
        .is_file());
    let old: serde_json::Value = serde_json::from_str(&old_index).unwrap();
    let new: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("partitions.json")).unwrap())
            .unwrap();
    assert_eq!(new["2026-11-18"], old["2026-11-18"], "history kept");
    assert_eq!(new["2026-11-20"]["run_id"], second.run_id.as_str());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_layout_with_a_foreign_file_is_refused_in_one_line() {
    let sim = sim(33, 20).await;
    let out = tempfile::tempdir().unwrap();
    let cmd = run_cmd("2026-11-19", "2026-11-20", out.path());
    run_in_process(&cmd, &sim).await.expect("first run");
    make_legacy(out.path());
    std::fs::write(out.path().join("date=2026-11-19/notes.xlsx"), "mine").unwrap();
    let before = top_level(out.path());
    let err = run_in_process(&cmd, &sim).await.expect_err("refused");
    assert_eq!(err.status.code(), 5, "{}", err.message);
    assert!(
        err.message.contains("date=2026-11-19/notes.xlsx") && !err.message.contains('\n'),
        "{}",
        err.message
    );
    assert_eq!(top_level(out.path()), before, "nothing moved");
    sim.shutdown().await;
}
