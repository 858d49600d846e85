//! The layers of `docs/architecture.md` hold: every module of `src/` is in the table there, and
//! no module imports one of a layer it may not (test code aside). The table is read from the
//! document, so changing the rule means changing the document.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A layer from the table: its rank, and its name (which tells siblings of one rank apart).
#[derive(Debug, Clone, PartialEq)]
struct Layer {
    rank: u32,
    name: String,
}

/// Module → layer, from the table between the `layers` markers.
fn layers() -> BTreeMap<String, Layer> {
    let doc = std::fs::read_to_string(root().join("docs/architecture.md"))
        .expect("docs/architecture.md is readable");
    let begin = doc
        .find("<!-- layers: begin -->")
        .expect("layers: begin marker");
    let end = doc
        .find("<!-- layers: end -->")
        .expect("layers: end marker");
    let mut out = BTreeMap::new();
    for line in doc[begin..end].lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (layer, modules) = (cells[1], cells[2]);
        let Some((rank, name)) = layer.split_once(' ') else {
            continue; // the header row
        };
        let Ok(rank) = rank.parse::<u32>() else {
            continue;
        };
        for module in modules.split(',').map(|m| m.trim().trim_matches('`')) {
            out.insert(
                module.to_string(),
                Layer {
                    rank,
                    name: name.to_string(),
                },
            );
        }
    }
    out
}

/// Whether `from` may import `to`: its own module, any lower layer; the top layer anything.
fn allowed(table: &BTreeMap<String, Layer>, from: &str, to: &str) -> bool {
    let (a, b) = (&table[from], &table[to]);
    from == to || b.rank < a.rank || a.name == "commands"
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`None` for the crate roots).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// The top-level modules `code` names as `crate::x`, `crate::{x, ...}` or `super::...` past
/// its own module, outside comments and before the first `#[cfg(test)]`.
fn imports(code: &str) -> Vec<String> {
    let code: String = code
        .split("#[cfg(test)]")
        .next()
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = Vec::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            out.extend(inner.split(',').map(|p| ident(p.trim())));
        } else {
            out.push(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty() && m != "self");
    out
}

#[test]
fn every_module_is_in_a_layer_and_imports_only_below_it() {
    let table = layers();
    assert!(table.len() > 10, "the layer table was not read: {table:?}");
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        if !table.contains_key(&module) {
            problems.push(format!(
                "{}: module `{module}` is in no layer of docs/architecture.md",
                file.display()
            ));
            continue;
        }
        let code = std::fs::read_to_string(file).expect("source is readable");
        let file = file.strip_prefix(root()).unwrap_or(file);
        for target in imports(&code) {
            if !table.contains_key(&target) {
                problems.push(format!(
                    "{}: imports `crate::{target}`, which is in no layer",
                    file.display()
                ));
            } else if !allowed(&table, &module, &target) {
                problems.push(format!(
                    "{}: `{module}` ({} {}) imports `{target}` ({} {})",
                    file.display(),
                    table[&module].rank,
                    table[&module].name,
                    table[&target].rank,
                    table[&target].name
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The test above can fail: the import scanner sees the forms a violation takes.
#[test]
fn the_import_scanner_sees_every_form_and_ignores_tests_and_comments() {
    let code = "use crate::policy::x;\nuse crate::{gather, report::y};\n// crate::cli\n\
                fn f() { crate::checks::run() }\n#[cfg(test)]\nmod tests { use crate::run; }";
    assert_eq!(imports(code), ["policy", "gather", "report", "checks"]);
    let table = layers();
    assert!(!allowed(&table, "checks", "gather"), "siblings of layer 4");
    assert!(!allowed(&table, "model", "checks"), "upwards");
    assert!(allowed(&table, "checks", "model"));
    assert!(
        allowed(&table, "run", "explain"),
        "commands use one another"
    );
}
