//! ARCHITECTURE.md's invariants about the code itself, read from the source files (rust-analyzer's
//! "tidy" tests): the layers and their one-way arrows, who may speak HTTP, who may write files, what
//! the transforms and the simulator may import, and how long files and functions may grow.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules from the bottom up: a module may import only from layers below its own. Keep in step with the layer list in ARCHITECTURE.md.
const LAYERS: &[&[&str]] = &[
    &["exit"],
    &[
        "time",
        "failpoint",
        "task",
        "progress",
        "record",
        "shutdown",
    ],
    &["api", "simulator"],
    &["sink"],
    &["config"],
    &["transform"],
    &["stats"],
    &["source"],
    &["report"],
    &["store"],
    &["pipeline"],
    &["cli"],
    &["logging"],
    &["commands"],
];

/// Files allowed to speak HTTP besides `src/api/`, and why.
const HTTP_OUTSIDE_API: &[(&str, &str)] = &[
    (
        "src/report/metrics.rs",
        "the Pushgateway push: not Genesys, no token",
    ),
    ("src/logging.rs", "names reqwest only to cap its log level"),
    (
        "src/bin/bench.rs",
        "the benchmark drives a simulator it started",
    ),
];

/// Files allowed to write files besides `src/sink/`, `src/report/` and `src/store/`, and why.
const WRITES_OUTSIDE_SINKS: &[(&str, &str)] = &[
    (
        "src/source/spill.rs",
        "the jobs path's sorted runs in a staging folder",
    ),
    ("src/bin/bench.rs", "benchmark scratch data"),
    ("src/bin/bench/stress.rs", "benchmark scratch data"),
    ("src/bin/bench/scale.rs", "benchmark scratch data"),
];

/// Production files (inline test modules not counted) over the size limit, with their size when the limit came in: they may shrink,
/// never grow, and leave this list once under the limit.
const OVERSIZED: &[(&str, usize)] = &[];

const MAX_FILE_LINES: usize = 600;
const MAX_FN_LINES: usize = 80;

