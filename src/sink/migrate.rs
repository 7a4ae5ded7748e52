//! Output folders of earlier versions kept every table and format of a day in one top-level
//! `date=D/` folder and the catalogs beside it. A run over such a folder moves them into the
//! dataset roots of [`super::layout`] before anything else, so the two layouts never sit side by
//! side; it refuses, changing nothing, when a day folder holds a file it cannot place.
//!
//! Each move is one rename, so a run killed half-way leaves files in either place and the next run
//! finishes the move. `partitions.json` is keyed by date and stays as it is (history kept); the
//! file paths in `manifest.json` are rewritten so a resumable run still finds its days.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::atomic;
use super::format::Format;
use super::layout::{dataset_root, CATALOGS_DIR};
use super::table::Table;

/// Catalog files the old layout kept at the top of the output folder.
const LEGACY_CATALOGS: &[&str] = &["wrapup_codes.csv", "queues.csv", "users.csv"];
const MANIFEST: &str = "manifest.json";

/// What a migration moved, for the log.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Migrated {
    pub partitions: usize,
    pub files: usize,
}

/// Where a file of the old layout goes, relative to the output folder: `date=D/legs.parquet` →
/// `parquet/legs/date=D/legs.parquet`, `queues.csv` → `catalogs/queues.csv`. `None` for anything
/// the old layout did not write.
pub fn new_path(old: &str) -> Option<PathBuf> {
    if LEGACY_CATALOGS.contains(&old) {
        return Some(Path::new(CATALOGS_DIR).join(old));
    }
    let (day, name) = old.split_once('/')?;
    if !day.starts_with("date=") || name.contains('/') {
        return None;
    }
    let (stem, ext) = name.rsplit_once('.')?;
    let format = Format::ALL.into_iter().find(|f| f.as_str() == ext)?;
    let table = Table::ALL.iter().find(|t| t.file_stem() == stem)?;
    Some(dataset_root(format, *table).join(day).join(name))
}

/// Moves an old-layout output folder into the dataset roots. Call while holding the output lock,
/// after the stale-staging cleanup. A folder without old-layout files is left alone.
pub fn migrate_legacy_layout(out_dir: &Path) -> anyhow::Result<Migrated> {
    let mut days = Vec::new();
    let mut catalogs = Vec::new();
    let entries = match fs::read_dir(out_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Migrated::default()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", out_dir.display())),
    };
    for e in entries {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let ty = e.file_type()?;
        if ty.is_dir() && name.starts_with("date=") {
            days.push(name);
        } else if ty.is_file() && LEGACY_CATALOGS.contains(&name.as_str()) {
            catalogs.push(name);
        }
    }
    if days.is_empty() && catalogs.is_empty() {
        return Ok(Migrated::default());
    }
    days.sort();

    // Plan every move first: one unplaceable file refuses the whole folder, before any change.
    let mut moves = Vec::new();
    for day in &days {
        for f in fs::read_dir(out_dir.join(day))? {
            let f = f?;
            let name = f.file_name().to_string_lossy().into_owned();
            if f.file_type()?.is_file() && atomic::is_tmp_name(&name) {
                // A killed old run's temporary file: garbage, like the cleanup treats it.
                fs::remove_file(f.path())?;
                continue;
            }
            let old = format!("{day}/{name}");
            match new_path(&old).filter(|_| f.file_type().is_ok_and(|t| t.is_file())) {
                Some(new) => moves.push((old, new)),
                None => bail!(
                    "{} is in the single-folder layout of an earlier version and holds {old}, which this version cannot place; move that file out (or choose another --output-dir) and run again",
                    out_dir.display()
                ),
            }
        }
    }
    for c in &catalogs {
        moves.push((c.clone(), new_path(c).expect("catalog names map")));
    }

    let mut dirs = std::collections::BTreeSet::new();
    for (old, new) in &moves {
        let target = out_dir.join(new);
        let parent = atomic::parent_dir(&target).to_path_buf();
        fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        fs::rename(out_dir.join(old), &target)
            .with_context(|| format!("cannot move {old} to {}", new.display()))?;
        dirs.insert(parent);
    }
    for dir in &dirs {
        atomic::sync_dir(dir)?;
    }
    for day in &days {
        fs::remove_dir(out_dir.join(day))
            .with_context(|| format!("cannot remove the emptied {day}"))?;
    }
    rewrite_manifest_paths(out_dir)?;
    atomic::sync_dir(out_dir)?;
    Ok(Migrated {
        partitions: days.len(),
        files: moves.len(),
    })
}

