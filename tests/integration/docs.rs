//! The column reference stays true: docs/columns.md lists every column of both tables, in order.

use wrapup_audit::sink::{COMPLIANCE_COLUMNS, CONVERSATION_COLUMNS, LEG_COLUMNS};

/// The backticked first cells of the table under the heading that starts with `heading`.
fn documented(doc: &str, heading: &str) -> Vec<String> {
    let section = doc
        .split("\n## ")
        .find(|s| s.starts_with(heading))
        .unwrap_or_else(|| panic!("no section {heading}"));
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l[3..].split('`').next().unwrap().to_string())
        .collect()
}

#[test]
fn column_reference_matches_the_files() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/columns.md"),
    )
    .unwrap();
    assert_eq!(documented(&doc, "conversations"), CONVERSATION_COLUMNS);
    assert_eq!(documented(&doc, "legs"), LEG_COLUMNS);
    assert_eq!(documented(&doc, "compliance"), COMPLIANCE_COLUMNS);
}

#[test]
fn layout_reference_lists_every_dataset_root() {
    use wrapup_audit::sink::{dataset_root, Format, Table};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for doc in ["docs/columns.md", "docs/analysts.md"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        for &table in Table::ALL {
            for format in Format::ALL {
                let r = dataset_root(format, table).to_string_lossy().into_owned();
                assert!(text.contains(&r), "{doc} does not mention the root {r}");
            }
        }
    }
}

#[test]
fn manifest_reference_lists_every_key() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/columns.md")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("sample-output/manifest.json")).unwrap(),
    )
    .unwrap();
    // serde_json's map is sorted, so compare as sorted lists.
    let keys: Vec<String> = manifest.as_object().unwrap().keys().cloned().collect();
    // Keys the reference marks "absent ..." (e.g. `quality_gates`, for jobs with gates) may be
    // missing from the demo's manifest; `report::manifest`'s unit test sees them written.
    let optional: Vec<String> = doc
        .lines()
        .filter(|l| l.contains("| absent"))
        .filter_map(|l| l.strip_prefix("| `")?.split('`').next().map(str::to_string))
        .collect();
    assert!(optional.contains(&"quality_gates".to_string()));
    let mut listed: Vec<String> = documented(&doc, "manifest.json")
        .into_iter()
        .filter(|k| keys.contains(k) || !optional.contains(k))
        .collect();
    listed.sort();
    assert_eq!(listed, keys);
}
