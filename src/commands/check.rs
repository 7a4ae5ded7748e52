//! `wrapup-audit check`: proves a setup before the first scheduled run.
//!
//! One minimal call per permission the job needs, each reported with the likely cause and fix of a
//! failure. Nothing is written.

use chrono::Utc;
use serde::Serialize;

use crate::api::{ApiClient, ApiError};
use crate::cli::CheckCmd;
use crate::config::Env;
use crate::config::RunArgs;
use crate::exit::{ExitStatus, Failure};

#[derive(Debug, Serialize)]
pub struct CheckResult {
    pub check: &'static str,
    pub ok: bool,
    pub detail: String,
    /// What to do when it failed.
    pub fix: Option<String>,
}

fn result(check: &'static str, permission: &str, r: Result<(), ApiError>) -> CheckResult {
    match r {
        Ok(()) => CheckResult {
            check,
            ok: true,
            detail: "ok".into(),
            fix: None,
        },
        Err(e) => {
            let fix = match &e {
                ApiError::Forbidden { .. } => format!("add {permission} to a role of the OAuth client (Admin > Roles / Permissions)"),
                ApiError::Unauthorized { .. } | ApiError::Auth { .. } => {
                    "check GENESYS_CLIENT_ID / GENESYS_CLIENT_SECRET and that GENESYS_REGION is the org's region".into()
                }
                ApiError::Connect { .. } | ApiError::Timeout { .. } => {
                    "the host is unreachable: check GENESYS_REGION or GENESYS_API_BASE_URL, proxies and firewalls".into()
                }
                _ => "retry later; if it persists, contact Genesys support with the error above".into(),
            };
            CheckResult {
                check,
                ok: false,
                detail: e.to_string(),
                fix: Some(fix),
            }
        }
    }
}

/// Runs every check in order; stops after a failed token, since nothing else can work then.
pub async fn run_checks(client: &ApiClient) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let token = client.authenticate().await;
    let token_ok = token.is_ok();
    out.push(result("token (client credentials)", "", token));
    if !token_ok {
        return out;
    }
    let now = Utc::now();
    let q = crate::source::query::build_query(
        &Default::default(),
        now - chrono::Duration::hours(1),
        now,
        1,
        1,
    );
    out.push(result(
        "analytics details query",
        "analytics:conversationDetail:view",
        client.details_query(&q).await.map(|_| ()),
    ));
    // A conversation that cannot exist: 404 proves the permission, 403 says it is missing.
    let lookup = match client
        .conversation("00000000-0000-0000-0000-000000000000")
        .await
    {
        Ok(_) | Err(ApiError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e),
    };
    out.push(result(
        "conversation lookup",
        "conversation:communication:view",
        lookup,
    ));
    out.push(result(
        "wrap-up codes",
        "routing:wrapupCode:view",
        client
            .probe_list("wrapup_codes", "/api/v2/routing/wrapupcodes")
            .await,
    ));
    out.push(result(
        "queues",
        "routing:queue:view",
        client.probe_list("queues", "/api/v2/routing/queues").await,
    ));
    out.push(result(
        "users",
        "directory:user:view",
        client.probe_list("users", "/api/v2/users").await,
    ));
    out
}

pub fn render(api: &str, login: &str, results: &[CheckResult]) -> String {
    let mut s = format!("API host:   {api}\nLogin host: {login}\n\n");
    let width = results.iter().map(|r| r.check.len()).max().unwrap_or(10);
    for r in results {
        s.push_str(&format!(
            "{:<width$}  {}  {}\n",
            r.check,
            if r.ok { "ok  " } else { "FAIL" },
            if r.ok { "" } else { &r.detail }
        ));
        if let Some(fix) = &r.fix {
            s.push_str(&format!("{:<width$}        fix: {fix}\n", ""));
        }
    }
    s
}

pub async fn command(cmd: &CheckCmd, env: &dyn Env) -> Result<ExitStatus, Failure> {
    let run = RunArgs {
        job: cmd.job.clone(),
        simulator: cmd.simulator,
        ..RunArgs::default()
    };
    let cfg = crate::commands::connect::load_config(&run, env, Utc::now())?;
    let conn = crate::commands::connect::connect(&cfg).await?;
    let results = run_checks(&conn.client).await;
    print!(
        "{}",
        render(
            &conn.endpoints.api_base,
            &conn.endpoints.login_base,
            &results
        )
    );
    conn.close().await;
    let status = if results.iter().all(|r| r.ok) {
        ExitStatus::Success
    } else if results
        .iter()
        .any(|r| r.detail.contains("connection") || r.detail.contains("timed out"))
    {
        ExitStatus::ApiUnavailable
    } else {
        ExitStatus::Auth
    };
    Ok(status)
}
