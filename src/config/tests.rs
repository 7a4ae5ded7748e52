//! Configuration: windows, time zones, environment, and collected errors.

use chrono::{TimeZone, Utc};

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 6, 30, 0).unwrap()
}

const SIM_ENV: [(&str, &str); 0] = [];
const REAL_ENV: [(&str, &str); 3] = [
    ("GENESYS_CLIENT_ID", "id"),
    ("GENESYS_CLIENT_SECRET", "s3cret"),
    ("GENESYS_REGION", "eu-west-1"),
];

fn sim_args() -> RunArgs {
    RunArgs {
        simulator: true,
        ..RunArgs::default()
    }
}

#[track_caller]
fn build_err(raw: RawJob, args: RunArgs, env: &dyn Env) -> String {
    match Config::build(raw, &args, env, now()) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn default_window_is_yesterday_in_the_job_time_zone() {
    let args = RunArgs {
        timezone: Some("America/New_York".into()),
        ..sim_args()
    };
    let cfg = Config::build(RawJob::default(), &args, &SIM_ENV, now()).unwrap();
    // 06:30 UTC is 01:30 in New York, so yesterday there is 2026-11-20 (EST, UTC-5).
    assert_eq!(
        cfg.window.from,
        Utc.with_ymd_and_hms(2026, 11, 20, 5, 0, 0).unwrap()
    );
    assert_eq!(
        cfg.window.to,
        Utc.with_ymd_and_hms(2026, 11, 21, 5, 0, 0).unwrap()
    );
    let days = cfg.window.days();
    assert_eq!(days.len(), 1);
    assert_eq!(days[0].0.to_string(), "2026-11-20");
}

#[test]
fn days_follow_dst_changes() {
    // Berlin leaves summer time on 2026-10-25: that day has 25 hours.
    let args = RunArgs {
        timezone: Some("Europe/Berlin".into()),
        from: Some("2026-10-24".into()),
        to: Some("2026-10-27".into()),
        ..sim_args()
    };
    let cfg = Config::build(RawJob::default(), &args, &SIM_ENV, now()).unwrap();
    let days = cfg.window.days();
    let hours: Vec<i64> = days.iter().map(|(_, s, e)| (*e - *s).num_hours()).collect();
    assert_eq!(hours, vec![24, 25, 24]);
    assert_eq!(
        days[0].1,
        Utc.with_ymd_and_hms(2026, 10, 23, 22, 0, 0).unwrap()
    );
}

#[test]
fn partial_days_are_clipped() {
    let args = RunArgs {
        from: Some("2026-11-19T12:00".into()),
        to: Some("2026-11-20T06:00".into()),
        ..sim_args()
    };
    let cfg = Config::build(RawJob::default(), &args, &SIM_ENV, now()).unwrap();
    let days = cfg.window.days();
    assert_eq!(days.len(), 2);
    assert_eq!((days[0].2 - days[0].1).num_hours(), 12);
    assert_eq!((days[1].2 - days[1].1).num_hours(), 6);
}

#[test]
fn all_errors_are_reported_together() {
    let args = RunArgs {
        timezone: Some("Mars/Olympus".into()),
        formats: Some("csv,xlsx".into()),
        concurrency: Some(0),
        lookup: Some("sometimes".into()),
        ..sim_args()
    };
    let e = build_err(RawJob::default(), args, &SIM_ENV);
    for part in [
        "unknown time zone 'Mars/Olympus'",
        "unknown format 'xlsx'",
        "concurrency must be",
        "unknown lookup mode",
    ] {
        assert!(e.contains(part), "{part} missing from: {e}");
    }
    assert!(!e.contains('\n'), "one line: {e}");
}

#[test]
fn window_must_not_be_empty() {
    let args = RunArgs {
        from: Some("2026-11-20".into()),
        to: Some("2026-11-20".into()),
        ..sim_args()
    };
    assert!(build_err(RawJob::default(), args, &SIM_ENV).contains("--to"));
    let args = RunArgs {
        from: Some("yesterday-ish".into()),
        ..sim_args()
    };
    assert!(build_err(RawJob::default(), args, &SIM_ENV).contains("cannot read 'yesterday-ish'"));
}

#[test]
fn real_org_needs_region_and_credentials() {
    let e = build_err(RawJob::default(), RunArgs::default(), &SIM_ENV);
    assert!(e.contains("GENESYS_REGION"), "{e}");
    assert!(
        e.contains("GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET"),
        "{e}"
    );
    let e = build_err(
        RawJob::default(),
        RunArgs::default(),
        &[
            ("GENESYS_REGION", "mars-1"),
            ("GENESYS_CLIENT_ID", "x"),
            ("GENESYS_CLIENT_SECRET", "y"),
        ],
    );
    assert!(e.contains("unknown GENESYS_REGION 'mars-1'"), "{e}");
    assert!(!e.contains('y') || !e.contains("=y"), "{e}");
}

#[test]
fn regions_map_to_real_hosts() {
    let cfg = Config::build(RawJob::default(), &RunArgs::default(), &REAL_ENV, now()).unwrap();
    match cfg.source {
        Source::Genesys {
            endpoints,
            credentials,
        } => {
            assert_eq!(endpoints.api_base, "https://api.mypurecloud.ie");
            assert_eq!(endpoints.login_base, "https://login.mypurecloud.ie");
            assert_eq!(credentials.client_id, "id");
            assert!(!format!("{credentials:?}").contains("s3cret"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        region_endpoints("us_east_1").unwrap().api_base,
        "https://api.mypurecloud.com"
    );
    assert_eq!(
        region_endpoints("ap-southeast-2").unwrap().login_base,
        "https://login.mypurecloud.com.au"
    );
}

#[test]
fn base_url_overrides_region() {
    let env = [
        ("GENESYS_CLIENT_ID", "id"),
        ("GENESYS_CLIENT_SECRET", "s"),
        ("GENESYS_API_BASE_URL", "http://127.0.0.1:9/"),
    ];
    let cfg = Config::build(RawJob::default(), &RunArgs::default(), &env, now()).unwrap();
    match cfg.source {
        Source::Genesys { endpoints, .. } => {
            assert_eq!(endpoints.api_base, "http://127.0.0.1:9");
            assert_eq!(endpoints.login_base, "http://127.0.0.1:9");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn job_file_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("job.toml");
    std::fs::write(&p, "name = \"x\"\ntimezone = \"UTC\"\nlookup_budgit = 3\n").unwrap();
    let e = load_job(&p).unwrap_err().to_string();
    assert!(e.contains("line 3") && e.contains("lookup_budgit"), "{e}");
    let e = load_job(&dir.path().join("missing.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot read job file"), "{e}");
}

#[test]
fn flags_override_the_job_file() {
    let raw: RawJob = toml::from_str(
        "timezone = \"Europe/Paris\"\nformats = [\"csv\"]\nconcurrency = 3\n[simulator]\nseed = 9\n",
    )
    .unwrap();
    let args = RunArgs {
        concurrency: Some(5),
        ..RunArgs::default()
    };
    let cfg = Config::build(raw, &args, &SIM_ENV, now()).unwrap();
    assert_eq!(cfg.concurrency, 5);
    assert_eq!(cfg.window.timezone, chrono_tz::Europe::Paris);
    assert!(cfg.formats.csv && !cfg.formats.parquet);
    assert!(matches!(cfg.source, Source::Simulator { seed: 9, .. }));
}

#[test]
fn max_runtime_and_body_limit_are_read_and_checked() {
    let cfg = Config::build(RawJob::default(), &sim_args(), &SIM_ENV, now()).unwrap();
    assert_eq!(cfg.max_runtime, Some(DEFAULT_MAX_RUNTIME));
    assert_eq!(cfg.client.max_body_bytes, 64 << 20);
    let raw = RawJob {
        max_runtime: Some("90m".into()),
        max_response_mb: Some(2),
        ..RawJob::default()
    };
    let cfg = Config::build(raw, &sim_args(), &SIM_ENV, now()).unwrap();
    assert_eq!(cfg.max_runtime, Some(Duration::from_secs(5400)));
    assert_eq!(cfg.client.max_body_bytes, 2 << 20);
    let args = RunArgs {
        max_runtime: Some("0".into()),
        ..sim_args()
    };
    let cfg = Config::build(RawJob::default(), &args, &SIM_ENV, now()).unwrap();
    assert_eq!(cfg.max_runtime, None, "0 is no limit");
    let raw = RawJob {
        max_runtime: Some("soon".into()),
        max_response_mb: Some(0),
        ..RawJob::default()
    };
    let e = build_err(raw, sim_args(), &SIM_ENV);
    assert!(
        e.contains("max_runtime 'soon'") && e.contains("max_response_mb"),
        "{e}"
    );
}