/// Points every `path` in `manifest.json` at the new place of its file.
fn rewrite_manifest_paths(out_dir: &Path) -> anyhow::Result<()> {
    let path = out_dir.join(MANIFEST);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    // An unreadable manifest cannot be resumed from anyway; the next run rewrites it.
    let Ok(mut manifest) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Ok(());
    };
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(p)) = map.get_mut("path") {
                    if let Some(new) = new_path(p) {
                        *p = new.to_string_lossy().into_owned();
                    }
                }
                map.values_mut().for_each(walk);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut manifest);
    let mut text = serde_json::to_string_pretty(&manifest)?;
    text.push('\n');
    super::atomic::write_file_atomically(&path, 0, |w| Ok(w.write_all(text.as_bytes())?))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn legacy(dir: &Path) {
        for day in ["date=2026-11-19", "date=2026-11-20"] {
            fs::create_dir_all(dir.join(day)).unwrap();
            for f in [
                "conversations.csv",
                "conversations.parquet",
                "legs.csv",
                "legs.parquet",
            ] {
                fs::write(dir.join(day).join(f), format!("{day}/{f}")).unwrap();
            }
        }
        fs::write(dir.join("date=2026-11-20/legs.csv.tmp-42"), "x").unwrap();
        for c in LEGACY_CATALOGS {
            fs::write(dir.join(c), *c).unwrap();
        }
        fs::write(
            dir.join("partitions.json"),
            r#"{"2026-11-19": {"run_id": "old"}}"#,
        )
        .unwrap();
        fs::write(
            dir.join(MANIFEST),
            r#"{"partitions": [{"date": "2026-11-20", "files": [{"path": "date=2026-11-20/legs.parquet", "rows": 3}]}],
                "files": [{"path": "summary.json"}, {"path": "users.csv"}]}"#,
        )
        .unwrap();
    }

    fn files(dir: &Path) -> Vec<String> {
        fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
            for e in fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(base, &p, out);
                } else {
                    out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
                }
            }
        }
        let mut out = Vec::new();
        walk(dir, dir, &mut out);
        out.sort();
        out
    }

    #[test]
    fn maps_old_paths() {
        assert_eq!(
            new_path("date=2026-11-20/legs.parquet"),
            Some(PathBuf::from("parquet/legs/date=2026-11-20/legs.parquet"))
        );
        assert_eq!(
            new_path("users.csv"),
            Some(PathBuf::from("catalogs/users.csv"))
        );
        assert_eq!(new_path("date=2026-11-20/notes.txt"), None);
        assert_eq!(new_path("summary.json"), None);
        assert_eq!(new_path("parquet/legs/date=2026-11-20/legs.parquet"), None);
    }

    #[test]
    fn moves_everything_into_the_roots_and_keeps_history() {
        let out = tempfile::tempdir().unwrap();
        legacy(out.path());
        let m = migrate_legacy_layout(out.path()).unwrap();
        assert_eq!(
            m,
            Migrated {
                partitions: 2,
                files: 11
            }
        );
        let mut want = vec![
            "catalogs/queues.csv".to_string(),
            "catalogs/users.csv".into(),
            "catalogs/wrapup_codes.csv".into(),
            "manifest.json".into(),
            "partitions.json".into(),
        ];
        for day in ["date=2026-11-19", "date=2026-11-20"] {
            for (fmt, t) in [
                ("csv", "conversations"),
                ("csv", "legs"),
                ("parquet", "conversations"),
                ("parquet", "legs"),
            ] {
                want.push(format!("{fmt}/{t}/{day}/{t}.{fmt}"));
            }
        }
        want.sort();
        assert_eq!(files(out.path()), want);
        assert_eq!(
            fs::read_to_string(out.path().join("parquet/legs/date=2026-11-19/legs.parquet"))
                .unwrap(),
            "date=2026-11-19/legs.parquet"
        );
        assert_eq!(
            fs::read_to_string(out.path().join("partitions.json")).unwrap(),
            r#"{"2026-11-19": {"run_id": "old"}}"#
        );
        let manifest: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(out.path().join(MANIFEST)).unwrap()).unwrap();
        assert_eq!(
            manifest["partitions"][0]["files"][0]["path"],
            "parquet/legs/date=2026-11-20/legs.parquet"
        );
        assert_eq!(manifest["files"][0]["path"], "summary.json");
        assert_eq!(manifest["files"][1]["path"], "catalogs/users.csv");
        // A second run finds nothing to do.
        assert_eq!(
            migrate_legacy_layout(out.path()).unwrap(),
            Migrated::default()
        );
    }

    #[test]
    fn refuses_an_unplaceable_file_and_changes_nothing() {
        let out = tempfile::tempdir().unwrap();
        legacy(out.path());
        fs::remove_file(out.path().join("date=2026-11-20/legs.csv.tmp-42")).unwrap();
        fs::write(out.path().join("date=2026-11-20/notes.txt"), "mine").unwrap();
        let before = files(out.path());
        let err = format!("{:#}", migrate_legacy_layout(out.path()).unwrap_err());
        assert!(err.contains("date=2026-11-20/notes.txt"), "{err}");
        assert!(!err.contains('\n'), "one line: {err}");
        assert_eq!(files(out.path()), before);
    }

    #[test]
    fn a_new_layout_folder_is_left_alone() {
        let out = tempfile::tempdir().unwrap();
        fs::create_dir_all(out.path().join("csv/legs/date=2026-11-20")).unwrap();
        fs::write(out.path().join("summary.json"), "{}").unwrap();
        assert_eq!(
            migrate_legacy_layout(out.path()).unwrap(),
            Migrated::default()
        );
        assert!(migrate_legacy_layout(&out.path().join("missing")).is_ok());
    }
}
