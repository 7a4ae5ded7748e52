//! Object-storage destinations: `output_dir = "s3://bucket/prefix"` (also `s3a://`), `gs://bucket/prefix`,
//! `az://container/prefix` and `abfss://container@account.dfs.core.windows.net/prefix`, all through
//! the `object_store` crate, so every store takes the same calls.
//!
//! A run writes exactly as for a local folder, into a local staging folder (one partition at a time
//! stays on disk), and publishes what it finished: each finished day's files (single PUT, or a
//! multipart upload completed only at the end, streamed from disk so memory stays bounded), the
//! day's stale objects deleted, then `partitions.json`, then `manifest.json`; the run files last.
//! One run at a time holds `<prefix>/_wrapup-audit.lock` ([`lock`]). Credentials come from the
//! store's usual environment (AWS_*, GOOGLE_*, AZURE_*) and never appear in messages or logs.

pub mod lock;
pub mod publish;
pub mod run;

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ClientOptions, ObjectStore, RetryConfig};

use crate::exit::{ExitStatus, Failure};

/// An object-store output root.
#[derive(Clone)]
pub struct Remote {
    pub(crate) store: Arc<dyn ObjectStore>,
    pub(crate) prefix: Path,
    /// `scheme://bucket/prefix` as given, without query or credentials: for messages.
    pub display: String,
    scheme: Scheme,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    S3,
    Gcs,
    Azure,
}

/// True when `output_dir` names an object store rather than a local folder.
pub fn is_remote(output_dir: &FsPath) -> bool {
    output_dir
        .to_str()
        .and_then(|s| s.split_once("://"))
        .is_some_and(|(scheme, _)| {
            !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric())
        })
}

fn output_failure(message: String) -> Failure {
    Failure::new(ExitStatus::Output, message)
}

