//! Every file in `jobs/` is tried as a new user would: TOML validated, schedules parsed, and every
//! command line they hold accepted by the real argument parser.

use clap::Parser;
use wrapup_audit::cli::Cli;

use crate::support::*;

fn read(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// Splits a shell-ish command line on white space and checks it against the real parser.
#[track_caller]
fn check_command_line(line: &str) {
    let start = line
        .find("wrapup-audit run")
        .unwrap_or_else(|| panic!("no wrapup-audit run in: {line}"));
    let cmd = line[start..].split(">>").next().unwrap();
    let args: Vec<&str> = cmd.split_whitespace().collect();
    if let Err(e) = Cli::try_parse_from(&args) {
        panic!("{cmd}: {e}");
    }
}

#[test]
fn every_job_file_validates() {
    let env = vec![
        ("GENESYS_REGION".to_string(), "eu-west-1".to_string()),
        ("GENESYS_CLIENT_ID".to_string(), "id".to_string()),
        ("GENESYS_CLIENT_SECRET".to_string(), "secret".to_string()),
    ];
    let mut seen = 0;
    for e in
        std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs")).unwrap()
    {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let rel = format!("jobs/{}", p.file_name().unwrap().to_string_lossy());
            let o = run_bin(&["validate", "--job", &rel], &env);
            assert_eq!(o.status.code(), Some(0), "{rel}: {}", stderr(&o));
            seen += 1;
        }
    }
    assert!(seen >= 3, "demo, nightly and backfill at least");
}

#[test]
fn crontab_line_is_well_formed() {
    let text = read("jobs/crontab");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#') && !l.contains('='))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let fields: Vec<&str> = lines[0].split_whitespace().collect();
    for (i, f) in fields[..5].iter().enumerate() {
        let ok = *f == "*" || f.split(',').all(|p| p.parse::<u32>().is_ok());
        assert!(ok, "schedule field {i} is '{f}'");
    }
    check_command_line(lines[0]);
}

#[test]
fn systemd_units_are_well_formed() {
    let service = read("jobs/systemd/wrapup-audit.service");
    let timer = read("jobs/systemd/wrapup-audit.timer");
    for (name, text, sections) in [
        ("service", &service, &["Unit", "Service"][..]),
        ("timer", &timer, &["Unit", "Timer", "Install"][..]),
    ] {
        let mut current = None;
        let mut found = Vec::new();
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            if line.starts_with('[') {
                assert!(line.ends_with(']'), "{name}: {line}");
                current = Some(line.trim_matches(&['[', ']'][..]).to_string());
                found.push(current.clone().unwrap());
            } else {
                assert!(
                    current.is_some() && line.contains('='),
                    "{name}: stray line {line}"
                );
            }
        }
        assert_eq!(found, sections, "{name}");
    }
    let exec = service
        .lines()
        .find(|l| l.starts_with("ExecStart="))
        .unwrap();
    check_command_line(exec);
    assert!(
        service.contains("EnvironmentFile="),
        "secrets come from a file, not the unit"
    );
    assert!(timer.contains("OnCalendar="));
}

#[test]
fn kubernetes_cronjob_is_well_formed() {
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&read("jobs/kubernetes/cronjob.yaml")).unwrap();
    assert_eq!(doc["kind"], "CronJob");
    assert_eq!(doc["spec"]["concurrencyPolicy"], "Forbid");
    let container = &doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["envFrom"][0]["secretRef"]["name"],
        "wrapup-audit-genesys"
    );
    let mut args = vec!["wrapup-audit".to_string()];
    args.extend(
        container["args"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string()),
    );
    if let Err(e) = Cli::try_parse_from(&args) {
        panic!("{args:?}: {e}");
    }
    // Reports go where analysts read them: object storage, with its credentials from a Secret.
    let out = args.iter().position(|a| a == "--output-dir").unwrap();
    assert!(args[out + 1].starts_with("s3://"), "{}", args[out + 1]);
    assert_eq!(
        container["envFrom"][1]["secretRef"]["name"],
        "wrapup-audit-s3"
    );
}
