//! Combining policies into a decision, with AWS's rules. (Stub: to be written.)

use super::{Evaluation, NamedPolicy, Request};

/// The policies that apply to one request.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicySet<'a> {
    /// The principal's identity policies (inline and managed).
    pub identity: &'a [NamedPolicy],
    /// The principal's permissions boundary, if any.
    pub boundary: Option<&'a NamedPolicy>,
    /// The resource's policy (bucket policy, key policy, role trust policy), if any.
    pub resource: Option<&'a NamedPolicy>,
}

/// Evaluates a request against a set of policies.
pub fn evaluate(set: &PolicySet<'_>, request: &Request) -> Evaluation {
    let _ = (set, request);
    todo!()
}

/// Evaluates a request against one policy on its own (no cross-policy combination): allowed
/// if one of its statements allows and none denies.
pub fn evaluate_policy(policy: &NamedPolicy, request: &Request) -> Evaluation {
    let _ = (policy, request);
    todo!()
}
