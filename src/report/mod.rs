//! Run-level files and guards: the output lock (`lock`), the resume plan (`resume`), the partition
//! index (`index`), the run's end (`finish`: summaries, catalogs) and `manifest.json` (`manifest`).
//! Here: the catalogs read once per run, and the atomic writers every run-level file goes through.

pub mod closing;
pub mod conclude;
mod finish;
pub mod gates;
mod index;
pub mod index_rebuild;
mod lock;
pub mod manifest;
pub mod metrics;
pub mod resume;
pub mod summary;

pub use finish::{finish, RunResult};
pub use index::{days_to_heal, read_index, update_index, IndexEntry};
pub use lock::OutputLock;
pub use manifest::{checkpoint, fingerprint, peak_rss_kb};

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::api::{ApiClient, ApiError};
use crate::exit::{ExitStatus, Failure};
use crate::sink;
use crate::transform::names::Catalogs;

pub const LOCK_FILE: &str = ".wrapup-audit.lock";
pub const MANIFEST_FILE: &str = "manifest.json";
pub const SUMMARY_JSON: &str = "summary.json";
pub const SUMMARY_MD: &str = "summary.md";
pub const SUMMARY_HTML: &str = "summary.html";
pub const CODES_FILE: &str = "wrapup_codes.csv";
pub const QUEUES_FILE: &str = "queues.csv";
pub const USERS_FILE: &str = "users.csv";
pub const INDEX_FILE: &str = "partitions.json";

/// Reads the wrap-up code, queue and user catalogs once per run.
pub async fn load_catalogs(client: &ApiClient) -> Result<Catalogs, Failure> {
    let named = |entities: Vec<crate::api::wire::NamedEntity>| -> HashMap<String, String> {
        entities
            .into_iter()
            .filter_map(|c| c.name.map(|n| (c.id, n)))
            .collect()
    };
    // Codes, queues, users: the order operators see failures in.
    let codes = load_catalog(
        client,
        "wrapup_codes",
        "/api/v2/routing/wrapupcodes",
        "wrap-up code",
        "routing:wrapupCode:view",
    )
    .await?;
    let queues = load_catalog(
        client,
        "queues",
        "/api/v2/routing/queues",
        "queue",
        "routing:queue:view",
    )
    .await?;
    let users = load_catalog(
        client,
        "users",
        "/api/v2/users",
        "user",
        "directory:user:view",
    )
    .await?;
    // The queue listing carries each queue's ACW settings: no extra request.
    let queue_acw = queues
        .iter()
        .filter_map(|q| q.acw_settings.clone().map(|a| (q.id.clone(), a)))
        .collect();
    Ok(Catalogs {
        codes: named(codes),
        queues: named(queues),
        users: named(users),
        queue_acw,
    })
}

/// One listing; a refusal is an authentication error naming the missing permission.
async fn load_catalog(
    client: &ApiClient,
    op: &'static str,
    path: &str,
    what: &str,
    permission: &str,
) -> Result<Vec<crate::api::wire::NamedEntity>, Failure> {
    client.list_all(op, path, 100).await.map_err(|e| {
        let status = ExitStatus::from(&e);
        // Only a 403 is about roles; a 401 means the token itself was refused.
        let hint = match e {
            ApiError::Forbidden { .. } => format!(" (the OAuth client's role needs {permission})"),
            ApiError::Unauthorized { .. } => crate::api::error::UNAUTHORIZED_HINT.to_string(),
            _ => String::new(),
        };
        Failure::new(status, format!("cannot read the {what} catalog: {e}{hint}"))
    })
}

/// Writes a run-level text file atomically; its path in the manifest is relative to the output.
fn write_text(dir: &Path, name: &str, text: &str) -> anyhow::Result<sink::FileInfo> {
    let mut info =
        sink::write_file_atomically(&dir.join(name), 0, |w| Ok(w.write_all(text.as_bytes())?))?;
    info.path = PathBuf::from(name);
    Ok(info)
}

fn write_json<T: Serialize>(dir: &Path, name: &str, value: &T) -> anyhow::Result<sink::FileInfo> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_text(dir, name, &text)
}
