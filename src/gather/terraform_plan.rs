//! Terraform plans as offline input: the facts a `terraform show -json PLANFILE` document gives
//! about one attachment. Pure: the caller reads the file.
//!
//! The plan's JSON format is Terraform's documented one (`format_version` 1.x): the planned
//! values of every resource in `planned_values.root_module` and its `child_modules`, the values
//! known only after apply in `resource_changes[].change.after_unknown`, and in `configuration`
//! the references each attribute's expression makes (how a role policy names a role whose name
//! is not known yet). The resources read: `aws_iam_role` (trust policy, boundary, inline
//! policies), `aws_iam_role_policy`, `aws_iam_policy`, `aws_iam_role_policy_attachment`,
//! `aws_iam_role_policies_exclusive`, `aws_s3_bucket_policy`,
//! `aws_s3_bucket_server_side_encryption_configuration`, `aws_kms_key`, `aws_kms_key_policy`,
//! `aws_kms_alias`. They are matched to the attachment by name or ARN (the role's name from
//! its ARN, the bucket's name, the key by its ID or ARN or by the alias AoC was given), or by
//! the references the configuration makes to a matched resource.
//!
//! A value the plan knows only after apply makes the facts that need it `Unavailable`, naming
//! it (`known only after terraform apply: aws_kms_key.aoc.policy`); so does a policy the role
//! gets from outside the plan (an AWS managed policy). A policy that does not parse is a usage
//! error naming the resource address.

use serde_json::{Map, Value};

use crate::error::UsageError;
use crate::model::attachment::Attachment;
use crate::model::facts::{BucketEncryption, Fact, KeyMetadata};
use crate::policy::NamedPolicy;

/// What a plan says about one attachment: the facts offline files would give, and the bucket's
/// encryption, the key and its aliases, which files do not.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanFacts {
    pub role_trust_policy: Fact<NamedPolicy>,
    /// `Unavailable` when the plan has no such role; the policies it cannot give are in
    /// [`PlannedIdentity::missing`].
    pub identity_policies: Fact<PlannedIdentity>,
    pub permissions_boundary: Fact<Option<NamedPolicy>>,
    pub bucket_policy: Fact<Option<NamedPolicy>>,
    pub bucket_encryption: Fact<Option<BucketEncryption>>,
    pub key_policy: Fact<NamedPolicy>,
    pub key: Fact<Option<KeyMetadata>>,
    pub key_aliases: Fact<Vec<String>>,
}

/// The role's identity policies as a plan has them: those it holds, and those it attaches but
/// cannot give (an AWS managed policy, a document known only after apply). Policy files given
/// with it add to the set ([`PlannedIdentity::with_files`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedIdentity {
    /// `module.iam.aws_iam_role.aoc`, for messages.
    pub role_address: String,
    pub policies: Vec<NamedPolicy>,
    pub missing: Vec<MissingPolicy>,
}

/// A policy of the role that the plan names but does not hold.
#[derive(Debug, Clone, PartialEq)]
pub struct MissingPolicy {
    /// The policy's name (an inline policy's, or the last part of a managed policy's ARN),
    /// which a file standing in for it is matched by; `None` when the plan does not say.
    pub name: Option<String>,
    /// Why it is missing, with how to give it.
    pub why: String,
}

impl MissingPolicy {
    fn named(name: Option<&str>, why: String) -> Self {
        MissingPolicy {
            name: name.filter(|n| !n.is_empty()).map(str::to_string),
            why,
        }
    }
}

impl PlannedIdentity {
    /// The plan's policies alone: `Unavailable` while one is missing (the checks would judge
    /// a role with fewer policies than it has), or when the role has none in the plan.
    pub fn alone(&self) -> Fact<Vec<NamedPolicy>> {
        if let Some(first) = self.missing.first() {
            let more = self.missing.len() - 1;
            return Fact::Unavailable(if more == 0 {
                first.why.clone()
            } else {
                format!("{} (and {more} more)", first.why)
            });
        }
        if self.policies.is_empty() {
            return Fact::Unavailable(format!(
                "the plan gives {} no policy (no aws_iam_role_policy or aws_iam_role_policy_attachment for it)",
                self.role_address
            ));
        }
        Fact::Known(self.policies.clone())
    }

