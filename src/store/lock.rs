//! One run at a time per object-store output: `<prefix>/_wrapup-audit.lock`, created only if absent
//! (a conditional PUT), holding the owner and a lease. The holder renews the lease while it runs
//! (conditional on its own last write), so a crashed run's lock simply expires; a later run takes
//! an expired lock over with a PUT conditional on the version it read, so two runs never both win.
//! The `_` prefix keeps the object out of every Hive reader's listing.
//!
//! A lock that can no longer be renewed (another run took it over, or renewals kept failing until
//! the lease was nearly over) is *lost*: the run's token is cancelled, nothing more is published,
//! and the run ends with exit 6 ([`RemoteLock::lost`]).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use object_store::{ObjectStoreExt, PutMode, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

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
    held: Arc<Held>,
}

/// What the holder and its renewer share. The version mutex is held across each renewal and
/// each check, so a check never compares against a version a renewal is replacing.
struct Held {
    /// The version this run last wrote and the lease end it wrote.
    version: tokio::sync::Mutex<(UpdateVersion, DateTime<Utc>)>,
    /// Why the lock was lost, once it was.
    lost: OnceLock<String>,
    /// Cancelled when the lock is lost: the run stops as on a signal.
    on_lost: CancellationToken,
}

impl Held {
    fn lose(&self, why: String) {
        if self.lost.set(why.clone()).is_ok() {
            tracing::error!("{why}");
        }
        self.on_lost.cancel();
    }
}

/// Whether the lock object's current version is `mine` (`None` when the store tells neither an
/// ETag nor a version, so no comparison is possible).
fn same_version(mine: &UpdateVersion, meta: &object_store::ObjectMeta) -> Option<bool> {
    match (&mine.e_tag, &meta.e_tag, &mine.version, &meta.version) {
        (Some(a), Some(b), _, _) => Some(a == b),
        (_, _, Some(a), Some(b)) => Some(a == b),
        _ => None,
    }
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
    /// `on_lost` is cancelled if the lock is lost while held.
    pub async fn lock(
        &self,
        run_id: &str,
        on_lost: CancellationToken,
    ) -> Result<RemoteLock, Failure> {
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
        let expires = mine.expires_at;
        let held = Arc::new(Held {
            version: tokio::sync::Mutex::new((version, expires)),
            lost: OnceLock::new(),
            on_lost,
        });
        Ok(RemoteLock {
            remote: self.clone(),
            run_id: run_id.to_string(),
            renewer: Some(self.spawn_renewer(run_id.to_string(), acquired_at, lease, held.clone())),
            released: false,
            held,
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

    /// Renews the lease every third of it, each PUT conditional on this run's last write. A
    /// refused condition means another run wrote the lock: lost at once. Other errors are retried
    /// at the next tick unless the lease would end before it: lost then too.
    fn spawn_renewer(
        &self,
        run_id: String,
        acquired_at: DateTime<Utc>,
        lease: Duration,
        held: Arc<Held>,
    ) -> JoinHandle<()> {
        let remote = self.clone();
        tokio::spawn(async move {
            let key = remote.key(LOCK_KEY);
            let tick = lease / 3;
            loop {
                tokio::time::sleep(tick).await;
                let mut v = held.version.lock().await;
                let b = body(&run_id, acquired_at, lease);
                match remote
                    .store
                    .put_opts(&key, payload(&b), PutMode::Update(v.0.clone()).into())
                    .await
                {
                    Ok(put) => *v = (UpdateVersion::from(put), b.expires_at),
                    Err(object_store::Error::Precondition { .. })
                    | Err(object_store::Error::AlreadyExists { .. })
                    | Err(object_store::Error::NotFound { .. }) => {
                        held.lose(remote.taken_over_message().await);
                        return;
                    }
                    Err(e) => {
                        let cause = super::one_line(&e.to_string());
                        let next =
                            Utc::now() + chrono::Duration::from_std(tick).unwrap_or_default();
                        if next >= v.1 {
                            held.lose(format!(
                                "lost the lock on {}: it could not be renewed before its lease ended ({cause}); stopped without publishing more, finished days kept",
                                remote.display
                            ));
                            return;
                        }
                        tracing::warn!("Cannot renew the lock on {}: {cause}", remote.display);
                    }
                }
            }
        })
    }

    /// The error line for a lock another run wrote: who holds it now, if it can be read.
    async fn taken_over_message(&self) -> String {
        let holder = match self.store.get(&self.key(LOCK_KEY)).await {
            Ok(got) => got
                .bytes()
                .await
                .ok()
                .and_then(|b| serde_json::from_slice::<LockBody>(&b).ok()),
            Err(_) => None,
        };
        let who = match holder {
            Some(h) => format!(" (now run {}, {})", h.run_id, h.owner),
            None => String::new(),
        };
        format!(
            "lost the lock on {}: another run took it over{who}; stopped without publishing more, finished days kept",
            self.display
        )
    }
}

impl RemoteLock {
    /// Why the lock was lost, as the run's exit-6 failure; `None` while it is held.
    pub fn lost(&self) -> Option<Failure> {
        self.held
            .lost
            .get()
            .map(|why| Failure::new(ExitStatus::Locked, why.clone()))
    }

    /// Checks, just before publishing, that the lock object is still this run's last write. A
    /// store that cannot be asked now is not a loss (the renewer decides that); another version is.
    pub async fn verify(&self) -> Result<(), Failure> {
        let v = self.held.version.lock().await;
        if let Some(f) = self.lost() {
            return Err(f);
        }
        let still_mine = match self.remote.store.head(&self.remote.key(LOCK_KEY)).await {
            Ok(meta) => same_version(&v.0, &meta).unwrap_or(true),
            Err(object_store::Error::NotFound { .. }) => false,
            Err(_) => true,
        };
        if !still_mine {
            self.held.lose(self.remote.taken_over_message().await);
        }
        drop(v);
        self.lost().map_or(Ok(()), Err)
    }

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
