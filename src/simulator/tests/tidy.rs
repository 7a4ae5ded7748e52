//! The simulator stands apart from the client: it shares the record labels and nothing else (not the
//! classifier, the transforms or the client's API types), so its ground truth cannot agree with a client bug
//! by construction.

use std::path::Path;

/// Allowed while `Mismatch` still lives in `transform::acw`; it belongs with the labels in `crate::record`.
const PENDING_MOVE: &str = "transform::acw::Mismatch";

/// Every `crate::…` path named in a file under `dir` (this one aside), after the `crate::`, with the file.
fn crate_paths(dir: &Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).expect("simulator dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            crate_paths(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("tests/tidy.rs") {
            let text = std::fs::read_to_string(&p).expect("source");
            for (i, _) in text.match_indices("crate::") {
                let path: String = text[i + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                out.push((p.display().to_string(), path));
            }
        }
    }
}

#[test]
fn the_simulator_imports_only_record_labels_from_the_client() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/simulator");
    let mut found = Vec::new();
    crate_paths(&dir, &mut found);
    assert!(
        found.iter().any(|(_, p)| p.starts_with("record::")),
        "the scan sees the simulator's imports"
    );
    let foreign: Vec<_> = found
        .iter()
        .filter(|(_, p)| {
            !(p.starts_with("simulator::") || p.starts_with("record::") || p == PENDING_MOVE)
        })
        .collect();
    assert!(
        foreign.is_empty(),
        "the simulator imports the client: {foreign:?}"
    );
}
