//! The object-store side of one run, in the order `run_command` needs it: open, probe and lock the
//! destination before any Genesys request; mirror its run state into the local staging folder;
//! publish each finished day from the checkpoint; publish the run files and release the lock.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::lock::RemoteLock;
use super::publish::block_on;
use super::Remote;
use crate::config::Config;
use crate::exit::Failure;
use crate::report::RunResult;
use crate::stats::PartitionRecord;
use tokio_util::sync::CancellationToken;

pub struct RemoteRun {
    pub remote: Remote,
    /// The local folder the run writes into and publishes from.
    staging: PathBuf,
    lock: Option<RemoteLock>,
    existing: std::sync::Mutex<HashSet<String>>,
}

impl RemoteRun {
    /// For an object-store `output_dir`: checks the destination and takes its lock; the run then
    /// writes into [`RemoteRun::staging_dir`]. `None` for a local folder. `on_lost` is cancelled if
    /// the lock is lost during the run.
    pub async fn start(
        cfg: &Config,
        run_id: &str,
        on_lost: CancellationToken,
    ) -> Result<Option<RemoteRun>, Failure> {
        if !super::is_remote(&cfg.output_dir) {
            return Ok(None);
        }
        let url = cfg.output_dir.to_string_lossy().into_owned();
        let remote = Remote::open(&url)?;
        remote.probe().await?;
        let lock = remote.lock(run_id, on_lost).await?;
        let staging = remote.staging_dir();
        tracing::info!(
            staging = %staging.display(),
            "Writing to {} (staged locally one day at a time)",
            remote.display
        );
        Ok(Some(RemoteRun {
            remote,
            staging,
            lock: Some(lock),
            existing: std::sync::Mutex::new(HashSet::new()),
        }))
    }

    /// The local staging folder: the run's output folder while it goes on.
    pub fn staging_dir(&self) -> &Path {
        &self.staging
    }

    /// Under the local lock: the staging folder gets the store's manifest and index, and the run
    /// learns which files the store already has (a resumed run skips days whose files are there).
    pub async fn prepare(&self, local: &Path) -> Result<(), Failure> {
        self.remote.pull_state(local).await?;
        let existing = self.remote.existing().await?;
        *self.existing.lock().unwrap_or_else(|e| e.into_inner()) = existing;
        Ok(())
    }

    /// Whether the store holds `rel` (a path relative to the output root).
    pub fn has(&self, rel: &Path) -> bool {
        let key: Vec<_> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        self.existing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&key.join("/"))
    }

    /// The exit-6 failure of a lost lock, once lost.
    pub fn lost(&self) -> Option<Failure> {
        self.lock.as_ref().and_then(|l| l.lost())
    }

    async fn verify_lock(&self) -> Result<(), Failure> {
        match &self.lock {
            Some(l) => l.verify().await,
            None => Ok(()),
        }
    }

    /// After the local checkpoint of a finished day: publish it (the last of `parts`), if the
    /// lock is still this run's.
    pub fn publish_checkpoint(
        &self,
        local: &Path,
        parts: &[PartitionRecord],
    ) -> Result<(), Failure> {
        match parts.last() {
            Some(p) => block_on(async {
                self.verify_lock().await?;
                self.remote.publish_partition(local, p).await
            }),
            None => Ok(()),
        }
    }

    /// Publishes the run files (manifest last) and releases the lock, whatever the run's outcome,
    /// unless the lock was lost: then the store is left to the run that holds it now. The result
    /// then names the store rather than the staging folder.
    pub async fn finish(
        mut self,
        local: &Path,
        result: Result<RunResult, Failure>,
    ) -> Result<RunResult, Failure> {
        let lost = self.verify_lock().await.err();
        let published = match lost {
            None => self.remote.publish_run_files(local).await,
            Some(_) => Ok(()),
        };
        if let Some(lock) = self.lock.take() {
            lock.release().await;
        }
        if let Some(lost) = lost {
            return Err(lost);
        }
        let mut result = result?;
        published?;
        result.output_dir = PathBuf::from(&self.remote.display);
        Ok(result)
    }
}