impl Remote {
    /// Builds the store for `url` from the environment. No request is made yet.
    // Long: one arm per scheme with its builder options.
    pub fn open(url: &str) -> Result<Remote, Failure> {
        // The stores' HTTP client uses rustls with the same provider as the Genesys client.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let parsed = url::Url::parse(url).map_err(|e| {
            output_failure(format!(
                "output_dir {} is not a valid URL: {e}",
                redacted(url)
            ))
        })?;
        let display = shown(&parsed);
        let scheme = match parsed.scheme() {
            "s3" | "s3a" => Scheme::S3,
            "gs" => Scheme::Gcs,
            "az" | "abfs" | "abfss" | "adl" | "azure" => Scheme::Azure,
            other => {
                return Err(output_failure(format!(
                    "output_dir {display}: unknown storage scheme {other}:// (expected a local path, s3://, gs://, az:// or abfss://)"
                )))
            }
        };
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(output_failure(format!(
                "output_dir {display} names no bucket or container"
            )));
        }
        let retry = RetryConfig {
            max_retries: 4,
            retry_timeout: Duration::from_secs(60),
            ..RetryConfig::default()
        };
        let client = ClientOptions::new()
            .with_connect_timeout(Duration::from_secs(5))
            .with_timeout(Duration::from_secs(120));
        let built: object_store::Result<Arc<dyn ObjectStore>> = match scheme {
            Scheme::S3 => {
                let mut b = object_store::aws::AmazonS3Builder::from_env()
                    .with_url(url)
                    .with_retry(retry)
                    .with_client_options(client);
                if let Some((key, secret, token)) = profile_credentials() {
                    b = b.with_access_key_id(key).with_secret_access_key(secret);
                    if let Some(t) = token {
                        b = b.with_token(t);
                    }
                }
                if let Some(endpoint) = std::env::var("AWS_ENDPOINT_URL_S3")
                    .ok()
                    .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
                {
                    // An http:// endpoint is a local S3-compatible server by choice.
                    b = b.with_allow_http(endpoint.starts_with("http://"));
                }
                if std::env::var("AWS_REGION").is_err()
                    && std::env::var("AWS_DEFAULT_REGION").is_err()
                {
                    if let Some(region) = profile_region() {
                        b = b.with_region(region);
                    }
                }
                b.build().map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
            }
            Scheme::Gcs => {
                // GOOGLE_BASE_URL=http://… is an emulator or proxy by choice, as for S3's endpoint.
                let http = std::env::var("GOOGLE_BASE_URL").is_ok_and(|u| u.starts_with("http://"));
                object_store::gcp::GoogleCloudStorageBuilder::from_env()
                    .with_url(url)
                    .with_retry(retry)
                    .with_client_options(client.with_allow_http(http))
                    .build()
                    .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
            }
            Scheme::Azure => object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_url(url)
                .with_retry(retry)
                .with_client_options(client)
                .build()
                .map(|s| Arc::new(s) as Arc<dyn ObjectStore>),
        };
        let store = built.map_err(|e| {
            output_failure(format!(
                "output_dir {display}: cannot configure the store: {}",
                one_line(&e.to_string())
            ))
        })?;
        let prefix = Path::parse(parsed.path().trim_matches('/'))
            .map_err(|e| output_failure(format!("output_dir {display}: invalid prefix: {e}")))?;
        Ok(Remote {
            store,
            prefix,
            display,
            scheme,
        })
    }

    /// The key of a path relative to the output root (`parquet/legs/date=D/legs.parquet`).
    pub fn key(&self, rel: &str) -> Path {
        let mut key = self.prefix.clone();
        for part in rel.split('/').filter(|p| !p.is_empty()) {
            key = key.clone().join(part);
        }
        key
    }

    /// One cheap listing of the prefix: a missing bucket, refused credentials, a wrong region or
    /// an unreachable endpoint fail here, before the run makes any Genesys request.
    pub async fn probe(&self) -> Result<(), Failure> {
        self.store
            .list_with_delimiter(Some(&self.prefix))
            .await
            .map(|_| ())
            .map_err(|e| self.failure("cannot be listed", &e))
    }

    /// Every object key under the prefix, relative to it.
    pub async fn list_relative(&self, under: &str) -> Result<Vec<String>, object_store::Error> {
        let base = self.key(under);
        let prefix_len = self.prefix.as_ref().len();
        let keys: Vec<_> = self.store.list(Some(&base)).try_collect().await?;
        Ok(keys
            .into_iter()
            .map(|m| {
                let k = m.location.as_ref();
                k.get(prefix_len..)
                    .unwrap_or(k)
                    .trim_start_matches('/')
                    .to_string()
            })
            .collect())
    }

    /// An exit-5 failure for `err`, in one line, naming the likely cause.
    pub fn failure(&self, what: &str, err: &object_store::Error) -> Failure {
        output_failure(format!(
            "output {} {what}: {}",
            self.display,
            self.cause(err)
        ))
    }

    fn cause(&self, err: &object_store::Error) -> String {
        let text = one_line(&err.to_string());
        let lower = text.to_ascii_lowercase();
        let (what, bucket) = match self.scheme {
            Scheme::S3 => (
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the role",
                "bucket",
            ),
            Scheme::Gcs => (
                "GOOGLE_APPLICATION_CREDENTIALS or the workload identity",
                "bucket",
            ),
            Scheme::Azure => (
                "AZURE_STORAGE_ACCOUNT_KEY, AZURE_STORAGE_SAS_KEY or the managed identity",
                "container",
            ),
        };
        match err {
            object_store::Error::NotFound { .. } => format!(
                "the {bucket} does not exist (or the endpoint serves another account); create it or fix the URL"
            ),
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. } => format!(
                "access denied; check the credentials ({what}) and the {bucket}'s policy"
            ),
            _ if lower.contains("nosuchbucket") => format!(
                "the {bucket} does not exist; create it or fix the URL"
            ),
            _ if lower.contains("permanentredirect")
                || lower.contains("authorizationheadermalformed")
                || lower.contains("status 301")
                || lower.contains("wrong region")
                || lower.contains("incorrectendpoint") =>
            {
                "the bucket is in another region or behind another endpoint; set AWS_REGION (or AWS_ENDPOINT_URL) to the bucket's".to_string()
            }
            _ if lower.contains("accessdenied")
                || lower.contains("invalidaccesskeyid")
                || lower.contains("signaturedoesnotmatch")
                || lower.contains("403 forbidden") =>
            {
                format!("access denied; check the credentials ({what}) and the {bucket}'s policy")
            }
            _ if lower.contains("error sending request")
                || lower.contains("connect")
                || lower.contains("dns")
                || lower.contains("timed out") =>
            {
                format!("the endpoint cannot be reached ({text}); check AWS_ENDPOINT_URL / the network")
            }
            _ => text,
        }
    }

    /// Local staging folder for this destination: `$WRAPUP_AUDIT_STAGING_DIR` or the system temp
    /// folder, one subfolder per destination so two jobs never share one.
    pub fn staging_dir(&self) -> PathBuf {
        let base = std::env::var_os("WRAPUP_AUDIT_STAGING_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("wrapup-audit-staging"));
        let name: String = self
            .display
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        base.join(name)
    }
}

/// `url` as messages, logs and metric labels show it: without a password, query or fragment, and
/// without a user part except where it names the container (`abfss://container@account…`).
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => shown(&parsed),
        // Not a URL: the part before any `@` or `?` could be anything, so only the scheme shows.
        Err(_) => match url.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://…"),
            None => "…".to_string(),
        },
    }
}

fn shown(parsed: &url::Url) -> String {
    let mut shown = parsed.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_password(None);
    if !matches!(parsed.scheme(), "abfs" | "abfss") {
        let _ = shown.set_username("");
    }
    shown.to_string().trim_end_matches('/').to_string()
}

/// Error texts can span lines (XML bodies); messages are one line.
pub(crate) fn one_line(s: &str) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.len() > 300 {
        let mut cut = 300;
        while !joined.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}…", &joined[..cut])
    } else {
        joined
    }
}

