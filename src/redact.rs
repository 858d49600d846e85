//! `--redact`: replaces account IDs, KMS key IDs and external IDs in every output with
//! placeholders, consistently (the same value always gets the same placeholder within a run),
//! so a report or a support bundle can be sent to a colleague or to support and still be read
//! and replayed.
//!
//! It works on the rendered text, so no output format can forget a field. Placeholders keep
//! the shape of what they replace (12 digits, a UUID), so redacted ARNs still parse.

use std::collections::BTreeMap;

/// The kinds of value redacted, each with its own numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Account,
    KeyId,
    MultiRegionKeyId,
    ExternalId,
}

/// A run's redaction map.
#[derive(Debug, Default)]
pub struct Redactor {
    map: BTreeMap<String, String>,
    counts: BTreeMap<Kind, u64>,
    /// Values to replace wherever they appear, longest first (external IDs need not look like
    /// anything in particular).
    literals: Vec<String>,
}

impl Redactor {
    pub fn new() -> Self {
        Redactor::default()
    }

    /// Registers an external ID to replace wherever it appears.
    pub fn external_id(&mut self, id: &str) {
        if id.is_empty() || self.literals.iter().any(|l| l == id) {
            return;
        }
        self.placeholder(Kind::ExternalId, id);
        self.literals.push(id.to_string());
        self.literals.sort_by_key(|l| std::cmp::Reverse(l.len()));
    }

    fn placeholder(&mut self, kind: Kind, value: &str) -> String {
        if let Some(p) = self.map.get(value) {
            return p.clone();
        }
        let n = self.counts.entry(kind).or_insert(0);
        *n += 1;
        let p = match kind {
            Kind::Account => format!("{:012}", *n),
            Kind::KeyId => format!("00000000-0000-4000-8000-{:012x}", *n),
            Kind::MultiRegionKeyId => format!("mrk-{:032x}", *n),
            Kind::ExternalId => format!("redacted-external-id-{n}"),
        };
        self.map.insert(value.to_string(), p.clone());
        p
    }

    /// The text with every sensitive value replaced.
    pub fn redact(&mut self, text: &str) -> String {
        let mut text = text.to_string();
        for literal in self.literals.clone() {
            let p = self.placeholder(Kind::ExternalId, &literal);
            text = text.replace(&literal, &p);
        }
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        // Tokens are maximal runs of [A-Za-z0-9-]; IDs are whole tokens or (accounts) whole
        // digit runs inside ARNs, which `:` delimits anyway.
        while i < bytes.len() {
            if !is_token_byte(bytes[i]) {
                let ch = text[i..].chars().next().unwrap_or(' ');
                out.push(ch);
                i += ch.len_utf8();
                continue;
            }
            let start = i;
            while i < bytes.len() && is_token_byte(bytes[i]) {
                i += 1;
            }
            out.push_str(&self.token(&text[start..i]));
        }
        out
    }

    fn token(&mut self, token: &str) -> String {
        if crate::model::values::is_key_id(token) {
            let kind = if token.starts_with("mrk-") {
                Kind::MultiRegionKeyId
            } else {
                Kind::KeyId
            };
            return self.placeholder(kind, token);
        }
        // Account IDs also hide inside names (`cdk-hnb659fds-assets-123456789012-us-east-1`):
        // any run of exactly twelve digits is one.
        let mut out = String::with_capacity(token.len());
        let bytes = token.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if !bytes[i].is_ascii_digit() {
                out.push(bytes[i] as char);
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let run = &token[start..i];
            if run.len() == 12 {
                out.push_str(&self.placeholder(Kind::Account, run));
            } else {
                out.push_str(run);
            }
        }
        out
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_keys_and_external_ids_are_replaced_consistently() {
        let mut r = Redactor::new();
        r.external_id("ext-secret-42");
        let a = r.redact(
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab \
             role arn:aws:iam::111122223333:role/x id ext-secret-42, principal 860559707280",
        );
        assert!(!a.contains("111122223333"), "{a}");
        assert!(!a.contains("1234abcd-12ab"), "{a}");
        assert!(!a.contains("ext-secret-42"), "{a}");
        assert!(!a.contains("860559707280"), "{a}");
        // The same value, the same placeholder; ARNs keep their shape.
        assert_eq!(a.matches(":000000000001:").count(), 2, "{a}");
        assert!(a.contains("arn:aws:iam::000000000001:role/x"), "{a}");
        assert!(
            a.contains("key/00000000-0000-4000-8000-000000000001"),
            "{a}"
        );
        let b = r.redact("again 111122223333");
        assert_eq!(b, "again 000000000001");
    }

    #[test]
    fn accounts_inside_names_are_replaced() {
        let mut r = Redactor::new();
        let t = r.redact("arn:aws:s3:::cdk-hnb659fds-assets-123456789012-us-east-1/data");
        assert_eq!(
            t,
            "arn:aws:s3:::cdk-hnb659fds-assets-000000000001-us-east-1/data"
        );
        assert_eq!(r.redact("a100000000000a"), "a000000000002a");
    }

    #[test]
    fn other_numbers_and_words_are_kept() {
        let mut r = Redactor::new();
        let t = "HTTP 403, 13 passed, version 2012-10-17, 1234567890123 digits, é";
        assert_eq!(r.redact(t), t);
    }
}
