//! The environment a run reads: Genesys regions, endpoints and credentials.

use crate::api::auth::Credentials;
use crate::api::Endpoints;

/// Where the data comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The embedded simulator, started in-process for the run.
    Simulator {
        seed: u64,
        conversations_per_day: u32,
        /// Enforced per-token quota; `None`: none, and no quota headers.
        quota_per_minute: Option<u32>,
    },
    /// A real (or compatible) Genesys Cloud org.
    Genesys {
        endpoints: Endpoints,
        credentials: Credentials,
    },
}

/// Real region names and their domains (the SDKs' `PureCloudRegionHosts`).
pub const REGIONS: &[(&str, &str)] = &[
    ("us-east-1", "mypurecloud.com"),
    ("us-east-2", "use2.us-gov-pure.cloud"),
    ("us-west-2", "usw2.pure.cloud"),
    ("ca-central-1", "cac1.pure.cloud"),
    ("sa-east-1", "sae1.pure.cloud"),
    ("mx-central-1", "mxc1.pure.cloud"),
    ("eu-west-1", "mypurecloud.ie"),
    ("eu-west-2", "euw2.pure.cloud"),
    ("eu-central-1", "mypurecloud.de"),
    ("eu-central-2", "euc2.pure.cloud"),
    ("eusc-de-east-1", "edee1.eusc-pure.cloud"),
    ("me-central-1", "mec1.pure.cloud"),
    ("ap-south-1", "aps1.pure.cloud"),
    ("ap-southeast-1", "apse1.pure.cloud"),
    ("ap-southeast-2", "mypurecloud.com.au"),
    ("ap-northeast-1", "mypurecloud.jp"),
    ("ap-northeast-2", "apne2.pure.cloud"),
    ("ap-northeast-3", "apne3.pure.cloud"),
];

/// Maps a region name (`eu-west-1`, also `eu_west_1`) to its API and login hosts.
pub fn region_endpoints(region: &str) -> Option<Endpoints> {
    let key = region.trim().to_ascii_lowercase().replace('_', "-");
    REGIONS
        .iter()
        .find(|(name, _)| *name == key)
        .map(|(_, domain)| Endpoints {
            api_base: format!("https://api.{domain}"),
            login_base: format!("https://login.{domain}"),
        })
}

/// The environment a run reads. Injected so tests never touch the process environment.
pub trait Env {
    fn var(&self, key: &str) -> Option<String>;
}

/// The process environment (after `.env` was loaded by `main`).
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.trim().is_empty())
    }
}

impl<const N: usize> Env for [(&str, &str); N] {
    fn var(&self, key: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    }
}

impl Env for Vec<(String, String)> {
    fn var(&self, key: &str) -> Option<String> {
        self.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }
}

/// Endpoints and credentials of a real org, from the environment.
// Long: every credential and region variable is checked so all problems are reported at once.
pub(super) fn genesys_source(env: &dyn Env) -> Result<Source, Vec<String>> {
    let mut errors = Vec::new();
    let api_override = env
        .var("GENESYS_API_BASE_URL")
        .map(|s| s.trim_end_matches('/').to_string());
    let login_override = env
        .var("GENESYS_LOGIN_BASE_URL")
        .map(|s| s.trim_end_matches('/').to_string());
    for (key, value) in [
        ("GENESYS_API_BASE_URL", &api_override),
        ("GENESYS_LOGIN_BASE_URL", &login_override),
    ] {
        if let Some(v) = value {
            if !(v.starts_with("https://") || v.starts_with("http://")) {
                errors.push(format!("{key} must be an http(s) URL, not '{v}'"));
            }
        }
    }
    let region = env.var("GENESYS_REGION");
    let from_region = match &region {
        Some(r) => match region_endpoints(r) {
            Some(e) => Some(e),
            None => {
                let names: Vec<&str> = REGIONS.iter().map(|(n, _)| *n).collect();
                errors.push(format!(
                    "unknown GENESYS_REGION '{r}': use one of {}",
                    names.join(", ")
                ));
                None
            }
        },
        None => None,
    };
    let endpoints = match (api_override, from_region) {
        (Some(api), region) => {
            let login = login_override
                .or_else(|| region.map(|r| r.login_base))
                .unwrap_or_else(|| {
                    if api.contains("//api.") {
                        api.replacen("//api.", "//login.", 1)
                    } else {
                        api.clone()
                    }
                });
            Some(Endpoints {
                api_base: api,
                login_base: login,
            })
        }
        (None, Some(mut r)) => {
            if let Some(l) = login_override {
                r.login_base = l;
            }
            Some(r)
        }
        (None, None) => {
            if region.is_none() {
                errors.push("no Genesys region: set GENESYS_REGION (e.g. us-east-1, eu-west-1) or GENESYS_API_BASE_URL".into());
            }
            None
        }
    };
    let id = env.var("GENESYS_CLIENT_ID");
    let secret = env.var("GENESYS_CLIENT_SECRET");
    let missing: Vec<&str> = [
        ("GENESYS_CLIENT_ID", id.is_none()),
        ("GENESYS_CLIENT_SECRET", secret.is_none()),
    ]
    .iter()
    .filter(|(_, m)| *m)
    .map(|(k, _)| *k)
    .collect();
    if !missing.is_empty() {
        errors.push(format!(
            "missing credentials: set {} (environment or .env), or try the offline demo with --job jobs/demo.toml",
            missing.join(" and ")
        ));
    }
    match (endpoints, id, secret) {
        (Some(endpoints), Some(id), Some(secret)) if errors.is_empty() => Ok(Source::Genesys {
            endpoints,
            credentials: Credentials::new(id, secret),
        }),
        _ => Err(errors),
    }
}