/// Static keys of the AWS profile (`AWS_PROFILE`, else `default`) from the shared credentials
/// file, used only when the environment has no keys: what the AWS CLI does for such profiles.
fn profile_credentials() -> Option<(String, String, Option<String>)> {
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        return None;
    }
    let file = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(".aws/credentials")))?;
    let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
    let section = ini_section(&std::fs::read_to_string(file).ok()?, &profile);
    let key = section.get("aws_access_key_id")?.clone();
    let secret = section.get("aws_secret_access_key")?.clone();
    Some((key, secret, section.get("aws_session_token").cloned()))
}

/// `region` of the AWS profile in the shared config file.
fn profile_region() -> Option<String> {
    let file = std::env::var_os("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(".aws/config")))?;
    let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
    let text = std::fs::read_to_string(file).ok()?;
    let name = if profile == "default" {
        profile
    } else {
        format!("profile {profile}")
    };
    ini_section(&text, &name).get("region").cloned()
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// The `key = value` pairs of `[name]` in an AWS-style INI file (keys lower-cased).
fn ini_section(text: &str, name: &str) -> std::collections::HashMap<String, String> {
    let Ok(ini) = ini::Ini::load_from_str(text) else {
        return Default::default();
    };
    ini.section(Some(name))
        .map(|props| {
            props
                .iter()
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_urls_not_paths() {
        for remote in [
            "s3://b/p",
            "gs://b",
            "az://c/p",
            "abfss://c@a.dfs.core.windows.net/p",
            "ftp://x/y",
        ] {
            assert!(is_remote(FsPath::new(remote)), "{remote}");
        }
        for local in ["out/demo", "/tmp/x", "C:\\reports", "./a://b"] {
            assert!(!is_remote(FsPath::new(local)), "{local}");
        }
    }

    #[test]
    fn unknown_scheme_and_missing_bucket_fail_in_one_line_with_exit_5() {
        for (url, want) in [
            ("ftp://host/reports", "unknown storage scheme ftp://"),
            ("s3:///reports", "names no bucket"),
        ] {
            let f = Remote::open(url).err().expect(url);
            assert_eq!(f.status, ExitStatus::Output);
            assert!(f.message.contains(want), "{}", f.message);
            assert!(!f.message.contains('\n'));
        }
    }

    #[test]
    fn keys_live_under_the_prefix_and_display_drops_secrets() {
        for (url, want) in [
            (
                "s3://KEY:SECRET@bucket/p?x-amz-security-token=SECRET",
                "s3://bucket/p",
            ),
            ("gs://user@bucket/p#SECRET", "gs://bucket/p"),
            (
                "abfss://c:SECRET@acct.dfs.core.windows.net/p?sig=SECRET",
                "abfss://c@acct.dfs.core.windows.net/p",
            ),
            ("s3://KEY:SECRET@bad host/p", "s3://…"),
        ] {
            assert_eq!(redacted(url), want, "{url}");
        }
        let r = Remote::open("s3://bucket/reports/wrapup/").unwrap();
        assert_eq!(
            r.key("parquet/legs/date=2026-11-20/legs.parquet").as_ref(),
            "reports/wrapup/parquet/legs/date=2026-11-20/legs.parquet"
        );
        assert_eq!(r.display, "s3://bucket/reports/wrapup");
        let az = Remote::open("abfss://c@acct.dfs.core.windows.net/p?sig=SECRET");
        if let Ok(az) = az {
            assert!(!az.display.contains("SECRET"), "{}", az.display);
        }
    }

    #[test]
    fn region_and_access_errors_name_their_cause() {
        let r = Remote::open("s3://bucket/p").unwrap();
        let generic = |msg: &str| object_store::Error::Generic {
            store: "S3",
            source: msg.into(),
        };
        let redirect = r.cause(&generic(
            "Client error with status 301 Moved Permanently: <Code>PermanentRedirect</Code>",
        ));
        assert!(redirect.contains("another region"), "{redirect}");
        let denied = r.cause(&object_store::Error::PermissionDenied {
            path: "p".into(),
            source: "AccessDenied".into(),
        });
        assert!(denied.contains("access denied"), "{denied}");
        // A port or a duration that happens to contain 403 is not an HTTP 403.
        let refused = r.cause(&generic(
            "Error performing GET http://127.0.0.1:40312/b in 403.2ms - HTTP error: error sending request",
        ));
        assert!(refused.contains("cannot be reached"), "{refused}");
        let forbidden = r.cause(&generic("non-2xx status code: 403 Forbidden: <Error/>"));
        assert!(forbidden.contains("access denied"), "{forbidden}");
        let missing = r.cause(&generic("<Code>NoSuchBucket</Code>"));
        assert!(missing.contains("does not exist"), "{missing}");
    }

    #[test]
    fn reads_static_keys_from_an_ini_section() {
        let text = "[default]\naws_access_key_id = A\n[other]\naws_access_key_id=B\naws_secret_access_key = S\n";
        let s = ini_section(text, "other");
        assert_eq!(s["aws_access_key_id"], "B");
        assert_eq!(s["aws_secret_access_key"], "S");
        assert_eq!(ini_section(text, "default")["aws_access_key_id"], "A");
    }
}
