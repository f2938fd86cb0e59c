//! The shape of `src/`, checked: data flows one way (request → provider kit → http →
//! framing → map → stream → collect), so no module imports from a layer above its own
//! and there is no import cycle; and no file holds more than about 400 lines of code
//! besides its tests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, top first. A module may use modules of lower layers; modules of one
/// layer may use each other only without a cycle. `lib.rs` (the crate root) and
/// `__private.rs` (the hidden entry points for benches and fuzzing) may use anything.
const LAYERS: &[&[&str]] = &[
    &["mcp"],
    &["agent"],
    &["registry"],
    &["budget"],
    &["providers", "routing", "record"],
    &["kit"],
    &["provider"],
    &["reply", "embed"],
    &["retry", "stream"],
    &["http"],
    &["framing"],
    &["decode"],
    &[
        "redact",
        "origin",
        "lenient",
        "json_text",
        "json_scan",
        "request",
        "pricing",
        "chunk",
        "text",
        "finish",
        "error",
        "partial",
        "usage",
        "rate_limit",
        "route",
        "duration",
    ],
];

/// The most lines of code (tests excluded) a file in `src/` may have.
const MAX_LINES: usize = 420;

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/kit/provider.rs` → `kit`).
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// Whether a file is all tests: a `tests.rs` beside a module, or the SSE framer's
/// test-only reference (eventsource-stream).
fn is_test_file(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "tests.rs") || path.ends_with("framing/sse/reference.rs")
}

/// The code of a file without its in-file test module (`#[cfg(test)] mod tests {` to the
/// end) and without comments.
fn code_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut iter = text.lines().peekable();
    while let Some(line) = iter.next() {
        if line.trim() == "#[cfg(test)]"
            && iter
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod tests {"))
        {
            break;
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        lines.push(line);
    }
    lines
}

/// The top-level modules a file's code refers to through `crate::`.
fn uses(code: &[&str]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in code {
        let mut rest = *line;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // `$crate::` in a macro refers to the root's public names, not a module.
            let macro_path = rest[..at].ends_with('$');
            if !name.is_empty()
                && !macro_path
                && name.chars().next().is_some_and(char::is_lowercase)
            {
                found.insert(name);
            }
            rest = after;
        }
    }
    found
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// Every module's uses of other modules.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        if is_test_file(&path) {
            continue;
        }
        let module = module_of(&path);
        let used = uses(&code_lines(&text));
        graph
            .entry(module.clone())
            .or_default()
            .extend(used.into_iter().filter(|m| *m != module));
    }
    graph
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let mut wrong = Vec::new();
    for (module, used) in graph() {
        if module == "lib" || module == "__private" {
            continue;
        }
        let Some(own) = layer_of(&module) else {
            wrong.push(format!("{module} is in no layer: add it to LAYERS"));
            continue;
        };
        for other in used {
            match layer_of(&other) {
                Some(layer) if layer < own => wrong.push(format!(
                    "{module} (layer {own}) uses {other} (layer {layer})"
                )),
                None if other != "__private" => {
                    wrong.push(format!("{module} uses {other}, which is in no layer"))
                }
                _ => {}
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn there_is_no_import_cycle() {
    let graph = graph();
    // Depth-first search for a back edge.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys().filter(|n| *n != "lib" && *n != "__private") {
        if let Some(cycle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn no_file_is_over_about_400_lines_of_code() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut big = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        if is_test_file(&path) {
            continue;
        }
        let lines = code_lines(&text)
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .count();
        if lines > MAX_LINES {
            big.push(format!("{}: {lines} lines of code", path.display()));
        }
    }
    assert!(big.is_empty(), "split these by job: {big:#?}");
}

/// Within each folder module, which of its files use which siblings (`super::name`),
/// by file stem: `kit/builder.rs` using `super::provider::…` is builder → provider.
fn sibling_graphs() -> BTreeMap<PathBuf, BTreeMap<String, BTreeSet<String>>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut graphs: BTreeMap<PathBuf, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for path in files {
        let (Some(dir), Some(stem)) = (path.parent(), path.file_stem()) else {
            continue;
        };
        let stem = stem.to_string_lossy().into_owned();
        if stem == "mod" || is_test_file(&path) || stem == "tests" {
            continue;
        }
        let siblings: BTreeSet<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                let p = e.unwrap().path();
                let name = p.file_stem()?.to_string_lossy().into_owned();
                (name != "mod" && name != stem).then_some(name)
            })
            .collect();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut used = BTreeSet::new();
        for line in code_lines(&text) {
            for (at, _) in line.match_indices("super::") {
                let after = &line[at + "super::".len()..];
                let names: Vec<&str> = match after.strip_prefix('{') {
                    Some(group) => group.split([',', '}']).map(str::trim).collect(),
                    None => vec![after],
                };
                for name in names {
                    let name: String = name
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if siblings.contains(&name) {
                        used.insert(name);
                    }
                }
            }
        }
        graphs
            .entry(dir.to_path_buf())
            .or_default()
            .insert(stem, used);
    }
    graphs
}

#[test]
fn no_two_files_of_a_module_use_each_other() {
    let mut cycles = Vec::new();
    for (dir, graph) in sibling_graphs() {
        for (file, used) in &graph {
            for other in used {
                if graph.get(other).is_some_and(|back| back.contains(file)) && file < other {
                    cycles.push(format!("{}: {file} <-> {other}", dir.display()));
                }
            }
        }
    }
    assert!(cycles.is_empty(), "{cycles:#?}");
}

/// The places where code names an item through the crate root (`crate::Result`,
/// `crate::{Error, …}`) instead of the module that has it: the root is for apps, and a
/// path through it hides which layer the code depends on.
fn paths_through_the_root(code: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for line in code {
        let mut rest = *line;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let first = after.chars().next();
            if first.is_some_and(|c| c.is_uppercase() || c == '{')
                || after.starts_with("get_llm_provider")
            {
                found.push(line.trim().to_owned());
            }
            rest = after;
        }
    }
    found
}

#[test]
fn no_code_reaches_a_name_through_the_root() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut wrong = Vec::new();
    for path in files {
        if path.ends_with("lib.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for line in paths_through_the_root(&code_lines(&text)) {
            wrong.push(format!("{}: {line}", path.display()));
        }
    }
    assert!(
        wrong.is_empty(),
        "name the module, not the root: {wrong:#?}"
    );
}

#[test]
fn the_checks_see_what_they_check() {
    assert_eq!(
        paths_through_the_root(&["let r: crate::Result<()> = x;"]).len(),
        1
    );
    assert_eq!(
        paths_through_the_root(&["use crate::{Error, Chunk};"]).len(),
        1
    );
    assert!(paths_through_the_root(&["use crate::error::Result;", "$crate::retry::X"]).is_empty());
    let graph = graph();
    assert!(graph["kit"].contains("http"), "{:?}", graph["kit"]);
    assert!(graph["providers"].contains("kit"));
    assert!(uses(&["use crate::kit::{Dialect};", "x = $crate::RetryPolicy"]).contains("kit"));
    assert!(!uses(&["x = $crate::retry"]).contains("retry"));
}