pub(crate) struct Source {
    /// Relative to the package root, with `/`.
    pub path: String,
    /// The production part: everything before the inline test module.
    pub code: String,
    lines: usize,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every production source file under `src/` (test modules and test-only files left out).
pub(crate) fn sources() -> Vec<Source> {
    let mut files = Vec::new();
    walk(&root().join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let path = p
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let is_test = path.ends_with("/tests.rs")
                || path.contains("/tests/")
                || path.ends_with("/testdata.rs");
            if is_test {
                return None;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let code = text[..test_module_start(&text)].to_string();
            Some(Source {
                lines: code.lines().count(),
                path,
                code,
            })
        })
        .collect()
}

/// Where a file's inline test module (`#[cfg(test)]` then `mod … {`) starts, else its end.
fn test_module_start(text: &str) -> usize {
    let mut at = 0;
    while let Some(i) = text[at..].find("#[cfg(test)]") {
        let start = at + i;
        let after = text[start + "#[cfg(test)]".len()..].trim_start();
        let line = after.lines().next().unwrap_or("");
        if line.contains("mod ") && line.trim_end().ends_with('{') {
            return start;
        }
        at = start + 1;
    }
    text.len()
}

/// The top-level module a file belongs to (`src/source/query.rs` → `source`); None for the crate
/// root and the binaries.
fn top_module(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("src/")?;
    let first = rest.split('/').next()?;
    match first {
        "lib.rs" | "main.rs" | "bin" => None,
        f => Some(f.strip_suffix(".rs").unwrap_or(f)),
    }
}

/// The top-level modules named by `crate::x` paths in the code (comments included: a doc link is
/// an arrow too).
fn imports(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let before = code[..i].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `wrapup_audit_crate::`, not ours
        }
        let name: String = code[i + 7..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

#[test]
fn every_top_level_module_has_a_layer() {
    for s in sources() {
        if let Some(m) = top_module(&s.path) {
            assert!(
                layer_of(m).is_some(),
                "{} belongs to module `{m}`, which LAYERS does not place",
                s.path
            );
        }
    }
}

#[test]
fn imports_point_down_the_layers_only() {
    let mut wrong = Vec::new();
    for s in sources() {
        let Some(from) = top_module(&s.path) else {
            continue;
        };
        assert!(
            !s.code.contains("crate::{"),
            "{}: write one `use crate::module::…` per module, so the layer check can read it",
            s.path
        );
        let lf = layer_of(from).unwrap();
        for to in imports(&s.code) {
            if to == from {
                continue;
            }
            match layer_of(&to) {
                Some(lt) if lt < lf => {}
                Some(lt) if lt == lf => wrong.push(format!(
                    "{}: `{from}` imports `{to}` from its own layer",
                    s.path
                )),
                Some(_) => wrong.push(format!(
                    "{}: `{from}` imports `{to}`, a layer above it",
                    s.path
                )),
                // Items of the crate root (`crate::run`) are the top of the graph.
                None => wrong.push(format!(
                    "{}: `{from}` imports `crate::{to}` from the crate root",
                    s.path
                )),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn only_the_api_module_speaks_http() {
    for s in sources() {
        let allowed =
            s.path.starts_with("src/api/") || HTTP_OUTSIDE_API.iter().any(|(p, _)| *p == s.path);
        if !allowed {
            assert!(
                !s.code.contains("reqwest"),
                "{} uses reqwest: HTTP belongs in src/api/ (or add it to HTTP_OUTSIDE_API with a reason)",
                s.path
            );
        }
    }
}

#[test]
fn only_sinks_reports_and_stores_write_files() {
    const WRITES: &[&str] = &[
        "File::create",
        "fs::write",
        "OpenOptions",
        "create_dir",
        "fs::rename",
        "remove_file",
        "remove_dir",
        "tempfile::",
    ];
    for s in sources() {
        let allowed = ["src/sink/", "src/report/", "src/store/"]
            .iter()
            .any(|d| s.path.starts_with(d))
            || WRITES_OUTSIDE_SINKS.iter().any(|(p, _)| *p == s.path);
        if allowed {
            continue;
        }
        for w in WRITES {
            assert!(
                !s.code.contains(w),
                "{} writes files ({w}): that belongs in src/sink/, src/report/ or src/store/",
                s.path
            );
        }
    }
}

#[test]
fn transforms_see_the_api_only_through_its_wire_types() {
    for s in sources()
        .iter()
        .filter(|s| s.path.starts_with("src/transform/"))
    {
        for (i, _) in s.code.match_indices("crate::api") {
            assert!(
                s.code[i..].starts_with("crate::api::wire::"),
                "{}: transforms read `api::wire` types only (no client, no errors, no HTTP)",
                s.path
            );
        }
    }
}

#[test]
fn the_simulator_never_imports_the_client_or_the_classifier() {
    for s in sources()
        .iter()
        .filter(|s| s.path.starts_with("src/simulator/"))
    {
        let used = imports(&s.code);
        for banned in ["transform", "api", "source", "pipeline", "report", "sink"] {
            assert!(
                !used.contains(banned),
                "{}: the simulator imports crate::{banned}; its truth must come from its own scenarios",
                s.path
            );
        }
    }
}

#[test]
fn production_files_stay_under_the_size_limit() {
    let mut wrong = Vec::new();
    let all = sources();
    for s in &all {
        match OVERSIZED.iter().find(|(p, _)| *p == s.path) {
            Some((_, was)) if s.lines > *was => wrong.push(format!(
                "{} grew to {} lines (it was {was}, over the {MAX_FILE_LINES} limit): split it",
                s.path, s.lines
            )),
            Some(_) if s.lines <= MAX_FILE_LINES => wrong.push(format!(
                "{} is {} lines now: remove it from OVERSIZED",
                s.path, s.lines
            )),
            Some(_) => {}
            None if s.lines > MAX_FILE_LINES && !s.path.starts_with("src/bin/") => {
                wrong.push(format!(
                    "{} has {} lines, over {MAX_FILE_LINES}: split it",
                    s.path, s.lines
                ))
            }
            None => {}
        }
    }
    for (p, _) in OVERSIZED {
        assert!(
            all.iter().any(|s| s.path == *p),
            "OVERSIZED names {p}, which is gone"
        );
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Functions over the limit, by file: (path, name, lines). A function may be longer when a comment
/// starting `// Long:` just above it (among its doc lines and attributes) says why.
/// Functions over the limit without a `// Long:` reason.
fn long_functions(s: &Source) -> Vec<(String, usize)> {
    function_sizes(s)
        .into_iter()
        .filter(|(_, len, excused)| *len > MAX_FN_LINES && !excused)
        .map(|(name, len, _)| (name, len))
        .collect()
}

/// Every function with a body: name, lines, and whether a `// Long:` reason stands above it.
fn function_sizes(s: &Source) -> Vec<(String, usize, bool)> {
    let lines: Vec<&str> = s.code.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_start();
        let indent = &l[..l.len() - t.len()];
        let sig = t
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub(super) ")
            .trim_start_matches("pub ")
            .trim_start_matches("async ");
        let Some(rest) = sig.strip_prefix("fn ") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{indent}}}");
        let Some(end) = (i + 1..lines.len()).find(|j| lines[*j] == close) else {
            continue; // a declaration without a body
        };
        let len = end - i + 1;
        let excused = lines[..i]
            .iter()
            .rev()
            .take_while(|p| {
                let p = p.trim_start();
                p.starts_with("//") || p.starts_with("#[")
            })
            .any(|p| p.trim_start().starts_with("// Long:"));
        out.push((name, len, excused));
    }
    out
}

#[test]
fn long_functions_say_why() {
    let mut wrong: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in sources() {
        for (name, len, excused) in function_sizes(&s) {
            let what = match (len > MAX_FN_LINES, excused) {
                (true, false) => format!("{name} ({len} lines) has no `// Long:` reason"),
                (false, true) => format!("{name} ({len} lines) keeps a stale `// Long:` note"),
                _ => continue,
            };
            wrong.entry(s.path.clone()).or_default().push(what);
        }
    }
    let text: Vec<String> = wrong
        .iter()
        .map(|(p, f)| format!("{p}: {}", f.join(", ")))
        .collect();
    assert!(
        wrong.is_empty(),
        "functions over {MAX_FN_LINES} lines need a `// Long:` reason above them, and only they:\n{}",
        text.join("\n")
    );
}

#[test]
fn the_tidy_checks_can_fail() {
    // The readers above must see what they look for, or every check passes vacuously.
    let s = Source {
        path: "src/x.rs".into(),
        code: format!(
            "fn big() {{\n{}}}\nuse crate::pipeline::audit;\n",
            "    x();\n".repeat(90)
        ),
        lines: 93,
    };
    assert_eq!(long_functions(&s), vec![("big".to_string(), 92)]);
    let stale = Source {
        path: "src/y.rs".into(),
        code: "// Long: it used to be.\nfn small() {\n    x();\n}\n".into(),
        lines: 4,
    };
    assert_eq!(function_sizes(&stale), vec![("small".to_string(), 3, true)]);
    assert!(imports(&s.code).contains("pipeline"));
    assert_eq!(top_module("src/source/query.rs"), Some("source"));
    assert!(sources().iter().any(|s| s.path == "src/pipeline/mod.rs"));
    let with_tests = "fn a() {}\n#[cfg(test)]\nmod testdata;\n#[cfg(test)]\nmod tests {\n}\n";
    assert_eq!(
        &with_tests[..test_module_start(with_tests)],
        "fn a() {}\n#[cfg(test)]\nmod testdata;\n"
    );
}

#[test]
fn architecture_md_lists_the_same_layers() {
    let doc = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let start = doc
        .find("## Layers")
        .expect("ARCHITECTURE.md has a Layers section");
    let block = &doc[start..];
    let block = &block[..block.find("```\n\n").expect("the Layers block ends")];
    // Each line of the block names its modules before a run of two spaces, top layer first.
    let mut row_of = BTreeMap::new();
    for (row, line) in block.lines().enumerate() {
        let names = line.split("  ").next().unwrap_or("");
        for m in names.split(", ") {
            row_of.insert(m.trim().to_string(), row);
        }
    }
    let mut above = usize::MAX;
    for layer in LAYERS {
        let rows: Vec<usize> = layer
            .iter()
            .map(|m| {
                *row_of
                    .get(*m)
                    .unwrap_or_else(|| panic!("ARCHITECTURE.md's Layers block does not name `{m}`"))
            })
            .collect();
        for (m, r) in layer.iter().zip(&rows) {
            assert!(
                *r < above,
                "`{m}` is not below the layer above it in ARCHITECTURE.md's Layers block"
            );
        }
        above = *rows.iter().min().unwrap();
    }
}
