//! The access path ([`super::path`]) as a Mermaid flowchart, for the Markdown report (GitHub and
//! GitLab draw it in step summaries, pull requests and issues): the broken links red, those
//! not determined purple and dashed, each labelled with the checks that flag it. Values are the user's and AWS's text, so every label
//! is quoted and its special characters written as Mermaid entity codes.

use super::path::{AccessPath, NodeKind, flagged};
use crate::model::verdict::Status;

/// Colours, GitHub's palette (as in the DOT graph): red for broken, purple for not
/// determined, orange for a warning, grey for not checked.
const RED: &str = "#cf222e";
const PURPLE: &str = "#8250df";
const ORANGE: &str = "#bc4c00";
const GREEN: &str = "#1a7f37";
const GREY: &str = "#6e7781";

/// How a link or node that could not be determined is drawn besides its colour: dashed, so
/// that it does not read as broken even without colour.
const UNDETERMINED_DASH: &str = ",stroke-dasharray:5 5";

/// What the marks and colours mean, a line under the flowchart (Mermaid has no legend).
pub const LEGEND: &str = "✓ pass (green) · ✗ fail (red) · ! warning (orange) · ? not determined (purple, dashed) · – not checked (grey)";

fn colour(status: Status) -> &'static str {
    match status {
        Status::Fail => RED,
        Status::Error => PURPLE,
        Status::Warn => ORANGE,
        Status::Pass => GREEN,
        Status::Skip => GREY,
    }
}

fn dash(status: Status) -> &'static str {
    if status == Status::Error {
        UNDETERMINED_DASH
    } else {
        ""
    }
}

fn mark(status: Status) -> &'static str {
    match status {
        Status::Pass => "✓",
        Status::Fail => "✗",
        Status::Warn => "!",
        Status::Error => "?",
        Status::Skip => "–",
    }
}

/// Text for inside a quoted Mermaid label: quotes, markup and Mermaid's own `#code;` entities
/// written as entity codes, line breaks as spaces.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in crate::text::one_line(s).chars() {
        match c {
            '#' => out.push_str("#35;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '|' => out.push_str("#124;"),
            '`' => out.push_str("#96;"),
            c => out.push(c),
        }
    }
    out
}

/// The flowchart's source, without the fence.
pub fn flowchart(path: &AccessPath) -> String {
    let mut m = String::from("flowchart LR\n");
    for node in &path.nodes {
        let mut label = node.what.to_string();
        if !node.name.is_empty() {
            label.push_str(&format!("<br/>{}", text(&node.name)));
        }
        if let Some(detail) = &node.detail {
            label.push_str(&format!("<br/>{}", text(detail)));
        }
        if !node.gates.is_empty() {
            let state = node.state();
            label.push_str(&format!("<br/>{}", mark(state)));
            for id in flagged(&node.gates) {
                label.push_str(&format!(" {id}"));
            }
        }
        m.push_str(&format!("  {}[\"{label}\"]\n", node.kind.id()));
    }
    let mut styles = Vec::new();
    for (i, edge) in path.edges.iter().enumerate() {
        let state = edge.state();
        let mut label = format!("{} {}", edge.action, mark(state));
        for id in flagged(&edge.gates) {
            label.push_str(&format!(" {id}"));
        }
        // The bucket's encryption with the key is not a request AoC makes: dotted.
        let arrow = if edge.from == NodeKind::Bucket {
            "-.->"
        } else {
            "-->"
        };
        m.push_str(&format!(
            "  {} {arrow}|\"{label}\"| {}\n",
            edge.from.id(),
            edge.to.id()
        ));
        let width = if matches!(state, Status::Fail | Status::Error) {
            3
        } else {
            1
        };
        styles.push(format!(
            "  linkStyle {i} stroke:{},stroke-width:{width}px{}\n",
            colour(state),
            dash(state)
        ));
    }
    for style in styles {
        m.push_str(&style);
    }
    for node in path.nodes.iter().filter(|n| !n.gates.is_empty()) {
        let state = node.state();
        if matches!(state, Status::Fail | Status::Error | Status::Warn) {
            m.push_str(&format!(
                "  style {} stroke:{},stroke-width:3px{}\n",
                node.kind.id(),
                colour(state),
                dash(state)
            ));
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_text_cannot_close_the_label_or_the_fence() {
        let t = text("a\"b|c`d<e>f&g#h\ni");
        assert!(!t.contains(['"', '|', '`', '<', '>', '\n']), "{t}");
        assert_eq!(t, "a#quot;b#124;c#96;d#lt;e#gt;f#amp;g#35;h\\ni");
    }
}
