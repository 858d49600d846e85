//! The access path ([`super::path`]) of every attachment as one Graphviz graph (`--format
//! dot`): one cluster per attachment, broken links red and labelled with the checks that flag
//! them. Render it with `dot -Tsvg`.

use std::io::{self, Write};

use super::junit::attachment_label;
use super::path::{AccessPath, NodeKind, access_path, flagged};
use crate::model::report::FleetReport;
use crate::model::verdict::Status;

fn colour(status: Status) -> &'static str {
    match status {
        Status::Fail => "#cf222e",
        Status::Error => "#8250df",
        Status::Warn => "#bc4c00",
        Status::Pass => "#1a7f37",
        Status::Skip => "#6e7781",
    }
}

fn word(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Fail => "FAIL",
        Status::Warn => "warning",
        Status::Error => "not determined",
        Status::Skip => "not checked",
    }
}

/// A DOT double-quoted string's content: backslashes and quotes escaped, control characters
/// shown escaped; `\n` is DOT's line break.
fn quoted(s: &str) -> String {
    crate::text::one_line(s)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

pub fn write_fleet(out: &mut dyn Write, fleet: &FleetReport) -> io::Result<()> {
    writeln!(out, "digraph access_path {{")?;
    writeln!(out, "  rankdir=LR;")?;
    writeln!(
        out,
        "  node [shape=box, style=rounded, fontname=\"Helvetica\"];"
    )?;
    writeln!(out, "  edge [fontname=\"Helvetica\", fontsize=10];")?;
    for (i, report) in fleet.reports.iter().enumerate() {
        writeln!(out, "  subgraph cluster_{i} {{")?;
        writeln!(
            out,
            "    label=\"{} ({})\";",
            quoted(&attachment_label(report, i)),
            word(report.status)
        )?;
        write_path(out, &access_path(report), &format!("a{i}_"))?;
        writeln!(out, "  }}")?;
    }
    writeln!(out, "}}")
}

fn write_path(out: &mut dyn Write, path: &AccessPath, prefix: &str) -> io::Result<()> {
    for node in &path.nodes {
        let mut label = quoted(node.what);
        if !node.name.is_empty() {
            label.push_str(&format!("\\n{}", quoted(&node.name)));
        }
        if let Some(detail) = &node.detail {
            label.push_str(&format!("\\n{}", quoted(detail)));
        }
        let mut colour_of = "#24292f";
        if !node.gates.is_empty() {
            let state = node.state();
            label.push_str(&format!("\\n{}", word(state)));
            for id in flagged(&node.gates) {
                label.push_str(&format!(" {id}"));
            }
            if state != Status::Pass {
                colour_of = colour(state);
            }
        }
        writeln!(
            out,
            "    {prefix}{} [label=\"{label}\", color=\"{colour_of}\"];",
            node.kind.id()
        )?;
    }
    for edge in &path.edges {
        let state = edge.state();
        let mut label = format!("{}: {}", edge.action, word(state));
        for id in flagged(&edge.gates) {
            label.push_str(&format!("\\n{id}"));
        }
        let style = match (edge.from, state) {
            (NodeKind::Bucket, _) => "dotted",
            (_, Status::Fail | Status::Error) => "bold",
            (_, Status::Skip) => "dashed",
            _ => "solid",
        };
        writeln!(
            out,
            "    {prefix}{} -> {prefix}{} [label=\"{label}\", color=\"{c}\", fontcolor=\"{c}\", style={style}];",
            edge.from.id(),
            edge.to.id(),
            c = colour(state),
        )?;
    }
    Ok(())
}
