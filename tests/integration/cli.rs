//! The binary: exit codes and one-line errors for bad input, the demo job, and secrets kept out of logs.

use crate::support::*;

fn one_line(err: &str) {
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "one error line expected:\n{err}");
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let out = out.to_str().unwrap();
    type Case<'a> = (Vec<&'a str>, Vec<(String, String)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![
                "run",
                "--simulator",
                "--timezone",
                "Mars/Base",
                "--output-dir",
                out,
            ],
            vec![],
            "unknown time zone",
        ),
        (
            vec![
                "run",
                "--simulator",
                "--from",
                "2026-11-20",
                "--to",
                "2026-11-19",
                "--output-dir",
                out,
            ],
            vec![],
            "--to",
        ),
        (
            vec!["run", "--job", "jobs/nope.toml"],
            vec![],
            "cannot read job file",
        ),
        (
            vec!["run", "--output-dir", out],
            vec![],
            "GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET",
        ),
        (
            vec!["run", "--output-dir", out],
            vec![
                ("GENESYS_REGION".into(), "moon-1".into()),
                ("GENESYS_CLIENT_ID".into(), "a".into()),
                ("GENESYS_CLIENT_SECRET".into(), "b".into()),
            ],
            "unknown GENESYS_REGION 'moon-1'",
        ),
    ];
    for (args, env, needle) in cases {
        let o = run_bin(&args, &env);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        one_line(&err);
    }
    assert!(
        !tmp.path().join("o").exists(),
        "nothing written on a usage error"
    );
}

#[test]
fn validate_checks_every_job_file() {
    for job in ["jobs/demo.toml", "jobs/nightly.toml"] {
        let env = vec![
            ("GENESYS_REGION".to_string(), "eu-west-1".to_string()),
            ("GENESYS_CLIENT_ID".to_string(), "id".to_string()),
            ("GENESYS_CLIENT_SECRET".to_string(), "secret".to_string()),
        ];
        let o = run_bin(&["validate", "--job", job], &env);
        assert_eq!(o.status.code(), Some(0), "{job}: {}", stderr(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("valid"));
    }
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "name = 3\n").unwrap();
    let o = run_bin(&["validate", "--job", bad.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("line 1"), "{}", stderr(&o));
}

#[test]
fn unwritable_output_exits_5() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let out = file.join("reports");
    let o = run_bin(
        &["run", "--simulator", "--output-dir", out.to_str().unwrap()],
        &[],
    );
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    one_line(&stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_exits_3_and_secrets_stay_out_of_logs() {
    let sim = sim(1, 20).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut env = env_for(&sim);
    env.retain(|(k, _)| k != "GENESYS_CLIENT_SECRET");
    env.push(("GENESYS_CLIENT_SECRET".into(), "not-the-secret-xyz".into()));
    env.push(("RUST_LOG".into(), "trace".into()));
    let out = tmp.path().join("o");
    let o = tokio::task::spawn_blocking(move || {
        run_bin(&["run", "--output-dir", out.to_str().unwrap()], &env)
    })
    .await
    .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("invalid_client"), "{err}");
    assert!(!err.contains("not-the-secret-xyz"), "secret leaked:\n{err}");
    one_line(&err);

    // A successful traced run never prints the secret or a bearer token either.
    let tmp2 = tempfile::tempdir().unwrap();
    let mut env = env_for(&sim);
    env.push(("RUST_LOG".into(), "trace".into()));
    let out = tmp2.path().join("o");
    let as_of = as_of().to_rfc3339();
    let o = tokio::task::spawn_blocking(move || {
        run_bin(
            &[
                "run",
                "--output-dir",
                out.to_str().unwrap(),
                "--as-of",
                &as_of,
                "--requests-per-minute",
                "0",
            ],
            &env,
        )
    })
    .await
    .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("finished"), "{err}");
    assert!(!err.contains(sim.client_secret()), "secret leaked");
    let tokens = sim.issued_tokens();
    assert!(!tokens.is_empty());
    for t in &tokens {
        assert!(
            !err.contains(t.as_str()),
            "an access token leaked into the log"
        );
    }
    assert!(
        !err.to_ascii_lowercase().contains("bearer "),
        "token leaked:\n{err}"
    );
    sim.shutdown().await;
}

#[test]
fn demo_job_runs_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    let o = run_bin(
        &[
            "run",
            "--job",
            "jobs/demo.toml",
            "--as-of",
            "2026-11-21T00:20:00Z",
            "--output-dir",
            out.to_str().unwrap(),
        ],
        &[],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    // A first run into a new folder has nothing to warn about (no "partitions.json is missing").
    assert!(!err.contains("WARN"), "{err}");
    for f in [
        "manifest.json",
        "summary.json",
        "summary.md",
        "catalogs/wrapup_codes.csv",
        "csv/conversations/date=2026-11-20/conversations.csv",
        "parquet/legs/date=2026-11-20/legs.parquet",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
}

/// A simulator started with `--exit-with PID` runs while that process lives and ends once it is gone.
#[cfg(target_os = "linux")]
#[test]
fn a_simulator_ends_with_the_process_it_was_tied_to() {
    use std::io::BufRead;
    let mut owner = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let mut sim = std::process::Command::new(env!("CARGO_BIN_EXE_wrapup-audit"))
        .args(["simulate", "--conversations-per-day", "10", "--exit-with"])
        .arg(owner.id().to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut url = String::new();
    // Only the first line is read and the pipe closed: the simulator keeps serving regardless.
    std::io::BufReader::new(sim.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(
        sim.try_wait().unwrap().is_none(),
        "it must run while its owner does"
    );
    owner.kill().unwrap();
    owner.wait().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(s) = sim.try_wait().unwrap() {
            break Some(s);
        }
        if std::time::Instant::now() > deadline {
            let _ = sim.kill();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
}