    /// The plan's policies with the files given (`--identity-policy`): a role's identity
    /// policies are a set, and the files add to it. A file named like a policy of the plan
    /// (`s3.json` for the inline policy `s3`, `CloudWatchAgentServerPolicy.json` for an AWS
    /// managed policy) stands in for that one only; the other files stand in for the policies
    /// the plan cannot give, which the skip advice asked for, and beyond those are policies of
    /// their own. While more policies are missing than files stand in for, the set is not known.
    pub fn with_files(&self, files: Vec<NamedPolicy>) -> Fact<Vec<NamedPolicy>> {
        if files.is_empty() {
            return self.alone();
        }
        let mut policies = self.policies.clone();
        let mut missing = self.missing.clone();
        let mut unnamed_files = 0usize;
        for file in &files {
            let stem = file_stem(&file.label);
            if let Some(i) = policies
                .iter()
                .position(|p| plan_policy_name(&p.label).eq_ignore_ascii_case(stem))
            {
                policies.remove(i);
            } else if let Some(i) = missing.iter().position(|m| {
                m.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(stem))
            }) {
                missing.remove(i);
            } else {
                unnamed_files += 1;
            }
        }
        if missing.len() > unnamed_files {
            let left = &missing[unnamed_files..];
            let more = left.len() - 1;
            return Fact::Unavailable(format!(
                "{}{} ({} given with --identity-policy, for {} the plan does not hold)",
                left[0].why,
                if more == 0 {
                    String::new()
                } else {
                    format!(" (and {more} more)")
                },
                files.len(),
                self.missing.len()
            ));
        }
        policies.extend(files);
        Fact::Known(policies)
    }
}

/// A policy file's name without its folder and extension: `policies/s3.json` is `s3`.
fn file_stem(label: &str) -> &str {
    std::path::Path::new(label)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(label)
}

/// The name a file standing in for a plan's policy goes by: an inline policy's name, the
/// last part of a managed policy's ARN, or the resource's name in its address.
fn plan_policy_name(label: &str) -> &str {
    if let Some(name) = label.strip_prefix("inline policy ") {
        return name;
    }
    if let Some(arn) = label
        .strip_prefix("managed policy ")
        .or_else(|| label.strip_prefix("permissions boundary "))
    {
        return arn.rsplit('/').next().unwrap_or(arn);
    }
    let address = label.strip_suffix(" (terraform plan)").unwrap_or(label);
    let name = address.rsplit('.').next().unwrap_or(address);
    name.split('[').next().unwrap_or(name)
}

/// A parsed plan: its resources with what is known of each.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Where the plan came from, for messages (`plan.json`).
    source: String,
    resources: Vec<Resource>,
}

#[derive(Debug, Clone)]
struct Resource {
    /// `aws_iam_role.aoc`, `module.storage.aws_kms_key.this[0]`.
    address: String,
    kind: String,
    values: Map<String, Value>,
    /// `after_unknown`: `true` for each attribute known only after apply.
    unknown: Map<String, Value>,
    /// Per attribute, the resources its expression refers to (absolute, without instance keys).
    references: Map<String, Value>,
}

/// What a plan knows of one attribute.
enum Attr<'a> {
    Known(&'a Value),
    AfterApply,
    Absent,
}

impl Resource {
    fn attr(&self, name: &str) -> Attr<'_> {
        match self.values.get(name) {
            Some(v) if !v.is_null() => Attr::Known(v),
            _ if self
                .unknown
                .get(name)
                .is_some_and(|u| u != &Value::Bool(false)) =>
            {
                Attr::AfterApply
            }
            _ => Attr::Absent,
        }
    }

    fn string(&self, name: &str) -> Option<&str> {
        match self.attr(name) {
            Attr::Known(v) => v.as_str(),
            _ => None,
        }
    }

    fn after_apply(&self, name: &str) -> String {
        format!("known only after terraform apply: {}.{name}", self.address)
    }

    /// The address without instance keys, as the configuration's references name it.
    fn base_address(&self) -> String {
        strip_instance_keys(&self.address)
    }

    /// Whether attribute `name` names `target`: its value is one of `identifiers`, or its
    /// expression refers to the target resource.
    fn names(&self, name: &str, target: &Resource, identifiers: &[Option<&str>]) -> bool {
        if let Some(value) = self.string(name)
            && identifiers
                .iter()
                .flatten()
                .any(|id| !id.is_empty() && *id == value)
        {
            return true;
        }
        let base = target.base_address();
        self.references
            .get(name)
            .and_then(Value::as_array)
            .is_some_and(|refs| {
                refs.iter().filter_map(Value::as_str).any(|r| {
                    r == base
                        || r.strip_prefix(base.as_str())
                            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
                })
            })
    }

    fn label(&self) -> String {
        format!("{} (terraform plan)", self.address)
    }
}

