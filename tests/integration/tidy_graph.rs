//! No import circle between files: the module graph of `src/`, read from `crate::`, `super::` and
//! `self::` paths and from a parent's paths into its own child modules, has no cycle. Re-exports
//! (`pub use`) are a folder's face and no arrow; otherwise a parent's `mod.rs` that uses a child
//! may not be used by it (what both need lives in a leaf file). A name a re-export brings into a
//! file and that file's own code then uses unqualified is not seen as an arrow either: children and
//! callers name the defining file (`super::channel::Msg`), which the check does see.

use std::collections::{BTreeMap, BTreeSet};

use super::tidy::{sources, Source};

/// `src/a/b.rs` → `a::b`; `src/a/mod.rs` → `a`; `src/lib.rs` → the root (empty). None for binaries.
fn module_path(path: &str) -> Option<Vec<String>> {
    let rest = path.strip_prefix("src/")?.strip_suffix(".rs")?;
    if rest == "main" || rest.starts_with("bin/") {
        return None;
    }
    let mut segs: Vec<String> = rest.split('/').map(str::to_string).collect();
    if segs.last().is_some_and(|s| s == "mod" || s == "lib") {
        segs.pop();
    }
    Some(segs)
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The paths a use tree spells, groups expanded: `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    let mut rest = tree.trim_start();
    loop {
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand(&item, &path, out);
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            expand(&item, &path, out);
            return;
        }
        let id = ident_at(rest);
        if id.is_empty() {
            break;
        }
        path.push(id.to_string());
        match rest[id.len()..].trim_start().strip_prefix("::") {
            Some(r) => rest = r.trim_start(),
            None => break,
        }
    }
    out.push(path);
}

/// Every path in `code` that starts at `crate`, `super`, `self` or one of `children`, resolved to
/// an absolute path from the crate root.
fn paths(code: &str, me: &[String], children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < code.len() {
        let boundary = i == 0 || {
            let b = bytes[i - 1];
            !(b.is_ascii_alphanumeric() || b == b'_' || b == b':')
        };
        let id = ident_at(&code[i..]);
        if !boundary || id.is_empty() {
            i += code[i..].chars().next().map_or(1, char::len_utf8);
            continue;
        }
        let after = &code[i + id.len()..];
        let starts = id == "crate" || id == "super" || id == "self" || children.contains(id);
        if starts && after.starts_with("::") {
            let mut found = Vec::new();
            expand(&code[i..], &[], &mut found);
            for p in found {
                let mut base: Vec<String> = match p[0].as_str() {
                    "crate" => Vec::new(),
                    _ => me.to_vec(),
                };
                let mut segs = p.as_slice();
                if segs[0] == "crate" || segs[0] == "self" {
                    segs = &segs[1..];
                }
                while segs.first().is_some_and(|s| s == "super") {
                    base.pop();
                    segs = &segs[1..];
                }
                base.extend(segs.iter().cloned());
                out.push(base);
            }
        }
        i += id.len();
    }
    out
}

/// `pub use …;` (any visibility), the first line of a re-export.
fn is_reexport(line: &str) -> bool {
    let l = line.trim_start();
    l.starts_with("pub use ") || (l.starts_with("pub(") && l.contains(") use "))
}

/// File-level module graph: an edge from each file to every other file whose module a path of it
/// names (the longest known prefix of the path).
fn graph(files: &[Source]) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeMap<Vec<String>, &Source> = files
        .iter()
        .filter_map(|s| module_path(&s.path).map(|m| (m, s)))
        .collect();
    let mut edges = BTreeMap::new();
    for (me, s) in &modules {
        let children: BTreeSet<String> = modules
            .keys()
            .filter(|m| m.len() == me.len() + 1 && m.starts_with(me))
            .map(|m| m.last().unwrap().clone())
            .collect();
        // Re-exports are a folder's face, not a use: `pub use child::Item` in `mod.rs` is no arrow.
        let code: String = s
            .code
            .lines()
            .filter(|l| !is_reexport(l))
            .collect::<Vec<_>>()
            .join("\n");
        let mut to = BTreeSet::new();
        for p in paths(&code, me, &children) {
            let target = (0..=p.len())
                .rev()
                .map(|k| p[..k].to_vec())
                .find(|k| modules.contains_key(k));
            if let Some(t) = target.filter(|t| t != me) {
                to.insert(modules[&t].path.clone());
            }
        }
        edges.insert(s.path.clone(), to);
    }
    edges
}

/// The files on a cycle through `start`, if any: `start → … → start`.
fn cycle_through(edges: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(at) = queue.pop_front() {
        for next in edges.get(at).into_iter().flatten() {
            if next == start {
                let mut path = vec![start.to_string(), at.to_string()];
                let mut k = at;
                while let Some(p) = prev.get(k) {
                    path.push(p.to_string());
                    k = p;
                }
                path.reverse();
                if path.len() > 2 && path[0] == path[1] {
                    path.remove(0);
                }
                return Some(path);
            }
            if !prev.contains_key(next.as_str()) {
                prev.insert(next, at);
                queue.push_back(next);
            }
        }
    }
    None
}

/// Files that reach each other (strongly connected, more than one file), each group sorted.
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut placed = BTreeSet::new();
    for start in edges.keys() {
        if placed.contains(start) || cycle_through(edges, start).is_none() {
            continue;
        }
        // The group of `start`: files it reaches that reach it back.
        let group: Vec<String> = edges
            .keys()
            .filter(|f| *f == start || (reaches(edges, start, f) && reaches(edges, f, start)))
            .cloned()
            .collect();
        placed.extend(group.iter().cloned());
        groups.push(group);
    }
    groups
}

fn reaches(edges: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::from([from]);
    let mut stack = vec![from];
    while let Some(at) = stack.pop() {
        for next in edges.get(at).into_iter().flatten() {
            if next == to {
                return true;
            }
            if seen.insert(next.as_str()) {
                stack.push(next);
            }
        }
    }
    false
}

#[test]
fn no_import_circle_between_files() {
    let edges = graph(&sources());
    let groups = circles(&edges);
    let mut wrong = Vec::new();
    for g in &groups {
        let inside: Vec<String> = g
            .iter()
            .flat_map(|f| {
                edges[f]
                    .iter()
                    .filter(|t| g.contains(t))
                    .map(move |t| format!("{f} → {t}"))
            })
            .collect();
        wrong.push(format!(
            "import circle among {}: {}",
            g.join(", "),
            inside.join("; ")
        ));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_graph_reader_sees_groups_super_and_children() {
    let me = vec!["report".to_string(), "finish".to_string()];
    let none = BTreeSet::new();
    let got = paths(
        "use super::{manifest::{Manifest, x}, closing::RunFacts};\nlet a = crate::sink::atomic::f();",
        &me,
        &none,
    );
    let want: Vec<Vec<String>> = [
        "report::manifest::Manifest",
        "report::manifest::x",
        "report::closing::RunFacts",
        "sink::atomic::f",
    ]
    .iter()
    .map(|p| p.split("::").map(str::to_string).collect())
    .collect();
    assert_eq!(got, want);
    let kids = BTreeSet::from(["atomic".to_string()]);
    let got = paths("pub use atomic::write;", &["sink".to_string()], &kids);
    assert_eq!(got, vec![vec!["sink", "atomic", "write"]]);
    let mut edges = BTreeMap::new();
    edges.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    edges.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    edges.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(
        cycle_through(&edges, "a"),
        Some(vec!["a".into(), "b".into(), "a".into()])
    );
    assert_eq!(
        circles(&edges),
        vec![vec!["a".to_string(), "b".to_string()]]
    );
}
