//! The access path AoC takes, as a small graph built from one report: AoC's principal assumes
//! the role (through the trust policy), the role reaches the bucket (S3 actions) and the key
//! (KMS actions), and the bucket encrypts with the key. Each link and each resource carries
//! its gates, the checks that govern it, with their statuses, so a sink can draw the picture
//! and mark the broken link with the check that broke it. Pure: the diagram, Mermaid and DOT
//! renderers draw this model and nothing else.

use crate::model::report::Report;
use crate::model::values::Values;
use crate::model::verdict::Status;

/// A resource on the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Aoc,
    Role,
    Bucket,
    Key,
}

impl NodeKind {
    /// A short identifier for graph languages (Mermaid, DOT).
    pub fn id(self) -> &'static str {
        match self {
            NodeKind::Aoc => "aoc",
            NodeKind::Role => "role",
            NodeKind::Bucket => "bucket",
            NodeKind::Key => "key",
        }
    }
}

/// A check that governs a link or a resource, and its status in the report; `None` when the
/// report has no such check (skipped with `--skip`, not selected with `--only`, or a check this
/// report predates, such as `org.policies`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// What the check looks at, in a few words (`trust policy`).
    pub name: &'static str,
    pub check: &'static str,
    pub status: Option<Status>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
    /// What it is (`role`, `bucket`).
    pub what: &'static str,
    /// Its name as entered (the role name, the bucket name), empty when not given.
    pub name: String,
    /// More to say about it (the path, the alias), if anything.
    pub detail: Option<String>,
    pub gates: Vec<Gate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: NodeKind,
    pub to: NodeKind,
    /// What AoC does over the link (`assumes`, `S3 actions`).
    pub action: &'static str,
    pub gates: Vec<Gate>,
}

/// The graph of one attachment: nodes in the order AoC meets them, edges likewise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPath {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// The check that governs the organization's SCPs and RCPs; reports without it (older, or
/// `--skip`) show the gate as not checked.
pub const ORG_POLICIES: &str = "org.policies";

/// The state of a link or a resource: the most serious status among its gates that ran, or
/// `skip` when none did (not checked).
pub fn state(gates: &[Gate]) -> Status {
    Status::most_serious(
        gates
            .iter()
            .filter_map(|g| g.status)
            .filter(|s| *s != Status::Skip),
    )
    .unwrap_or(Status::Skip)
}

/// The checks that mark a link or a resource as needing attention (failed, not determined,
/// warned), most serious first.
pub fn flagged(gates: &[Gate]) -> Vec<&'static str> {
    let mut marked: Vec<&Gate> = gates
        .iter()
        .filter(|g| matches!(g.status, Some(Status::Fail | Status::Error | Status::Warn)))
        .collect();
    marked.sort_by_key(|g| std::cmp::Reverse(g.status.map_or(0, Status::severity)));
    let mut ids: Vec<&'static str> = Vec::new();
    for g in marked {
        if !ids.contains(&g.check) {
            ids.push(g.check);
        }
    }
    ids
}

impl Node {
    pub fn state(&self) -> Status {
        state(&self.gates)
    }
}

impl Edge {
    pub fn state(&self) -> Status {
        state(&self.gates)
    }
}

impl AccessPath {
    pub fn node(&self, kind: NodeKind) -> Option<&Node> {
        self.nodes.iter().find(|n| n.kind == kind)
    }
}

