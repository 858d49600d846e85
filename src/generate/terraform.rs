//! `generate --terraform`: each document as a Terraform `aws_iam_policy_document` data source,
//! laid out as `terraform fmt` would, with the resource that uses it in a comment. Pure.

use std::fmt::Write as _;

use crate::policy::{ActionSpec, Effect, PolicyDocument, PrincipalSpec, Principals, ResourceSpec};
use crate::text::one_line;

use super::plan::{Kind, Plan};

/// Terraform: one `aws_iam_policy_document` data source per document, with how to use it.
pub fn render_terraform(plan: &Plan) -> String {
    let mut s = String::new();
    let name = plan
        .name
        .as_deref()
        .map_or(String::new(), |n| format!(" `{n}`"));
    let _ = writeln!(
        s,
        "# Policy documents for the AoC attachment{name}, from aoc-preflight generate:"
    );
    let _ = writeln!(
        s,
        "# region {}, bucket {}, path {}, role {}, KMS key {}.",
        one_line(&plan.region),
        one_line(&plan.bucket),
        one_line(&plan.path),
        plan.role,
        plan.key_arn
    );
    for d in &plan.documents {
        let tf = d.name.replace('-', "_");
        s.push('\n');
        let q = |v: &str| hcl_string(v);
        let json = format!("data.aws_iam_policy_document.{tf}.json");
        let (why, usage) = match d.kind {
            Kind::RolePolicy => (
                "",
                vec![
                    format!("resource \"aws_iam_role_policy\" \"{tf}\" {{"),
                    format!("  name   = {}", q(d.name)),
                    format!("  role   = {}", q(plan.role.resource_name())),
                    format!("  policy = {json}"),
                    "}".to_string(),
                ],
            ),
            Kind::KeyPolicy => (
                " (replaces the whole key policy: keep a custom key policy's statements, e.g. with source_policy_documents)",
                vec![
                    format!("resource \"aws_kms_key_policy\" \"{tf}\" {{"),
                    format!("  key_id = {}", q(&plan.key_arn)),
                    format!("  policy = {json}"),
                    "}".to_string(),
                ],
            ),
            Kind::TrustPolicy => (
                "",
                vec![
                    format!("resource \"aws_iam_role\" \"{tf}\" {{"),
                    format!("  name               = {}", q(plan.role.resource_name())),
                    format!("  assume_role_policy = {json}"),
                    "}".to_string(),
                ],
            ),
            Kind::BucketPolicy => (
                " (replaces the whole bucket policy)",
                vec![
                    format!("resource \"aws_s3_bucket_policy\" \"{tf}\" {{"),
                    format!("  bucket = {}", q(&plan.bucket)),
                    format!("  policy = {json}"),
                    "}".to_string(),
                ],
            ),
        };
        let _ = writeln!(s, "# {}. Use it with{why}:", d.title);
        for line in usage {
            let _ = writeln!(s, "#   {}", one_line(&line));
        }
        s.push_str(&hcl_policy_document(&tf, &d.policy));
    }
    s
}

