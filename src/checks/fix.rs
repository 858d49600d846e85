//! The merging of fixes that different checks propose for the same document, so applying them
//! never undoes one another. The fix steps themselves are data of the model
//! ([`crate::model::verdict::FixStep`]). Pure.

use super::{CheckDef, Finding, FixDocument, FixStep};

/// Which document a fix replaces: fixes with the same target must be applied as one.
fn target(d: &FixDocument) -> Option<String> {
    match d.applies_to {
        // Each check names its own new inline policy; one that already exists is a target.
        "identity-policy" => d.policy_name.as_ref().map(|n| format!("inline {n}")),
        "managed-policy-version" => d.policy_arn.as_ref().map(|a| format!("managed {a}")),
        "policy-file" => d.file.as_ref().map(|f| format!("file {f}")),
        other => Some(other.to_string()),
    }
}

/// The statements of a policy document, as JSON values.
fn statements(doc: &serde_json::Value) -> Vec<serde_json::Value> {
    match doc.get("Statement") {
        Some(serde_json::Value::Array(list)) => list.clone(),
        Some(one @ serde_json::Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// Merges the documents that several checks propose for the same target into the first one:
/// the original document, less every statement a fix changed or removed, plus every statement
/// a fix added. The later checks' document and command become a note that points at the
/// merged one, so applying the fixes one after the other cannot undo an earlier one.
pub fn merge_across_checks(results: &mut [(&CheckDef, Vec<Finding>)]) {
    // (check index, finding index, step index) of each document step, by target.
    let mut places: Vec<(String, usize, usize, usize)> = Vec::new();
    for (ci, (_, findings)) in results.iter().enumerate() {
        for (fi, f) in findings.iter().enumerate() {
            for (si, step) in f.fix.iter().enumerate() {
                if let FixStep::Document { document, .. } = step
                    && document.original.is_some()
                    && let Some(t) = target(document)
                {
                    places.push((t, ci, fi, si));
                }
            }
        }
    }
    let mut targets: Vec<&String> = places.iter().map(|(t, ..)| t).collect();
    targets.sort();
    targets.dedup();
    let targets: Vec<String> = targets.into_iter().cloned().collect();
    for t in targets {
        let here: Vec<(usize, usize, usize)> = places
            .iter()
            .filter(|(pt, ..)| *pt == t)
            .map(|(_, c, f, s)| (*c, *f, *s))
            .collect();
        if here.len() < 2 {
            continue;
        }
        let doc_at = |results: &[(&CheckDef, Vec<Finding>)], (c, f, s): (usize, usize, usize)| {
            match &results[c].1[f].fix[s] {
                FixStep::Document { document, .. } => Some(document.clone()),
                _ => None,
            }
        };
        let Some(first) = doc_at(results, here[0]) else {
            continue;
        };
        let Some(original) = first.original.clone() else {
            continue;
        };
        let before = statements(&original);
        let mut removed: Vec<serde_json::Value> = Vec::new();
        let mut added: Vec<serde_json::Value> = Vec::new();
        for place in &here {
            let Some(d) = doc_at(results, *place) else {
                continue;
            };
            let after = statements(&d.document);
            removed.extend(before.iter().filter(|s| !after.contains(s)).cloned());
            for s in after.into_iter().filter(|s| !before.contains(s)) {
                if !added.contains(&s) {
                    added.push(s);
                }
            }
        }
        let mut merged_statements: Vec<serde_json::Value> = before
            .iter()
            .filter(|s| !removed.contains(s))
            .cloned()
            .collect();
        merged_statements.extend(added);
        let mut merged = first.document.clone();
        merged["Statement"] = serde_json::Value::Array(merged_statements);

        let first_check = results[here[0].0].0.id;
        let others: Vec<&str> = here[1..].iter().map(|(c, ..)| results[*c].0.id).collect();
        if let FixStep::Document {
            caption, document, ..
        } = &mut results[here[0].0].1[here[0].1].fix[here[0].2]
        {
            document.document = merged;
            caption.push_str(&format!(
                ", with the change {} needs merged in",
                others.join(" and ")
            ));
        }
        for (c, f, s) in &here[1..] {
            if *c == here[0].0 {
                continue;
            }
            let fix = &mut results[*c].1[*f].fix;
            // The document and the command that applies it: both are in the first check's fix.
            let name = match &fix[*s] {
                FixStep::Document { file_name, .. } => file_name.clone(),
                _ => String::new(),
            };
            fix[*s] = FixStep::note(format!(
                "This change is merged into the document {first_check} proposes for the same policy ({name}): apply that one. Applying both as they are would undo one of them."
            ));
            if let Some(FixStep::Command { .. }) = fix.get(*s + 1) {
                fix.remove(*s + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_of_each_step() {
        let doc = FixDocument::inline("aoc", json!({"Statement": []}));
        assert_eq!(
            FixStep::document("The policy", "aoc.json", doc).to_text(),
            "The policy (aoc.json):\n{\n  \"Statement\": []\n}"
        );
        assert_eq!(
            FixStep::command("Apply it", "aws iam x").to_text(),
            "Apply it:\n  aws iam x"
        );
    }

    /// Both role checks find the same inline policy broken (an S3 action misspelled, the KMS
    /// grant on an alias): one merged document, which applied makes both pass.
    #[test]
    fn issue11_fixes_of_two_checks_for_one_policy_are_merged() {
        use crate::checks::test_support::*;
        use crate::model::facts::{Fact, Facts};
        let both = r#"{"Version": "2012-10-17", "Statement": [
              {"Sid": "Objects", "Effect": "Allow",
                "Action": ["s3:PutObject","s3:GetObject","s3:DeleteObject","s3:AbortMultipartUpload","s3:ListMultipartUploadParts"],
                "Resource": "arn:aws:s3:::aspera-kms/*"},
              {"Sid": "Bucket", "Effect": "Allow",
                "Action": ["s3:ListBucket","s3:ListBucketMultipartUpload","s3:GetBucketLocation"],
                "Resource": "arn:aws:s3:::aspera-kms"},
              {"Sid": "Key", "Effect": "Allow", "Action": ["kms:GenerateDataKey","kms:Decrypt"],
                "Resource": "arn:aws:kms:us-east-1:111122223333:alias/aoc"}]}"#;
        let facts = |doc: &str| Facts {
            identity_policies: Fact::Known(vec![policy("inline policy aoc", doc)]),
            permissions_boundary: Fact::Known(None),
            ..Facts::default()
        };
        let only = ["role.s3-access".to_string(), "role.kms-access".to_string()];
        let results = crate::run::judge(&attachment(), &facts(both), &only, &[]).unwrap();
        let documents: Vec<&FixDocument> = results.iter().flat_map(|r| &r.fixes).collect();
        assert_eq!(documents.len(), 1, "{results:#?}");
        assert_eq!(documents[0].policy_name.as_deref(), Some("aoc"));
        let kms = results.iter().find(|r| r.id == "role.kms-access").unwrap();
        assert!(
            kms.remediation
                .as_deref()
                .unwrap_or_default()
                .contains("merged into the document role.s3-access proposes"),
            "{kms:#?}"
        );
        let after = crate::run::judge(
            &attachment(),
            &facts(&documents[0].document.to_string()),
            &only,
            &[],
        )
        .unwrap();
        // Nothing fails; role.kms-access may still warn about the procedure's other actions,
        // which no fix grants.
        for r in &after {
            assert_ne!(r.status, crate::model::verdict::Status::Fail, "{r:#?}");
        }
    }
}
