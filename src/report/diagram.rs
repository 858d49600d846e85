//! The access path ([`super::path`]) drawn for a terminal: a few lines at the top of the text
//! report, in Unicode box drawing or, when the terminal is not UTF-8, plain ASCII (the caller
//! decides, from the locale). Statuses are coloured with the text sink's styles; the
//! `AutoStream` the caller writes through strips them where colour does not belong. Every line
//! fits in [`WIDTH`] columns: long names are cut, long gate lists wrap.

use anstyle::Style;

use super::path::{AccessPath, Edge, Gate, Node, NodeKind, flagged};
use crate::model::verdict::Status;

/// The widest line drawn, in columns (terminals of 100 columns show it unwrapped).
pub const WIDTH: usize = 96;

/// The longest name shown before it is cut.
const NAME_CHARS: usize = 48;
const DETAIL_CHARS: usize = 24;

/// The characters one drawing uses.
struct Glyphs {
    down: &'static str,
    arrow_down: &'static str,
    branch: &'static str,
    last: &'static str,
    to: &'static str,
    ellipsis: &'static str,
    separator: &'static str,
}

const UNICODE: Glyphs = Glyphs {
    down: "│",
    arrow_down: "▼",
    branch: "├──",
    last: "└──",
    to: "──►",
    ellipsis: "…",
    separator: " · ",
};

const ASCII: Glyphs = Glyphs {
    down: "|",
    arrow_down: "v",
    branch: "+--",
    last: "`--",
    to: "-->",
    ellipsis: "...",
    separator: ", ",
};

fn mark(status: Option<Status>, unicode: bool) -> &'static str {
    match (status.unwrap_or(Status::Skip), unicode) {
        (Status::Pass, true) => "✓",
        (Status::Fail, true) => "✗",
        (Status::Skip, true) => "–",
        (Status::Pass, false) => "ok",
        (Status::Fail, false) => "FAIL",
        (Status::Skip, false) => "-",
        (Status::Warn, _) => "!",
        (Status::Error, _) => "?",
    }
}

/// A line being built: its text with styles, and its width without them.
#[derive(Default)]
struct Line {
    text: String,
    width: usize,
}

impl Line {
    fn plain(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self.width += s.chars().count();
        self
    }

    fn styled(&mut self, s: &str, style: Style) -> &mut Self {
        self.text.push_str(&format!("{style}{s}{style:#}"));
        self.width += s.chars().count();
        self
    }
}

struct Drawing<'a> {
    glyphs: &'a Glyphs,
    unicode: bool,
    lines: Vec<String>,
}

impl Drawing<'_> {
    fn status(&self, line: &mut Line, status: Option<Status>) {
        let s = mark(status, self.unicode);
        match status {
            Some(st) if st != Status::Skip => line.styled(s, super::text::style(st)),
            _ => line.styled(s, Style::new().dimmed()),
        };
    }

    /// `name` cut to `max` characters, made safe for a terminal.
    fn name(&self, s: &str, max: usize) -> String {
        let s = crate::text::one_line(s);
        if s.chars().count() <= max {
            return s;
        }
        let head: String = s.chars().take(max - 1).collect();
        format!("{head}{}", self.glyphs.ellipsis)
    }

    /// A resource: what it is, its name, its state and the checks that flag it (under
    /// `continuation` when the line would be too long).
    fn node(&mut self, prefix: &str, continuation: &str, node: &Node) {
        let mut line = Line::default();
        line.plain(prefix).plain(node.what);
        if !node.name.is_empty() {
            line.plain(" ").plain(&self.name(&node.name, NAME_CHARS));
        } else if node.kind != NodeKind::Aoc {
            line.plain(" (not given)");
        }
        if let Some(detail) = &node.detail {
            line.plain(", ").plain(&self.name(detail, DETAIL_CHARS));
        }
        if !node.gates.is_empty() {
            let state = node.state();
            let ids = flagged(&node.gates);
            let width = 2
                + mark(Some(state), self.unicode).chars().count()
                + ids.iter().map(|id| id.len() + 1).sum::<usize>();
            if line.width + width > WIDTH {
                self.lines.push(line.text);
                line = Line::default();
                line.plain(continuation);
            } else {
                line.plain("  ");
            }
            self.status(&mut line, Some(state));
            for id in ids {
                line.plain(" ").plain(id);
            }
        }
        self.lines.push(line.text);
    }

    /// A link: what AoC does over it, its state, and each gate with its state (and its check
    /// when it flags the link), wrapped under `continuation` when too long.
    fn edge(&mut self, prefix: &str, connector: &str, continuation: &str, edge: &Edge) {
        let state = edge.state();
        let mut line = Line::default();
        line.plain(prefix);
        if matches!(state, Status::Fail | Status::Error) {
            line.styled(connector, super::text::style(state));
        } else {
            line.plain(connector);
        }
        line.plain(" ").plain(edge.action).plain(" ");
        self.status(&mut line, Some(state));
        line.plain(":");
        // Wrapped gates line up under the first one.
        let pad = (line.width + 1).saturating_sub(continuation.chars().count());
        let continuation = format!("{continuation}{}", " ".repeat(pad));
        let mut first = true;
        for gate in &edge.gates {
            let piece = self.gate(gate);
            let joiner = if first { " " } else { self.glyphs.separator };
            if !first && line.width + joiner.chars().count() + piece.width > WIDTH {
                self.lines.push(line.text.trim_end().to_string());
                line = Line::default();
                line.plain(&continuation);
            } else {
                line.plain(joiner);
            }
            line.text.push_str(&piece.text);
            line.width += piece.width;
            first = false;
        }
        self.lines.push(line.text);
    }

    fn gate(&self, gate: &Gate) -> Line {
        let mut piece = Line::default();
        piece.plain(gate.name).plain(" ");
        self.status(&mut piece, gate.status);
        if matches!(
            gate.status,
            Some(Status::Fail | Status::Error | Status::Warn)
        ) {
            piece.plain(" ").plain(gate.check);
        }
        piece
    }
}