fn strip_instance_keys(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut depth = 0usize;
    for c in address.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Parses the JSON of `terraform show -json PLANFILE`. `source` names it in messages.
pub fn parse(text: &str, source: &str) -> Result<Plan, UsageError> {
    let root: Value = serde_json::from_str(text).map_err(|e| {
        UsageError(format!(
            "{source}:{}:{}: not JSON: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let not_a_plan = || {
        UsageError(format!(
            "{source}: not a Terraform plan in JSON (the output of `terraform show -json PLANFILE`): no planned_values"
        ))
    };
    let version = root
        .get("format_version")
        .and_then(Value::as_str)
        .ok_or_else(not_a_plan)?;
    // Terraform's promise: a new major version is not backward compatible.
    if version.split('.').next() != Some("1") {
        return Err(UsageError(format!(
            "{source}: plan JSON format_version {version} is not supported (this version reads 1.x)"
        )));
    }
    let planned = root
        .get("planned_values")
        .and_then(|p| p.get("root_module"))
        .ok_or_else(not_a_plan)?;

    let mut unknown_by_address: std::collections::HashMap<&str, &Map<String, Value>> =
        std::collections::HashMap::new();
    for change in root
        .get("resource_changes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(address), Some(unknown)) = (
            change.get("address").and_then(Value::as_str),
            change
                .get("change")
                .and_then(|c| c.get("after_unknown"))
                .and_then(Value::as_object),
        ) {
            unknown_by_address.insert(address, unknown);
        }
    }
    let mut references = std::collections::HashMap::new();
    if let Some(config) = root.get("configuration").and_then(|c| c.get("root_module")) {
        collect_references(config, "", &mut references);
    }

    let mut resources = Vec::new();
    collect_resources(planned, &mut |r: &Value| {
        if r.get("mode").and_then(Value::as_str) == Some("data") {
            return;
        }
        let (Some(address), Some(kind)) = (
            r.get("address").and_then(Value::as_str),
            r.get("type").and_then(Value::as_str),
        ) else {
            return;
        };
        let values = r
            .get("values")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let unknown = unknown_by_address
            .get(address)
            .map(|u| (*u).clone())
            .unwrap_or_default();
        let refs = references
            .get(&strip_instance_keys(address))
            .cloned()
            .unwrap_or_default();
        resources.push(Resource {
            address: address.to_string(),
            kind: kind.to_string(),
            values,
            unknown,
            references: refs,
        });
    });
    Ok(Plan {
        source: source.to_string(),
        resources,
    })
}

fn collect_resources(module: &Value, visit: &mut dyn FnMut(&Value)) {
    for r in module
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        visit(r);
    }
    for child in module
        .get("child_modules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect_resources(child, visit);
    }
}

/// The references of each resource's attributes in `configuration`, by absolute address
/// (`module.NAME.` prefixed); references are module-relative there.
fn collect_references(
    module: &Value,
    prefix: &str,
    out: &mut std::collections::HashMap<String, Map<String, Value>>,
) {
    for r in module
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(address) = r.get("address").and_then(Value::as_str) else {
            continue;
        };
        let mut by_attr = Map::new();
        for (attr, expr) in r
            .get("expressions")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(refs) = expr.get("references").and_then(Value::as_array) {
                let absolute = refs
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|r| Value::String(format!("{prefix}{r}")))
                    .collect();
                by_attr.insert(attr.clone(), Value::Array(absolute));
            }
        }
        out.insert(format!("{prefix}{address}"), by_attr);
    }
    for (name, call) in module
        .get("module_calls")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(child) = call.get("module") {
            collect_references(child, &format!("{prefix}module.{name}."), out);
        }
    }
}

impl Plan {
    fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources.iter().filter(move |r| r.kind == kind)
    }

    /// Parses the policy JSON in `resource`'s attribute `name`.
    fn policy(&self, resource: &Resource, name: &str, label: String) -> PolicyAttr {
        match resource.attr(name) {
            Attr::Known(Value::String(text)) => match crate::policy::parse_policy(text) {
                Ok(document) => PolicyAttr::Known(NamedPolicy { label, document }),
                Err(e) => PolicyAttr::Error(UsageError(format!(
                    "{}: {}.{name}:{}:{}: {}",
                    self.source, resource.address, e.line, e.column, e.message
                ))),
            },
            Attr::Known(_) => PolicyAttr::Error(UsageError(format!(
                "{}: {}.{name} is not a JSON string",
                self.source, resource.address
            ))),
            Attr::AfterApply => PolicyAttr::AfterApply(resource.after_apply(name)),
            Attr::Absent => PolicyAttr::Absent,
        }
    }
}