/// The access path of one attachment, with the statuses of its report.
pub fn access_path(report: &Report) -> AccessPath {
    let status = |id: &str| report.checks.iter().find(|c| c.id == id).map(|c| c.status);
    let gate = |name: &'static str, check: &'static str| Gate {
        name,
        check,
        status: status(check),
    };
    let a = &report.attachment;
    let values = Values::from_attachment(a);

    let aoc = Node {
        kind: NodeKind::Aoc,
        what: "AoC",
        name: values
            .aoc_principal
            .as_deref()
            .map(after_last_slash)
            .unwrap_or_default()
            .to_string(),
        detail: None,
        gates: Vec::new(),
    };
    let role = Node {
        kind: NodeKind::Role,
        what: "role",
        name: after_last_slash(a.role_arn.trim()).to_string(),
        detail: None,
        gates: vec![gate("exists", "role.exists")],
    };
    let path = a.path.trim();
    let bucket = Node {
        kind: NodeKind::Bucket,
        what: "bucket",
        name: a.bucket.trim().to_string(),
        detail: (!path.is_empty()).then(|| format!("path {path}")),
        gates: vec![
            gate("reachable", "bucket.reachable"),
            gate("region", "bucket.region"),
            gate("public access", "bucket.public-access"),
        ],
    };
    let key = Node {
        kind: NodeKind::Key,
        what: "key",
        name: key_name(a.kms_key.trim()),
        detail: None,
        gates: vec![gate("usable", "kms.key"), gate("alias", "kms.alias")],
    };
    let org = || gate("org policies", ORG_POLICIES);
    let edges = vec![
        Edge {
            from: NodeKind::Aoc,
            to: NodeKind::Role,
            action: "assumes",
            gates: vec![gate("trust policy", "role.trust"), org()],
        },
        Edge {
            from: NodeKind::Role,
            to: NodeKind::Bucket,
            action: "S3 actions",
            gates: vec![
                gate("role policy", "role.s3-access"),
                gate("bucket policy", "bucket.policy"),
                org(),
            ],
        },
        Edge {
            from: NodeKind::Role,
            to: NodeKind::Key,
            action: "KMS actions",
            gates: vec![
                gate("role policy", "role.kms-access"),
                gate("key policy", "kms.key-policy"),
                org(),
            ],
        },
        Edge {
            from: NodeKind::Bucket,
            to: NodeKind::Key,
            action: "encrypts with the key",
            gates: vec![gate("default encryption", "bucket.encryption")],
        },
    ];
    AccessPath {
        nodes: vec![aoc, role, bucket, key],
        edges,
    }
}

fn after_last_slash(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// The key as AoC names it, short: its ID, or `alias/NAME` when entered as an alias.
fn key_name(entered: &str) -> String {
    match (entered.split_once(":alias/"), entered.split_once(":key/")) {
        (Some((_, alias)), _) => format!("alias/{alias}"),
        (None, Some((_, id))) => id.to_string(),
        (None, None) => entered.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::attachment::Attachment;
    use crate::model::report::CheckResult;

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

    fn report(checks: Vec<CheckResult>) -> Report {
        Report::new(
            "offline",
            Attachment {
                region: "us-east-1".into(),
                bucket: "b".into(),
                path: "/data".into(),
                kms_key: "arn:aws:kms:us-east-1:111122223333:alias/k".into(),
                role_arn: "arn:aws:iam::111122223333:role/team/r".into(),
                ..Default::default()
            },
            checks,
        )
    }

    #[test]
    fn the_broken_link_is_marked_with_the_check_that_broke_it() {
        let path = access_path(&report(vec![
            check("role.trust", Status::Pass),
            check("role.s3-access", Status::Fail),
            check("bucket.policy", Status::Pass),
            check("role.kms-access", Status::Pass),
            check("kms.key-policy", Status::Error),
        ]));
        let s3 = &path.edges[1];
        assert_eq!(s3.state(), Status::Fail);
        assert_eq!(flagged(&s3.gates), ["role.s3-access"]);
        let kms = path
            .edges
            .iter()
            .find(|e| e.from == NodeKind::Role && e.to == NodeKind::Key)
            .unwrap();
        assert_eq!(kms.state(), Status::Error);
        assert_eq!(flagged(&kms.gates), ["kms.key-policy"]);
        let trust = &path.edges[0];
        assert_eq!(trust.state(), Status::Pass);
        assert!(flagged(&trust.gates).is_empty());
    }

    #[test]
    fn a_missing_check_is_a_gate_not_checked() {
        let path = access_path(&report(vec![check("role.trust", Status::Pass)]));
        let trust = &path.edges[0];
        let org = trust
            .gates
            .iter()
            .find(|g| g.check == ORG_POLICIES)
            .unwrap();
        assert_eq!(org.status, None);
        assert_eq!(trust.state(), Status::Pass);
        // Nothing about the bucket ran: not checked.
        assert_eq!(path.node(NodeKind::Bucket).unwrap().state(), Status::Skip);
    }

    #[test]
    fn names_come_from_the_values_as_entered() {
        let path = access_path(&report(Vec::new()));
        let role = path.node(NodeKind::Role).unwrap();
        assert_eq!(role.name, "r");
        let bucket = path.node(NodeKind::Bucket).unwrap();
        assert_eq!(bucket.detail.as_deref(), Some("path /data"));
        assert_eq!(path.node(NodeKind::Key).unwrap().name, "alias/k");
    }
}
