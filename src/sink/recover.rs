//! Finishing a partition swap that a kill interrupted.
//!
//! A swap renames `date=D` to `.trash-<run>-D`, then the staged folder to `date=D`. A kill between
//! the two renames leaves no `date=D` and the only complete copy of the day in the trash folder,
//! while `partitions.json` and the manifest still describe that copy. Recovery puts it back;
//! a trash folder whose day is in place again is an ordinary leftover.

use std::fs;
use std::io;
use std::path::Path;

use chrono::NaiveDate;

use super::{atomic, partition_dir_name, TRASH_PREFIX};

/// The day a `.trash-<run_id>-YYYY-MM-DD` folder name belongs to.
pub(crate) fn trash_date(name: &str) -> Option<NaiveDate> {
    let rest = name.strip_prefix(TRASH_PREFIX)?;
    let tail = rest.get(rest.len().checked_sub(10)?..)?;
    NaiveDate::parse_from_str(tail, "%Y-%m-%d").ok()
}

/// Moves the trash folder back to `date=D` when that folder is missing (the swap stopped between
/// its renames). Returns true when it restored the day; false when the trash is a mere leftover.
pub(crate) fn restore_interrupted_swap(out_dir: &Path, trash: &Path) -> io::Result<bool> {
    let Some(date) = trash
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(trash_date)
    else {
        return Ok(false);
    };
    let final_dir = out_dir.join(partition_dir_name(date));
    if final_dir.exists() {
        return Ok(false);
    }
    fs::rename(trash, &final_dir)?;
    atomic::sync_dir(out_dir)?;
    tracing::warn!(date = %date, from = %trash.display(), "Restored partition date={date} from an interrupted swap");
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trash_names_give_their_day() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        assert_eq!(trash_date(".trash-20261121T002000Z-1a2b3c4d-2026-11-20"), Some(d));
        assert_eq!(trash_date(".trash-x"), None);
        assert_eq!(trash_date(".staging-r-2026-11-20"), None);
    }
}