enum PolicyAttr {
    Known(NamedPolicy),
    AfterApply(String),
    Absent,
    Error(UsageError),
}

/// The facts `plan` gives about `attachment`.
pub fn facts(plan: &Plan, attachment: &Attachment) -> Result<PlanFacts, UsageError> {
    let (role_trust_policy, identity_policies, permissions_boundary) =
        role_facts(plan, attachment)?;
    let (bucket_policy, bucket_encryption) = bucket_facts(plan, attachment)?;
    let (key_policy, key, key_aliases) = key_facts(plan, attachment)?;
    Ok(PlanFacts {
        role_trust_policy,
        identity_policies,
        permissions_boundary,
        bucket_policy,
        bucket_encryption,
        key_policy,
        key,
        key_aliases,
    })
}

type RoleFacts = (
    Fact<NamedPolicy>,
    Fact<PlannedIdentity>,
    Fact<Option<NamedPolicy>>,
);

fn role_facts(plan: &Plan, attachment: &Attachment) -> Result<RoleFacts, UsageError> {
    let role_arn = attachment.role_arn.as_str();
    let role_name = role_arn.rsplit('/').next().unwrap_or(role_arn);
    let Some(role) = plan
        .of_kind("aws_iam_role")
        .find(|r| r.string("name") == Some(role_name) || r.string("arn") == Some(role_arn))
    else {
        let missing = format!(
            "the plan ({}) has no aws_iam_role named {role_name}",
            plan.source
        );
        return Ok((
            Fact::Unavailable(missing.clone()),
            Fact::Unavailable(missing.clone()),
            Fact::Unavailable(missing),
        ));
    };
    // A role policy names its role by name, ID (the name) or ARN.
    let ids = [Some(role_name), Some(role_arn), role.string("id")];

    let trust = match plan.policy(role, "assume_role_policy", role.label()) {
        PolicyAttr::Known(p) => Fact::Known(p),
        PolicyAttr::AfterApply(why) => Fact::Unavailable(why),
        PolicyAttr::Absent => Fact::Unavailable(format!(
            "{} has no assume_role_policy in the plan",
            role.address
        )),
        PolicyAttr::Error(e) => return Err(e),
    };

    let boundary = match role.attr("permissions_boundary") {
        Attr::Absent => Fact::Known(None),
        Attr::AfterApply => Fact::Unavailable(role.after_apply("permissions_boundary")),
        Attr::Known(v) => {
            let arn = v.as_str().unwrap_or_default();
            match managed_policy(
                plan,
                role,
                "permissions_boundary",
                arn,
                "permissions boundary",
            )? {
                Ok(p) => Fact::Known(Some(p)),
                Err(missing) => Fact::Unavailable(missing.why),
            }
        }
    };

    let identity = identity_policies(plan, role, &ids)?;
    Ok((trust, identity, boundary))
}

/// The managed policy `arn` that `holder.attr` names: the `aws_iam_policy` of the plan it is
/// (by ARN or by reference), as `managed policy ARN` (or the resource address while the ARN is
/// not known); `Err` with why when the plan does not hold it.
fn managed_policy(
    plan: &Plan,
    holder: &Resource,
    attr: &str,
    arn: &str,
    kind: &str,
) -> Result<Result<NamedPolicy, MissingPolicy>, UsageError> {
    let found = plan
        .of_kind("aws_iam_policy")
        .find(|p| holder.names(attr, p, &[p.string("arn")]));
    let Some(policy) = found else {
        let what = if arn.is_empty() {
            format!("{}.{attr}", holder.address)
        } else {
            arn.to_string()
        };
        let name = arn.rsplit('/').next().filter(|_| !arn.is_empty());
        return Ok(Err(MissingPolicy::named(
            name,
            format!(
                "the policy {what} ({}) is not in the plan: give it with --identity-policy FILE \
                 (--permissions-boundary for a boundary)",
                holder.address
            ),
        )));
    };
    let label = match policy.string("arn") {
        Some(arn) => format!("{kind} {arn}"),
        None => policy.label(),
    };
    let name = policy.string("name");
    Ok(match plan.policy(policy, "policy", label) {
        PolicyAttr::Known(p) => Ok(p),
        PolicyAttr::AfterApply(why) => Err(MissingPolicy::named(name, why)),
        PolicyAttr::Absent => Err(MissingPolicy::named(
            name,
            format!("{} has no policy in the plan", policy.address),
        )),
        PolicyAttr::Error(e) => return Err(e),
    })
}

