//! `explain` and `check` against the simulator: every label, and each failure cause.

use std::collections::BTreeSet;

use chrono::Utc;
use wrapup_audit::simulator::SimConfig;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_gives_the_ground_truth_label_for_every_label() {
    let sim = sim(31, 150).await;
    let env = env_for(&sim);
    let run = wrapup_audit::config::RunArgs {
        as_of: Some(as_of().to_rfc3339()),
        ..Default::default()
    };
    let cfg = wrapup_audit::commands::connect::load_config(&run, &env, Utc::now()).unwrap();
    let conn = wrapup_audit::commands::connect::connect(&cfg)
        .await
        .unwrap();
    let truth = sim.ground_truth(as_of() - chrono::Duration::days(2), as_of(), 15, as_of());
    let mut covered = BTreeSet::new();
    for t in &truth {
        if !covered.insert(t.label.as_str()) {
            continue;
        }
        let e = wrapup_audit::commands::explain::explain_with(&cfg, &conn, &t.conversation_id)
            .await
            .unwrap();
        assert_eq!(
            e.classification,
            t.label.as_str(),
            "{} ({})",
            t.conversation_id,
            t.scenario
        );
        assert_eq!(e.legs.len(), t.legs.len());
        let text = wrapup_audit::commands::explain::render_text(&e);
        assert!(
            text.contains(&e.reason) && text.contains("classification:"),
            "{text}"
        );
    }
    assert!(covered.len() >= 13, "labels covered: {covered:?}");
    conn.close().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_binary_prints_json_and_rejects_bad_ids() {
    let sim = sim(32, 50).await;
    let env = env_for(&sim);
    let truth = sim.ground_truth(as_of() - chrono::Duration::days(1), as_of(), 15, as_of());
    let missing = truth
        .iter()
        .find(|t| t.label.as_str() == "missing")
        .expect("a missing conversation");
    let (id, label) = (missing.conversation_id.clone(), missing.label.as_str());
    let as_of = as_of().to_rfc3339();
    let env2 = env.clone();
    let o = tokio::task::spawn_blocking(move || {
        run_bin(&["explain", &id, "--as-of", &as_of, "--json"], &env2)
    })
    .await
    .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["classification"], label);
    assert_eq!(
        v["legs"][v["legs"].as_array().unwrap().len() - 1]["wrapup_required"],
        true
    );

    let env3 = env.clone();
    let o = tokio::task::spawn_blocking(move || run_bin(&["explain", "not-an-id"], &env3))
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a conversation id"));
    let o = tokio::task::spawn_blocking(move || {
        run_bin(&["explain", "00000000-0000-0000-0000-000000000001"], &env)
    })
    .await
    .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is not in analytics"), "{}", stderr(&o));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_passes_and_names_each_failure() {
    let sim = sim(33, 10).await;
    let env = env_for(&sim);
    let o = tokio::task::spawn_blocking(move || run_bin(&["check"], &env))
        .await
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert_eq!(out.matches(" ok ").count(), 6, "{out}");
    sim.shutdown().await;

    // A missing role permission: that row fails with the permission to add; exit 3.
    let sim = sim_with(SimConfig {
        now: as_of(),
        denied_permissions: vec!["routing:wrapupCode:view".into()],
        ..SimConfig::default()
    })
    .await;
    let env = env_for(&sim);
    let o = tokio::task::spawn_blocking(move || run_bin(&["check"], &env))
        .await
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(
        out.contains("FAIL") && out.contains("add routing:wrapupCode:view"),
        "{out}"
    );

    // Wrong secret: the token row fails, pointing at credentials and region.
    let mut env = env_for(&sim);
    env.retain(|(k, _)| k != "GENESYS_CLIENT_SECRET");
    env.push(("GENESYS_CLIENT_SECRET".into(), "wrong".into()));
    let o = tokio::task::spawn_blocking(move || run_bin(&["check"], &env))
        .await
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(
        out.contains("invalid_client") && out.contains("GENESYS_REGION"),
        "{out}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookback_heals_partitions_that_were_not_final() {
    let sim = sim(34, 60).await;
    let out = tempfile::tempdir().unwrap();
    // Night 1: the window reaches the clock, so the last day holds in_progress and too_recent rows.
    let cmd = run_cmd("2026-11-20", &as_of().to_rfc3339(), out.path());
    run_in_process(&cmd, &sim).await.expect("first night");
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("partitions.json")).unwrap())
            .unwrap();
    assert_eq!(index["2026-11-20"]["is_final"], false, "{index}");
    let before = read_all(out.path(), "conversations");
    let pending: Vec<String> = before
        .iter()
        .filter(|r| {
            r["date"] == "2026-11-20"
                && matches!(r["classification"].as_str(), "in_progress" | "too_recent")
        })
        .map(|r| r["conversation_id"].clone())
        .collect();
    assert!(!pending.is_empty());

    // Night 2, a day later: only the new day is in the window, and lookback heals the old one.
    let later = as_of() + chrono::Duration::days(1);
    sim.set_now(later);
    let mut cmd = run_cmd("2026-11-21", "2026-11-22", out.path());
    cmd.as_of = Some(later.to_rfc3339());
    cmd.lookback_days = Some(3);
    run_in_process(&cmd, &sim).await.expect("second night");
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("partitions.json")).unwrap())
            .unwrap();
    assert_eq!(index["2026-11-20"]["is_final"], true, "{index}");
    let after = read_all(out.path(), "conversations");
    let truth = sim.ground_truth(
        chrono::DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
        chrono::DateTime::parse_from_rfc3339("2026-11-21T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
        15,
        later,
    );
    for id in &pending {
        let row = after
            .iter()
            .find(|r| &r["conversation_id"] == id)
            .expect("still reported");
        let t = truth.iter().find(|t| &t.conversation_id == id).unwrap();
        assert_eq!(
            row["classification"],
            t.label.as_str(),
            "{id} ({})",
            t.scenario
        );
        assert!(!matches!(
            row["classification"].as_str(),
            "in_progress" | "too_recent"
        ));
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["healed_days"], serde_json::json!(["2026-11-20"]));
    sim.shutdown().await;
}