/// The diagram's lines (without newlines), a title first and a legend last.
pub fn lines(path: &AccessPath, unicode: bool) -> Vec<String> {
    let glyphs = if unicode { &UNICODE } else { &ASCII };
    let mut d = Drawing {
        glyphs,
        unicode,
        lines: Vec::new(),
    };
    let bold = Style::new().bold();
    d.lines.push(format!("{bold}Access path{bold:#}"));
    let edge = |from, to| path.edges.iter().find(|e| e.from == from && e.to == to);
    let g = glyphs;
    if let Some(aoc) = path.node(NodeKind::Aoc) {
        d.node("  ", "      ", aoc);
    }
    if let Some(e) = edge(NodeKind::Aoc, NodeKind::Role) {
        let pad = format!("   {}", g.down);
        d.edge(&pad, "", &format!("{pad}   "), e);
    }
    d.lines.push(format!("   {}", g.arrow_down));
    if let Some(role) = path.node(NodeKind::Role) {
        d.node("  ", &format!("   {}  ", g.down), role);
    }
    let down = format!("   {}   ", g.down);
    if let Some(e) = edge(NodeKind::Role, NodeKind::Bucket) {
        d.edge("   ", g.branch, &format!("{down}    "), e);
    }
    if let Some(bucket) = path.node(NodeKind::Bucket) {
        d.node(&format!("{down}{} ", g.to), &format!("{down}     "), bucket);
    }
    if let Some(e) = edge(NodeKind::Bucket, NodeKind::Key) {
        d.edge(&format!("{down}    "), "", &format!("{down}     "), e);
    }
    if let Some(e) = edge(NodeKind::Role, NodeKind::Key) {
        d.edge("   ", g.last, "        ", e);
    }
    if let Some(key) = path.node(NodeKind::Key) {
        d.node(&format!("       {} ", g.to), "            ", key);
    }
    let dim = Style::new().dimmed();
    let legend = [
        Status::Pass,
        Status::Fail,
        Status::Warn,
        Status::Error,
        Status::Skip,
    ]
    .iter()
    .map(|s| {
        let word = match s {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warning",
            Status::Error => "not determined",
            Status::Skip => "not checked",
        };
        format!("{} {word}", mark(Some(*s), unicode))
    })
    .collect::<Vec<_>>()
    .join("  ");
    d.lines.push(format!("  {dim}{legend}{dim:#}"));
    d.lines
}

#[cfg(test)]
mod tests {
    use super::super::path::access_path;
    use super::*;
    use crate::model::attachment::Attachment;
    use crate::model::report::{CheckResult, Report};

    fn check(id: &str, status: Status) -> CheckResult {
        CheckResult {
            id: id.into(),
            title: String::new(),
            status,
            summary: String::new(),
            evidence: Vec::new(),
            remediation: None,
            docs: Vec::new(),
            fixes: Vec::new(),
            steps: Vec::new(),
            findings: Vec::new(),
        }
    }

    fn strip(s: &str) -> String {
        let mut out = Vec::new();
        let mut w = anstream::StripStream::new(&mut out);
        std::io::Write::write_all(&mut w, s.as_bytes()).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn long_names_and_every_gate_failing_still_fit() {
        let long = "x".repeat(300);
        let ids = [
            "role.exists",
            "role.trust",
            "org.policies",
            "role.s3-access",
            "bucket.policy",
            "role.kms-access",
            "kms.key-policy",
            "kms.key",
            "kms.alias",
            "bucket.encryption",
            "bucket.reachable",
            "bucket.region",
            "bucket.public-access",
        ];
        let report = Report::new(
            "live",
            Attachment {
                bucket: long.clone(),
                path: format!("/{long}"),
                role_arn: format!("arn:aws:iam::1:role/{long}"),
                kms_key: long,
                ..Default::default()
            },
            ids.iter().map(|id| check(id, Status::Error)).collect(),
        );
        for unicode in [true, false] {
            let drawn = lines(&access_path(&report), unicode);
            for line in &drawn {
                let plain = strip(line);
                assert!(plain.chars().count() <= WIDTH, "{plain}");
            }
            let all = strip(&drawn.join("\n"));
            for id in ids {
                assert!(all.contains(id), "{id} missing from\n{all}");
            }
            assert_eq!(all.is_ascii(), !unicode, "{all}");
        }
    }
}