fn identity_policies(
    plan: &Plan,
    role: &Resource,
    ids: &[Option<&str>],
) -> Result<Fact<PlannedIdentity>, UsageError> {
    let mut policies = Vec::new();
    let mut missing: Vec<MissingPolicy> = Vec::new();
    let mut inline_names: Vec<String> = Vec::new();

    // Inline policies in the role's own (deprecated) inline_policy blocks.
    if let Attr::Known(Value::Array(blocks)) = role.attr("inline_policy") {
        for block in blocks {
            let (Some(name), Some(text)) = (
                block.get("name").and_then(Value::as_str),
                block.get("policy").and_then(Value::as_str),
            ) else {
                continue;
            };
            if name.is_empty() && text.is_empty() {
                continue;
            }
            let document = crate::policy::parse_policy(text).map_err(|e| {
                UsageError(format!(
                    "{}: {}.inline_policy[{name}]:{}:{}: {}",
                    plan.source, role.address, e.line, e.column, e.message
                ))
            })?;
            inline_names.push(name.to_string());
            policies.push(NamedPolicy {
                label: format!("inline policy {name}"),
                document,
            });
        }
    }
    for rp in plan
        .of_kind("aws_iam_role_policy")
        .filter(|rp| rp.names("role", role, ids))
    {
        let name = rp.string("name");
        let label = match name {
            Some(name) => {
                inline_names.push(name.to_string());
                format!("inline policy {name}")
            }
            None => rp.label(),
        };
        match plan.policy(rp, "policy", label) {
            PolicyAttr::Known(p) => policies.push(p),
            PolicyAttr::AfterApply(why) => missing.push(MissingPolicy::named(name, why)),
            PolicyAttr::Absent => missing.push(MissingPolicy::named(
                name,
                format!("{} has no policy", rp.address),
            )),
            PolicyAttr::Error(e) => return Err(e),
        }
    }
    // The exclusive list says which inline policies the role has: one it names that the plan
    // does not hold is a policy the checks cannot see.
    for exclusive in plan
        .of_kind("aws_iam_role_policies_exclusive")
        .filter(|e| e.names("role_name", role, ids))
    {
        match exclusive.attr("policy_names") {
            Attr::Known(Value::Array(names)) => {
                for name in names.iter().filter_map(Value::as_str) {
                    if !inline_names.iter().any(|n| n == name) {
                        missing.push(MissingPolicy::named(
                            Some(name),
                            format!(
                                "inline policy {name} ({}) is not in the plan",
                                exclusive.address
                            ),
                        ));
                    }
                }
            }
            Attr::AfterApply => missing.push(MissingPolicy::named(
                None,
                exclusive.after_apply("policy_names"),
            )),
            _ => {}
        }
    }
    // Attached managed policies: attachments, and the role's (deprecated) managed_policy_arns.
    for attachment in plan
        .of_kind("aws_iam_role_policy_attachment")
        .filter(|a| a.names("role", role, ids))
    {
        let arn = attachment.string("policy_arn").unwrap_or_default();
        match managed_policy(plan, attachment, "policy_arn", arn, "managed policy")? {
            Ok(p) => policies.push(p),
            Err(m) => missing.push(m),
        }
    }
    if let Attr::Known(Value::Array(arns)) = role.attr("managed_policy_arns") {
        for arn in arns.iter().filter_map(Value::as_str) {
            // Computed from the attachments when the role does not set it: counted once.
            let label = format!("managed policy {arn}");
            if policies.iter().any(|p| p.label == label) {
                continue;
            }
            let found = plan
                .of_kind("aws_iam_policy")
                .find(|p| p.string("arn") == Some(arn));
            let name = arn.rsplit('/').next();
            match found {
                Some(p) => match plan.policy(p, "policy", label) {
                    PolicyAttr::Known(doc) => policies.push(doc),
                    PolicyAttr::AfterApply(why) => missing.push(MissingPolicy::named(name, why)),
                    PolicyAttr::Absent => missing.push(MissingPolicy::named(
                        name,
                        format!("{} has no policy", p.address),
                    )),
                    PolicyAttr::Error(e) => return Err(e),
                },
                None => missing.push(MissingPolicy::named(
                    name,
                    format!(
                        "the policy {arn} ({}.managed_policy_arns) is not in the plan: give it with --identity-policy FILE",
                        role.address
                    ),
                )),
            }
        }
    }

    Ok(Fact::Known(PlannedIdentity {
        role_address: role.address.clone(),
        policies,
        missing,
    }))
}

type BucketFacts = (Fact<Option<NamedPolicy>>, Fact<Option<BucketEncryption>>);

