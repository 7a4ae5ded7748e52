//! The job's `[metrics]` table and its flags; writing and pushing is `report::metrics`.

use std::path::PathBuf;

use serde::Deserialize;

use super::args::RunArgs;

/// The job file's `[metrics]` table.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    /// Prometheus text file to write after each run, e.g. `/var/lib/node_exporter/textfile/wrapup_audit.prom`.
    pub textfile: Option<PathBuf>,
    /// Pushgateway base URL, e.g. `http://pushgateway:9091`.
    pub pushgateway_url: Option<String>,
    /// The `instance` grouping label of the push. Default: the output directory (for an object
    /// store its URL without credentials, never the staging folder).
    pub instance: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct MetricsConfig {
    pub textfile: Option<PathBuf>,
    pub pushgateway_url: Option<String>,
    pub instance: Option<String>,
}

impl MetricsConfig {
    /// Flags override the file; every problem goes to `errors`.
    pub fn build(raw: Option<&RawMetrics>, args: &RunArgs, errors: &mut Vec<String>) -> Self {
        let raw = raw.cloned().unwrap_or_default();
        let url = args
            .pushgateway_url
            .clone()
            .or(raw.pushgateway_url)
            .map(|u| u.trim_end_matches('/').to_string());
        if let Some(u) = &url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                errors.push(format!(
                    "metrics.pushgateway_url must be an http(s) URL, not '{u}'"
                ));
            }
        }
        MetricsConfig {
            textfile: args.metrics_file.clone().or(raw.textfile),
            pushgateway_url: url,
            instance: raw.instance,
        }
    }
}
