//! One run at a time per object-store output: `<prefix>/_wrapup-audit.lock`, created only if absent
//! (a conditional PUT), holding the owner and a lease. The holder renews the lease while it runs
//! (conditional on its own last write), so a crashed run's lock simply expires; a later run takes
//! an expired lock over with a PUT conditional on the version it read, so two runs never both win.
//! The `_` prefix keeps the object out of every Hive reader's listing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use object_store::{ObjectStoreExt, PutMode, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use super::Remote;
use crate::exit::{ExitStatus, Failure};

/// Key of the lock object under the output prefix.
pub const LOCK_KEY: &str = "_wrapup-audit.lock";
/// Lease length unless `WRAPUP_AUDIT_LOCK_LEASE_SECS` says otherwise.
const DEFAULT_LEASE: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockBody {
    pub owner: String,
    pub run_id: String,
    pub acquired_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The held lock; [`RemoteLock::release`] deletes it. Dropped unreleased (a panic, an early
/// return), it is released best-effort; failing that, its lease runs out.
pub struct RemoteLock {
    remote: Remote,
    run_id: String,
    renewer: Option<JoinHandle<()>>,
    released: bool,
}

fn lease() -> Duration {
    std::env::var("WRAPUP_AUDIT_LOCK_LEASE_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_LEASE)
}

fn owner() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into());
    format!("{host} pid {}", std::process::id())
}

fn body(run_id: &str, acquired_at: DateTime<Utc>, lease: Duration) -> LockBody {
    LockBody {
        owner: owner(),
        run_id: run_id.to_string(),
        acquired_at,
        expires_at: Utc::now() + chrono::Duration::from_std(lease).unwrap_or_default(),
    }
}

fn payload(b: &LockBody) -> PutPayload {
    PutPayload::from(serde_json::to_vec(b).unwrap_or_default())
}

impl Remote {
    /// Takes the lock for `run_id`, or fails with exit 6 naming the holder and when its lease ends.
    pub async fn lock(&self, run_id: &str) -> Result<RemoteLock, Failure> {
        let key = self.key(LOCK_KEY);
        let lease = lease();
        let acquired_at = Utc::now();
        let mine = body(run_id, acquired_at, lease);
        let version = match self
            .store
            .put_opts(&key, payload(&mine), PutMode::Create.into())
            .await
        {
            Ok(put) => UpdateVersion::from(put),
            Err(object_store::Error::AlreadyExists { .. })
            | Err(object_store::Error::Precondition { .. }) => {
                self.take_over_expired(run_id, acquired_at, lease).await?
            }
            Err(e) => return Err(self.failure("cannot be locked", &e)),
        };
        Ok(RemoteLock {
            remote: self.clone(),
            run_id: run_id.to_string(),
            renewer: Some(self.spawn_renewer(run_id.to_string(), acquired_at, lease, version)),
            released: false,
        })
    }

    async fn take_over_expired(
        &self,
        run_id: &str,
        acquired_at: DateTime<Utc>,
        lease: Duration,
    ) -> Result<UpdateVersion, Failure> {
        let key = self.key(LOCK_KEY);
        let got = self
            .store
            .get(&key)
            .await
            .map_err(|e| self.failure("lock cannot be read", &e))?;
        let read_version = UpdateVersion {
            e_tag: got.meta.e_tag.clone(),
            version: got.meta.version.clone(),
        };
        let bytes = got
            .bytes()
            .await
            .map_err(|e| self.failure("lock cannot be read", &e))?;
        let holder: Option<LockBody> = serde_json::from_slice(&bytes).ok();
        if let Some(h) = &holder {
            if h.expires_at > Utc::now() {
                return Err(Failure::new(
                    ExitStatus::Locked,
                    format!(
                        "another run holds the lock on {} (run {}, {}, lease until {}); wait for it to finish or use another output_dir",
                        self.display,
                        h.run_id,
                        h.owner,
                        crate::time::iso_ms(h.expires_at)
                    ),
                ));
            }
        }
        let mine = body(run_id, acquired_at, lease);
        match self
            .store
            .put_opts(&key, payload(&mine), PutMode::Update(read_version).into())
            .await
        {
            Ok(put) => {
                tracing::warn!(
                    previous = holder.as_ref().map(|h| h.run_id.as_str()).unwrap_or("unreadable"),
                    "Took over an expired lock on {} (its run ended without releasing it)",
                    self.display
                );
                Ok(UpdateVersion::from(put))
            }
            Err(object_store::Error::Precondition { .. })
            | Err(object_store::Error::AlreadyExists { .. }) => Err(Failure::new(
                ExitStatus::Locked,
                format!(
                    "another run took the lock on {} first; wait for it to finish or use another output_dir",
                    self.display
                ),
            )),
            Err(e) => Err(self.failure("cannot be locked", &e)),
        }
    }

    fn spawn_renewer(
        &self,
        run_id: String,
        acquired_at: DateTime<Utc>,
        lease: Duration,
        mut version: UpdateVersion,
    ) -> JoinHandle<()> {
        let remote = self.clone();
        tokio::spawn(async move {
            let key = remote.key(LOCK_KEY);
            loop {
                tokio::time::sleep(lease / 3).await;
                let b = body(&run_id, acquired_at, lease);
                match remote
                    .store
                    .put_opts(&key, payload(&b), PutMode::Update(version.clone()).into())
                    .await
                {
                    Ok(put) => version = UpdateVersion::from(put),
                    Err(e) => tracing::warn!(
                        "Cannot renew the lock on {}: {}",
                        remote.display,
                        super::one_line(&e.to_string())
                    ),
                }
            }
        })
    }
}

impl RemoteLock {
    /// Stops renewing and deletes the lock if it is still this run's.
    pub async fn release(mut self) {
        self.release_inner().await;
    }

    async fn release_inner(&mut self) {
        if self.released {
            return;
        }
        self.released = true;
        if let Some(r) = self.renewer.take() {
            r.abort();
        }
        let key = self.remote.key(LOCK_KEY);
        let ours = match self.remote.store.get(&key).await {
            Ok(got) => match got.bytes().await {
                Ok(b) => {
                    serde_json::from_slice::<LockBody>(&b).is_ok_and(|l| l.run_id == self.run_id)
                }
                Err(_) => false,
            },
            Err(_) => false,
        };
        if ours {
            if let Err(e) = self.remote.store.delete(&key).await {
                tracing::warn!(
                    "Cannot remove the lock on {} (it expires by itself): {}",
                    self.remote.display,
                    super::one_line(&e.to_string())
                );
            }
        }
    }
}

impl Drop for RemoteLock {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        if let Some(r) = self.renewer.take() {
            r.abort();
        }
        // Only a multi-threaded runtime can wait here; otherwise the lease expires the lock.
        if let Ok(h) = tokio::runtime::Handle::try_current() {
            if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
                tokio::task::block_in_place(|| {
                    h.block_on(async {
                        let _ = tokio::time::timeout(Duration::from_secs(10), self.release_inner())
                            .await;
                    })
                });
            }
        }
    }
}