fn bucket_facts(plan: &Plan, attachment: &Attachment) -> Result<BucketFacts, UsageError> {
    let bucket_name = attachment.bucket.as_str();
    let bucket = plan
        .of_kind("aws_s3_bucket")
        .find(|b| b.string("bucket") == Some(bucket_name));
    let bucket_ids = [Some(bucket_name), bucket.and_then(|b| b.string("id"))];
    let refers_to_bucket = |r: &Resource, attr: &str| match bucket {
        Some(b) => r.names(attr, b, &bucket_ids),
        None => r.string(attr) == Some(bucket_name),
    };

    let policy = match plan
        .of_kind("aws_s3_bucket_policy")
        .find(|p| refers_to_bucket(p, "bucket"))
    {
        Some(p) => match plan.policy(p, "policy", p.label()) {
            PolicyAttr::Known(doc) => Fact::Known(Some(doc)),
            PolicyAttr::AfterApply(why) => Fact::Unavailable(why),
            PolicyAttr::Absent => Fact::Known(None),
            PolicyAttr::Error(e) => return Err(e),
        },
        // The plan creates or manages the bucket and gives it no policy.
        None if bucket.is_some() => Fact::Known(None),
        None => Fact::Unavailable(format!(
            "the plan ({}) has no aws_s3_bucket or aws_s3_bucket_policy for bucket {bucket_name}",
            plan.source
        )),
    };

    let encryption = match plan
        .of_kind("aws_s3_bucket_server_side_encryption_configuration")
        .find(|c| refers_to_bucket(c, "bucket"))
    {
        Some(config) => encryption_of(config),
        None => Fact::Unavailable(format!(
            "the plan ({}) has no aws_s3_bucket_server_side_encryption_configuration for bucket {bucket_name}",
            plan.source
        )),
    };
    Ok((policy, encryption))
}

/// The default encryption rule of an `aws_s3_bucket_server_side_encryption_configuration`:
/// `rule` blocks, each with an `apply_server_side_encryption_by_default` block.
fn encryption_of(config: &Resource) -> Fact<Option<BucketEncryption>> {
    let rules = match config.attr("rule") {
        Attr::Known(Value::Array(rules)) => rules,
        Attr::AfterApply => return Fact::Unavailable(config.after_apply("rule")),
        _ => return Fact::Known(None),
    };
    let unknown_rules = config.unknown.get("rule");
    for (i, rule) in rules.iter().enumerate() {
        let Some(default) = rule
            .get("apply_server_side_encryption_by_default")
            .and_then(Value::as_array)
            .and_then(|d| d.first())
        else {
            continue;
        };
        let unknown_key = unknown_rules
            .and_then(|u| u.get(i))
            .and_then(|u| u.get("apply_server_side_encryption_by_default"))
            .and_then(|u| u.get(0))
            .and_then(|u| u.get("kms_master_key_id"))
            == Some(&Value::Bool(true));
        if unknown_key {
            return Fact::Unavailable(format!(
                "known only after terraform apply: {}.rule[{i}].apply_server_side_encryption_by_default[0].kms_master_key_id",
                config.address
            ));
        }
        let algorithm = default
            .get("sse_algorithm")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let kms_key_id = default
            .get("kms_master_key_id")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .map(str::to_string);
        let bucket_key_enabled = rule
            .get("bucket_key_enabled")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        return Fact::Known(Some(BucketEncryption {
            algorithm,
            kms_key_id,
            bucket_key_enabled,
        }));
    }
    Fact::Known(None)
}

type KeyFacts = (
    Fact<NamedPolicy>,
    Fact<Option<KeyMetadata>>,
    Fact<Vec<String>>,
);