/// An HCL item: an attribute (its value on one or more lines) or a nested block.
enum Hcl {
    Attr(&'static str, Vec<String>),
    Block(&'static str, Vec<Hcl>),
}

fn hcl_list(values: &[String]) -> Vec<String> {
    match values {
        [one] => vec![format!("[{}]", hcl_string(one))],
        _ => {
            let mut lines = vec!["[".to_string()];
            lines.extend(values.iter().map(|v| format!("  {},", hcl_string(v))));
            lines.push("]".to_string());
            lines
        }
    }
}

fn hcl_principals(name: &'static str, p: &Principals) -> Vec<Hcl> {
    match p {
        Principals::Any => vec![Hcl::Block(
            name,
            vec![
                Hcl::Attr("type", vec![hcl_string("*")]),
                Hcl::Attr("identifiers", hcl_list(&["*".to_string()])),
            ],
        )],
        Principals::Map(m) => m
            .iter()
            .map(|(kind, ids)| {
                Hcl::Block(
                    name,
                    vec![
                        Hcl::Attr("type", vec![hcl_string(kind)]),
                        Hcl::Attr("identifiers", hcl_list(ids)),
                    ],
                )
            })
            .collect(),
    }
}

/// `data "aws_iam_policy_document" "<name>" { statement { ... } }` for a document.
pub fn hcl_policy_document(name: &str, doc: &PolicyDocument) -> String {
    let mut items = Vec::new();
    if let Some(v) = &doc.version {
        items.push(Hcl::Attr("version", vec![hcl_string(v)]));
    }
    if let Some(id) = &doc.id {
        items.push(Hcl::Attr("policy_id", vec![hcl_string(id)]));
    }
    for st in &doc.statements {
        let mut body = Vec::new();
        if let Some(sid) = &st.sid {
            body.push(Hcl::Attr("sid", vec![hcl_string(sid)]));
        }
        body.push(Hcl::Attr(
            "effect",
            vec![hcl_string(match st.effect {
                Effect::Allow => "Allow",
                Effect::Deny => "Deny",
            })],
        ));
        match &st.action {
            ActionSpec::Action(a) => body.push(Hcl::Attr("actions", hcl_list(a))),
            ActionSpec::NotAction(a) => body.push(Hcl::Attr("not_actions", hcl_list(a))),
        }
        match &st.resource {
            Some(ResourceSpec::Resource(r)) => body.push(Hcl::Attr("resources", hcl_list(r))),
            Some(ResourceSpec::NotResource(r)) => {
                body.push(Hcl::Attr("not_resources", hcl_list(r)))
            }
            None => {}
        }
        match &st.principal {
            Some(PrincipalSpec::Principal(p)) => body.extend(hcl_principals("principals", p)),
            Some(PrincipalSpec::NotPrincipal(p)) => {
                body.extend(hcl_principals("not_principals", p))
            }
            None => {}
        }
        for c in &st.conditions {
            body.push(Hcl::Block(
                "condition",
                vec![
                    Hcl::Attr("test", vec![hcl_string(&c.operator)]),
                    Hcl::Attr("variable", vec![hcl_string(&c.key)]),
                    Hcl::Attr("values", hcl_list(&c.values)),
                ],
            ));
        }
        items.push(Hcl::Block("statement", body));
    }
    let mut s = format!("data \"aws_iam_policy_document\" {} {{\n", hcl_string(name));
    write_hcl(&mut s, &items, 1);
    s.push_str("}\n");
    s
}

/// Writes items the way `terraform fmt` lays them out: the `=` of consecutive one-line
/// attributes aligned, a blank line before a block that follows something.
fn write_hcl(s: &mut String, items: &[Hcl], depth: usize) {
    let indent = "  ".repeat(depth);
    let mut i = 0;
    while i < items.len() {
        match &items[i] {
            Hcl::Attr(_, lines) if lines.len() == 1 => {
                let end = items[i..]
                    .iter()
                    .position(|it| !matches!(it, Hcl::Attr(_, l) if l.len() == 1))
                    .map_or(items.len(), |p| i + p);
                let width = items[i..end]
                    .iter()
                    .map(|it| match it {
                        Hcl::Attr(name, _) => name.len(),
                        Hcl::Block(..) => 0,
                    })
                    .max()
                    .unwrap_or(0);
                for it in &items[i..end] {
                    if let Hcl::Attr(name, lines) = it {
                        let _ = writeln!(s, "{indent}{name:width$} = {}", lines[0]);
                    }
                }
                i = end;
            }
            Hcl::Attr(name, lines) => {
                let _ = writeln!(s, "{indent}{name} = {}", lines.first().map_or("", |l| l));
                for line in lines.iter().skip(1) {
                    let _ = writeln!(s, "{indent}{line}");
                }
                i += 1;
            }
            Hcl::Block(name, body) => {
                if i > 0 {
                    s.push('\n');
                }
                let _ = writeln!(s, "{indent}{name} {{");
                write_hcl(s, body, depth + 1);
                let _ = writeln!(s, "{indent}}}");
                i += 1;
            }
        }
    }
}

/// A quoted HCL string literal. Besides `"` and `\`, HCL reads `${` and `%{` as the start of
/// an interpolation or directive: `$${` and `%%{` keep them literal, which matters for IAM
/// policy variables such as `${aws:username}` (or our `${$}` escape).
pub fn hcl_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Model;
    use crate::generate::fixtures::attachment;
    use crate::generate::{Options, plan, render_json};
    use crate::policy::parse_policy;
    use serde_json::Value;

    #[test]
    fn hcl_strings_escape_quotes_backslashes_and_interpolation() {
        assert_eq!(hcl_string("plain"), "\"plain\"");
        assert_eq!(hcl_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(hcl_string("${aws:username}"), "\"$${aws:username}\"");
        assert_eq!(hcl_string("%{if x}"), "\"%%{if x}\"");
        // A lone `$` or `%` is not an interpolation and stays as is.
        assert_eq!(hcl_string("100% $5"), "\"100% $5\"");
        assert_eq!(hcl_string("a\nb\tc\r"), "\"a\\nb\\tc\\r\"");
        assert_eq!(hcl_string("\u{1}"), "\"\\u0001\"");
        assert_eq!(hcl_string("${$}"), "\"$${$}\"");
    }

    #[test]
    fn every_document_parses_back_and_terraform_has_the_blocks() {
        let p = plan(
            &attachment(),
            &Options {
                model: Model::Direct,
                ..Options::default()
            },
        )
        .unwrap();
        let all: Value = serde_json::from_str(&render_json(&p)).unwrap();
        for d in &p.documents {
            let doc = parse_policy(&all[d.name].to_string()).unwrap();
            assert_eq!(doc, {
                // The model round-trips through JSON (indices included).
                parse_policy(&d.to_json().to_string()).unwrap()
            });
        }
        let tf = render_terraform(&p);
        assert!(
            tf.contains("data \"aws_iam_policy_document\" \"aoc_s3_access\" {"),
            "{tf}"
        );
        assert!(tf.contains("    condition {\n      test     = \"StringEquals\"\n      variable = \"kms:ViaService\"\n"), "{tf}");
        assert!(
            tf.contains("principals {\n      type        = \"AWS\"\n"),
            "{tf}"
        );
        assert_eq!(tf.matches('{').count(), tf.matches('}').count(), "{tf}");
    }
}