fn key_facts(plan: &Plan, attachment: &Attachment) -> Result<KeyFacts, UsageError> {
    let entered = attachment.kms_key.as_str();
    let resource = entered.split(':').nth(5).unwrap_or_default();
    let key_id = resource.strip_prefix("key/");
    let alias_name = resource
        .strip_prefix("alias/")
        .map(|a| format!("alias/{a}"));

    // The key: by its ID or ARN, or through the alias AoC was given.
    let by_value = plan.of_kind("aws_kms_key").find(|k| {
        k.string("arn") == Some(entered) || key_id.is_some_and(|id| k.string("key_id") == Some(id))
    });
    let key = by_value.or_else(|| {
        let alias = plan
            .of_kind("aws_kms_alias")
            .find(|a| alias_name.is_some() && a.string("name") == alias_name.as_deref())?;
        plan.of_kind("aws_kms_key")
            .find(|k| alias.names("target_key_id", k, &[k.string("key_id"), k.string("arn")]))
    });
    // A key the plan creates has no ID yet: when the plan creates exactly one, it is the one.
    let key = key.or_else(|| {
        let mut new_keys = plan
            .of_kind("aws_kms_key")
            .filter(|k| matches!(k.attr("key_id"), Attr::AfterApply));
        let only = new_keys.next()?;
        new_keys.next().is_none().then_some(only)
    });
    let Some(key) = key else {
        let missing = format!(
            "the plan ({}) has no aws_kms_key for {entered}",
            plan.source
        );
        return Ok((
            Fact::Unavailable(missing.clone()),
            Fact::Unavailable(missing.clone()),
            Fact::Unavailable(missing),
        ));
    };
    let ids = [key.string("key_id"), key.string("arn"), key.string("id")];

    // aws_kms_key_policy, when there is one, sets the policy instead of the key's own.
    let policy = match plan
        .of_kind("aws_kms_key_policy")
        .find(|p| p.names("key_id", key, &ids))
    {
        Some(p) => plan.policy(p, "policy", p.label()),
        None => plan.policy(key, "policy", key.label()),
    };
    let policy = match policy {
        PolicyAttr::Known(p) => Fact::Known(p),
        PolicyAttr::AfterApply(why) => Fact::Unavailable(why),
        // Without a policy KMS gives the key its default one, which the plan does not show.
        PolicyAttr::Absent => Fact::Unavailable(format!(
            "{} sets no policy: KMS gives it the default key policy, which the plan does not show",
            key.address
        )),
        PolicyAttr::Error(e) => return Err(e),
    };

    let metadata = match (key.attr("arn"), key.attr("key_id")) {
        (Attr::Known(arn), Attr::Known(id)) => {
            let enabled = key
                .values
                .get("is_enabled")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            let text = |name: &str, default: &str| key.string(name).unwrap_or(default).to_string();
            Fact::Known(Some(KeyMetadata {
                arn: arn.as_str().unwrap_or_default().to_string(),
                key_id: id.as_str().unwrap_or_default().to_string(),
                enabled,
                key_state: if enabled { "Enabled" } else { "Disabled" }.to_string(),
                key_usage: text("key_usage", "ENCRYPT_DECRYPT"),
                key_spec: text("customer_master_key_spec", "SYMMETRIC_DEFAULT"),
                key_manager: "CUSTOMER".to_string(),
                deletion_date: None,
            }))
        }
        (Attr::Known(_), _) => Fact::Unavailable(key.after_apply("key_id")),
        _ => Fact::Unavailable(key.after_apply("arn")),
    };

    let mut aliases = Vec::new();
    for alias in plan
        .of_kind("aws_kms_alias")
        .filter(|a| a.names("target_key_id", key, &ids))
    {
        match alias.attr("name") {
            Attr::Known(Value::String(name)) => aliases.push(name.clone()),
            _ => {
                return Ok((
                    policy,
                    metadata,
                    Fact::Unavailable(alias.after_apply("name")),
                ));
            }
        }
    }
    Ok((policy, metadata, Fact::Known(aliases)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attachment() -> Attachment {
        Attachment {
            name: None,
            region: "us-east-1".into(),
            bucket: "aspera-kms".into(),
            path: "/".into(),
            kms_key: "arn:aws:kms:us-east-1:111122223333:alias/aoc".into(),
            role_arn: "arn:aws:iam::111122223333:role/aoc".into(),
            aoc_trust: Default::default(),
        }
    }

    /// The role's identity policies from the plan alone, no file given.
    fn alone(facts: &PlanFacts) -> Fact<Vec<NamedPolicy>> {
        match &facts.identity_policies {
            Fact::Known(planned) => planned.alone(),
            Fact::Unavailable(why) => Fact::Unavailable(why.clone()),
            Fact::Failed(f) => Fact::Failed(f.clone()),
        }
    }

    const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

    fn plan(resources: Value, changes: Value, configuration: Value) -> Plan {
        let doc = serde_json::json!({
            "format_version": "1.2",
            "planned_values": {"root_module": {"child_modules": [
                {"address": "module.iam", "resources": resources}
            ]}},
            "resource_changes": changes,
            "configuration": {"root_module": {"module_calls": {"iam": {"module": configuration}}}},
        });
        parse(&doc.to_string(), "plan.json").expect("a plan")
    }

    #[test]
    fn a_role_policy_that_names_its_role_by_reference_is_found_in_a_module() {
        let p = plan(
            serde_json::json!([
                {"address": "module.iam.aws_iam_role.aoc", "mode": "managed", "type": "aws_iam_role",
                 "name": "aoc", "values": {"name": "aoc", "assume_role_policy": POLICY}},
                {"address": "module.iam.aws_iam_role_policy.s3", "mode": "managed",
                 "type": "aws_iam_role_policy", "name": "s3", "values": {"name": "s3", "policy": POLICY}}
            ]),
            serde_json::json!([
                {"address": "module.iam.aws_iam_role_policy.s3",
                 "change": {"actions": ["create"], "after_unknown": {"role": true, "id": true}}}
            ]),
            serde_json::json!({"resources": [
                {"address": "aws_iam_role_policy.s3", "type": "aws_iam_role_policy", "name": "s3",
                 "expressions": {"role": {"references": ["aws_iam_role.aoc.id", "aws_iam_role.aoc"]}}}
            ]}),
        );
        let facts = facts(&p, &attachment()).expect("facts");
        let Fact::Known(identity) = alone(&facts) else {
            panic!("{:?}", facts.identity_policies)
        };
        assert_eq!(identity.len(), 1);
        assert_eq!(identity[0].label, "inline policy s3");
        assert!(matches!(facts.role_trust_policy, Fact::Known(_)));
        assert_eq!(facts.permissions_boundary, Fact::Known(None));
        // Nothing of the bucket or the key in this plan.
        assert!(matches!(facts.bucket_policy, Fact::Unavailable(_)));
        assert!(matches!(facts.key_policy, Fact::Unavailable(_)));
    }

    #[test]
    fn an_aws_managed_policy_and_an_unknown_key_policy_say_why_they_are_missing() {
        let p = plan(
            serde_json::json!([
                {"address": "module.iam.aws_iam_role.aoc", "type": "aws_iam_role",
                 "values": {"name": "aoc", "assume_role_policy": POLICY}},
                {"address": "module.iam.aws_iam_role_policy_attachment.ro", "type": "aws_iam_role_policy_attachment",
                 "values": {"role": "aoc", "policy_arn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}},
                {"address": "module.iam.aws_kms_key.aoc", "type": "aws_kms_key", "values": {}},
                {"address": "module.iam.aws_kms_alias.aoc", "type": "aws_kms_alias", "values": {"name": "alias/aoc"}}
            ]),
            serde_json::json!([
                {"address": "module.iam.aws_kms_key.aoc",
                 "change": {"after_unknown": {"arn": true, "key_id": true, "policy": true}}},
                {"address": "module.iam.aws_kms_alias.aoc",
                 "change": {"after_unknown": {"target_key_id": true}}}
            ]),
            serde_json::json!({"resources": [
                {"address": "aws_kms_alias.aoc", "expressions": {"target_key_id": {"references": ["aws_kms_key.aoc.key_id", "aws_kms_key.aoc"]}}}
            ]}),
        );
        let facts = facts(&p, &attachment()).expect("facts");
        let Fact::Unavailable(why) = &alone(&facts) else {
            panic!("{:?}", facts.identity_policies)
        };
        assert!(
            why.contains("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
                && why.contains("not in the plan"),
            "{why}"
        );
        assert_eq!(
            facts.key_policy,
            Fact::Unavailable(
                "known only after terraform apply: module.iam.aws_kms_key.aoc.policy".into()
            )
        );
        assert_eq!(
            facts.key,
            Fact::Unavailable(
                "known only after terraform apply: module.iam.aws_kms_key.aoc.arn".into()
            )
        );
        assert_eq!(
            facts.key_aliases,
            Fact::Known(vec!["alias/aoc".to_string()])
        );
    }

    #[test]
    fn a_policy_that_does_not_parse_names_its_resource_and_a_new_format_is_refused() {
        let p = plan(
            serde_json::json!([
                {"address": "module.iam.aws_iam_role.aoc", "type": "aws_iam_role",
                 "values": {"name": "aoc", "assume_role_policy": "{\"Version\": \"2012-10-17\", \"Statement\": [}"}}
            ]),
            serde_json::json!([]),
            serde_json::json!({}),
        );
        let err = facts(&p, &attachment()).expect_err("a usage error");
        assert!(
            err.0
                .starts_with("plan.json: module.iam.aws_iam_role.aoc.assume_role_policy:1:"),
            "{}",
            err.0
        );

        let err = parse(
            r#"{"format_version": "2.0", "planned_values": {}}"#,
            "p.json",
        )
        .expect_err("refused");
        assert!(
            err.0.contains("format_version 2.0 is not supported"),
            "{}",
            err.0
        );
        let err = parse(r#"{"format_version": "1.0"}"#, "state.json").expect_err("refused");
        assert!(err.0.contains("not a Terraform plan"), "{}", err.0);
    }
}
