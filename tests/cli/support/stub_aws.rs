//! A stub AWS on 127.0.0.1 (a wiremock server) that answers every operation live mode calls,
//! in each service's own protocol, for one attachment set up correctly — and that a test can
//! make fail one operation at a time.
//!
//! - S3 is restXml, path-style because `--endpoint-url` is set: `HEAD /BUCKET`,
//!   `GET /BUCKET?location`, `?encryption`, `?policy`, `?publicAccessBlock`.
//! - KMS is awsJson1_1: `POST /` with `X-Amz-Target: TrentService.<Operation>`.
//! - Organizations is awsJson1_1 too (`AWSOrganizationsV20161128.<Operation>`); the stub's
//!   account is in no organization unless a test mounts other answers.
//! - IAM and STS are awsQuery: `POST /` with a form body `Action=<Operation>&Version=...`,
//!   answered with `<OperationResponse><OperationResult>...` XML; IAM's policy documents are
//!   URL-encoded, as IAM returns them.
//!
//! The bodies follow the AWS API references (response syntax and examples); the SDK's
//! deserializers accept them (`faults::all_good_stub_passes_every_check`). Every operation is
//! mounted at a low priority so that a test's fault, mounted at a higher one, wins.
//!
//! Nothing here listens anywhere but 127.0.0.1, and the credentials are dummies.

use std::ffi::OsString;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, method, path_regex, query_param};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

use super::moto::LiveCmd;

pub const ACCOUNT: &str = "239600258224";
pub const REGION: &str = "us-east-1";
pub const BUCKET: &str = "aspera-kms";
pub const KEY_ID: &str = "65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46";
pub const KEY_ARN: &str =
    "arn:aws:kms:us-east-1:239600258224:key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46";
pub const ALIAS_NAME: &str = "alias/aspera-kms";
pub const ALIAS_ARN: &str = "arn:aws:kms:us-east-1:239600258224:alias/aspera-kms";
pub const ROLE_NAME: &str = "aspera-kms-access";
pub const ROLE_ARN: &str = "arn:aws:iam::239600258224:role/aspera-kms-access";
pub const ROLE_ID: &str = "AROATOCFCMSTUBROLE001";
pub const INLINE_POLICY: &str = "aoc-s3-access";
pub const MANAGED_POLICY_ARN: &str = "arn:aws:iam::239600258224:policy/aoc-kms-access";
pub const CALLER_ARN: &str = "arn:aws:iam::239600258224:user/preflight";
pub const EXTERNAL_ID: &str = "3b6f5a1c-9d2e-4f8a-b7c6-0e1d2c3b4a59";
pub const AOC_PRINCIPAL: &str = "arn:aws:iam::860559707280:role/atp-aws-us-east-1-ts-atc-node";

/// The priority of the good answers: a fault mounted with [`Mock::with_priority`] 1 (or the
/// default, 5) is matched first.
const GOOD_PRIORITY: u8 = 10;

/// A request ID, as every AWS answer carries one.
const REQUEST_ID: &str = "4442587f-e6b4-4b2a-9f1d-0c5a3e8b1d2f";

/// The AWS services live mode talks to, by protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// restXml.
    S3,
    /// awsJson1_1.
    Kms,
    /// awsQuery.
    Iam,
    /// awsQuery.
    Sts,
}

/// Every operation live mode calls (the list in `src/gather/live/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    GetCallerIdentity,
    HeadBucket,
    GetBucketLocation,
    GetBucketEncryption,
    GetBucketPolicy,
    GetPublicAccessBlock,
    DescribeKey,
    ListAliases,
    GetKeyPolicy,
    GetRole,
    ListRolePolicies,
    GetRolePolicy,
    ListAttachedRolePolicies,
    GetPolicy,
    GetPolicyVersion,
}

impl Op {
    pub const ALL: [Op; 15] = [
        Op::GetCallerIdentity,
        Op::HeadBucket,
        Op::GetBucketLocation,
        Op::GetBucketEncryption,
        Op::GetBucketPolicy,
        Op::GetPublicAccessBlock,
        Op::DescribeKey,
        Op::ListAliases,
        Op::GetKeyPolicy,
        Op::GetRole,
        Op::ListRolePolicies,
        Op::GetRolePolicy,
        Op::ListAttachedRolePolicies,
        Op::GetPolicy,
        Op::GetPolicyVersion,
    ];

    /// The operation's name without the service (`GetBucketPolicy`).
    pub fn operation(self) -> &'static str {
        match self {
            Op::GetCallerIdentity => "GetCallerIdentity",
            Op::HeadBucket => "HeadBucket",
            Op::GetBucketLocation => "GetBucketLocation",
            Op::GetBucketEncryption => "GetBucketEncryption",
            Op::GetBucketPolicy => "GetBucketPolicy",
            Op::GetPublicAccessBlock => "GetPublicAccessBlock",
            Op::DescribeKey => "DescribeKey",
            Op::ListAliases => "ListAliases",
            Op::GetKeyPolicy => "GetKeyPolicy",
            Op::GetRole => "GetRole",
            Op::ListRolePolicies => "ListRolePolicies",
            Op::GetRolePolicy => "GetRolePolicy",
            Op::ListAttachedRolePolicies => "ListAttachedRolePolicies",
            Op::GetPolicy => "GetPolicy",
            Op::GetPolicyVersion => "GetPolicyVersion",
        }
    }

    pub fn service(self) -> Service {
        match self {
            Op::GetCallerIdentity => Service::Sts,
            Op::HeadBucket
            | Op::GetBucketLocation
            | Op::GetBucketEncryption
            | Op::GetBucketPolicy
            | Op::GetPublicAccessBlock => Service::S3,
            Op::DescribeKey | Op::ListAliases | Op::GetKeyPolicy => Service::Kms,
            _ => Service::Iam,
        }
    }

    /// `service:Operation`, as the report's `aws.calls` names it.
    pub fn name(self) -> String {
        let prefix = match self.service() {
            Service::S3 => "s3",
            Service::Kms => "kms",
            Service::Iam => "iam",
            Service::Sts => "sts",
        };
        format!("{prefix}:{}", self.operation())
    }

    /// The IAM action that allows the operation, which a refusal must name (S3's operation
    /// and action names differ for three of them).
    pub fn permission(self) -> String {
        match self {
            Op::HeadBucket => "s3:ListBucket".to_string(),
            Op::GetBucketEncryption => "s3:GetEncryptionConfiguration".to_string(),
            Op::GetPublicAccessBlock => "s3:GetBucketPublicAccessBlock".to_string(),
            _ => self.name(),
        }
    }

    /// Whether the answer carries a policy document (bucket, key, trust, inline or managed).
    pub fn returns_policy(self) -> bool {
        matches!(
            self,
            Op::GetBucketPolicy
                | Op::GetKeyPolicy
                | Op::GetRole
                | Op::GetRolePolicy
                | Op::GetPolicyVersion
        )
    }

    /// A wiremock mock that matches exactly this operation's requests.
    pub fn given(self) -> MockBuilder {
        // Path-style: the SDK asks for `/BUCKET/` (S3 also takes `/BUCKET`).
        let bucket = format!("^/{BUCKET}/?$");
        match self.service() {
            Service::S3 => {
                let query = match self {
                    Op::HeadBucket => {
                        return Mock::given(method("HEAD")).and(path_regex(bucket));
                    }
                    Op::GetBucketLocation => "location",
                    Op::GetBucketEncryption => "encryption",
                    Op::GetBucketPolicy => "policy",
                    _ => "publicAccessBlock",
                };
                Mock::given(method("GET"))
                    .and(path_regex(bucket))
                    .and(query_param(query, ""))
            }
            Service::Kms => Mock::given(method("POST")).and(header(
                "x-amz-target",
                format!("TrentService.{}", self.operation()).as_str(),
            )),
            // The SDK writes `Action` first: `Action=GetRole&Version=...` is not a prefix of
            // `Action=GetRolePolicy&...`.
            Service::Iam | Service::Sts => Mock::given(method("POST")).and(body_string_contains(
                format!("Action={}&", self.operation()),
            )),
        }
    }

    /// Whether a received request is one of this operation's.
    pub fn matches(self, request: &wiremock::Request) -> bool {
        let bucket_path = request.url.path().trim_end_matches('/');
        let bucket = format!("/{BUCKET}");
        match self.service() {
            Service::S3 => {
                let query = match self {
                    // The owner check (HeadBucket with ExpectedBucketOwner) follows a good
                    // HeadBucket only; it is not the HeadBucket whose tries a cell counts.
                    Op::HeadBucket => {
                        return request.method.as_str() == "HEAD"
                            && bucket_path == bucket
                            && !request.headers.contains_key("x-amz-expected-bucket-owner");
                    }
                    Op::GetBucketLocation => "location",
                    Op::GetBucketEncryption => "encryption",
                    Op::GetBucketPolicy => "policy",
                    _ => "publicAccessBlock",
                };
                request.method.as_str() == "GET"
                    && bucket_path == bucket
                    && request.url.query_pairs().any(|(k, _)| k == query)
            }
            Service::Kms => request
                .headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v == format!("TrentService.{}", self.operation())),
            Service::Iam | Service::Sts => String::from_utf8_lossy(&request.body)
                .contains(&format!("Action={}&", self.operation())),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The world: one attachment set up as IBM's procedure says
// ---------------------------------------------------------------------------------------------

/// What the good answers say; the default is the correct attachment.
#[derive(Debug, Clone)]
pub struct StubWorld {
    /// HeadBucket sends `x-amz-bucket-region` (S3 always does). Without it, the tool asks
    /// GetBucketLocation.
    pub head_region_header: bool,
    /// The bucket's default encryption names the key this way (`KMSMasterKeyID`).
    pub encryption_key_id: String,
}

impl Default for StubWorld {
    fn default() -> Self {
        StubWorld {
            head_region_header: true,
            encryption_key_id: KEY_ARN.to_string(),
        }
    }
}

/// The trust policy AoC shows, and the role has.
pub fn trust_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": AOC_PRINCIPAL },
            "Action": "sts:AssumeRole",
            "Condition": { "StringEquals": { "sts:ExternalId": EXTERNAL_ID } }
        }]
    })
}

/// The role's inline policy: the eight S3 actions AoC needs.
pub fn s3_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AocObjects",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject",
                           "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                "Resource": [format!("arn:aws:s3:::{BUCKET}/*")]
            },
            {
                "Sid": "AocBucket",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:GetBucketLocation"],
                "Resource": [format!("arn:aws:s3:::{BUCKET}")]
            }
        ]
    })
}

/// The role's managed policy: the KMS actions of the IBM procedure's sample.
pub fn kms_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AocKms",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt",
                       "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom",
                       "kms:ReEncryptTo", "kms:EnableKey"],
            "Resource": [KEY_ARN]
        }]
    })
}

/// The default key policy: delegate to IAM through the account root.
pub fn key_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{ACCOUNT}:root") },
            "Action": "kms:*",
            "Resource": "*"
        }]
    })
}

/// The usual TLS-only bucket policy: harmless to AoC, which uses TLS.
pub fn bucket_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [format!("arn:aws:s3:::{BUCKET}"), format!("arn:aws:s3:::{BUCKET}/*")],
            "Condition": { "Bool": { "aws:SecureTransport": "false" } }
        }]
    })
}

/// RFC 3986 unreserved characters stay; everything else is percent-encoded, as IAM does.
const IAM_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A policy document as IAM returns it: URL-encoded JSON.
pub fn iam_encoded(document: &str) -> String {
    utf8_percent_encode(document, IAM_ENCODE).to_string()
}

/// A policy document that is not JSON: cut off in the middle of a statement.
pub const NOT_JSON_POLICY: &str =
    r#"{"Version": "2012-10-17", "Statement": [{"Sid": "Cut", "Effect": "Allow", "Action": "#;

/// Text escaped for an XML element.
fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const S3_NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";
const IAM_NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// An HTTP answer, kept as parts so that a test can also send it cut off.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub content_type: &'static str,
    pub body: String,
}

impl Answer {
    fn new(status: u16, content_type: &'static str, body: String) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            content_type,
            body,
        }
    }

    fn header(mut self, name: &'static str, value: &str) -> Answer {
        self.headers.push((name, value.to_string()));
        self
    }

    fn s3(status: u16, body: String) -> Answer {
        Answer::new(status, "application/xml", body)
            .header("x-amz-request-id", "7Q2DDMSTUB0REQ01")
            .header("x-amz-id-2", "c3R1YiBob3N0IGlk")
    }

    fn kms(status: u16, body: Value) -> Answer {
        Answer::new(status, "application/x-amz-json-1.1", body.to_string())
            .header("x-amzn-RequestId", REQUEST_ID)
    }

    fn query(status: u16, body: String) -> Answer {
        Answer::new(status, "text/xml", body).header("x-amzn-RequestId", REQUEST_ID)
    }

    /// An awsQuery answer: `<OpResponse><OpResult>result</OpResult><ResponseMetadata>`.
    fn query_ok(service: Service, operation: &str, result: &str) -> Answer {
        let ns = if service == Service::Sts {
            STS_NS
        } else {
            IAM_NS
        };
        Answer::query(
            200,
            format!(
                "<{operation}Response xmlns=\"{ns}\">\n  <{operation}Result>\n{result}\n  </{operation}Result>\n  \
                 <ResponseMetadata>\n    <RequestId>{REQUEST_ID}</RequestId>\n  </ResponseMetadata>\n</{operation}Response>\n"
            ),
        )
    }

    /// The same answer with only the first half of its body.
    pub fn truncated(mut self) -> Answer {
        let mut cut = self.body.len() / 2;
        while !self.body.is_char_boundary(cut) {
            cut -= 1;
        }
        self.body.truncate(cut);
        self
    }

    pub fn template(&self) -> ResponseTemplate {
        let mut r = ResponseTemplate::new(self.status);
        for (name, value) in &self.headers {
            r = r.insert_header(*name, value.as_str());
        }
        if self.body.is_empty() {
            r
        } else {
            r.set_body_raw(self.body.clone(), self.content_type)
        }
    }
}

impl StubWorld {
    /// The policy document the operation returns in the correct world (as JSON text, before
    /// any encoding), for the policy-returning operations.
    pub fn policy_of(&self, op: Op) -> Option<String> {
        match op {
            Op::GetBucketPolicy => Some(bucket_policy().to_string()),
            Op::GetKeyPolicy => Some(key_policy().to_string()),
            Op::GetRole => Some(trust_policy().to_string()),
            Op::GetRolePolicy => Some(s3_policy().to_string()),
            Op::GetPolicyVersion => Some(kms_policy().to_string()),
            _ => None,
        }
    }

    /// The correct answer to `op`.
    pub fn ok(&self, op: Op) -> Answer {
        match self.policy_of(op) {
            Some(policy) if op.service() == Service::Iam => self.answer(op, &iam_encoded(&policy)),
            Some(policy) => self.answer(op, &policy),
            None => self.answer(op, ""),
        }
    }

    /// The answer to `op` with a policy document that is not JSON (URL-encoded for IAM, as
    /// IAM sends every document).
    pub fn not_json_policy(&self, op: Op) -> Answer {
        match op.service() {
            Service::Iam => self.answer(op, &iam_encoded(NOT_JSON_POLICY)),
            _ => self.answer(op, NOT_JSON_POLICY),
        }
    }

    /// The correct answer to `op`, carrying `policy` as its policy document, as is (IAM's are
    /// URL-encoded by the caller).
    pub fn answer(&self, op: Op, policy: &str) -> Answer {
        let policy_xml = xml_escape(policy);
        match op {
            Op::GetCallerIdentity => Answer::query_ok(
                Service::Sts,
                "GetCallerIdentity",
                &format!(
                    "    <Arn>{CALLER_ARN}</Arn>\n    <UserId>AIDACKCEVSQ6C2EXAMPLE</UserId>\n    \
                     <Account>{ACCOUNT}</Account>"
                ),
            ),
            Op::HeadBucket => {
                let mut r =
                    Answer::s3(200, String::new()).header("x-amz-access-point-alias", "false");
                if self.head_region_header {
                    r = r.header("x-amz-bucket-region", REGION);
                }
                r
            }
            // us-east-1's constraint is empty (S3 API Reference, GetBucketLocation).
            Op::GetBucketLocation => Answer::s3(
                200,
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"{S3_NS}\"/>"
                ),
            ),
            Op::GetBucketEncryption => Answer::s3(
                200,
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                     <ServerSideEncryptionConfiguration xmlns=\"{S3_NS}\">\n  <Rule>\n    \
                     <ApplyServerSideEncryptionByDefault>\n      <SSEAlgorithm>aws:kms</SSEAlgorithm>\n      \
                     <KMSMasterKeyID>{}</KMSMasterKeyID>\n    </ApplyServerSideEncryptionByDefault>\n    \
                     <BucketKeyEnabled>true</BucketKeyEnabled>\n  </Rule>\n</ServerSideEncryptionConfiguration>",
                    xml_escape(&self.encryption_key_id)
                ),
            ),
            // The payload is the policy itself.
            Op::GetBucketPolicy => Answer::new(200, "application/json", policy.to_string())
                .header("x-amz-request-id", "7Q2DDMSTUB0REQ01"),
            Op::GetPublicAccessBlock => Answer::s3(
                200,
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                     <PublicAccessBlockConfiguration xmlns=\"{S3_NS}\">\n  \
                     <BlockPublicAcls>true</BlockPublicAcls>\n  <IgnorePublicAcls>true</IgnorePublicAcls>\n  \
                     <BlockPublicPolicy>true</BlockPublicPolicy>\n  <RestrictPublicBuckets>true</RestrictPublicBuckets>\n\
                     </PublicAccessBlockConfiguration>"
                ),
            ),
            Op::DescribeKey => Answer::kms(
                200,
                json!({
                    "KeyMetadata": {
                        "AWSAccountId": ACCOUNT,
                        "Arn": KEY_ARN,
                        "CreationDate": 1.700000000123E9,
                        "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
                        "Description": "Aspera on Cloud storage key",
                        "Enabled": true,
                        "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
                        "KeyId": KEY_ID,
                        "KeyManager": "CUSTOMER",
                        "KeySpec": "SYMMETRIC_DEFAULT",
                        "KeyState": "Enabled",
                        "KeyUsage": "ENCRYPT_DECRYPT",
                        "MultiRegion": false,
                        "Origin": "AWS_KMS"
                    }
                }),
            ),
            Op::ListAliases => Answer::kms(
                200,
                json!({
                    "Aliases": [{
                        "AliasArn": ALIAS_ARN,
                        "AliasName": ALIAS_NAME,
                        "TargetKeyId": KEY_ID,
                        "CreationDate": 1.700000000456E9,
                        "LastUpdatedDate": 1.700000000456E9
                    }],
                    "Truncated": false
                }),
            ),
            Op::GetKeyPolicy => {
                Answer::kms(200, json!({ "Policy": policy, "PolicyName": "default" }))
            }
            Op::GetRole => Answer::query_ok(
                Service::Iam,
                "GetRole",
                &format!(
                    "    <Role>\n      <Path>/</Path>\n      <AssumeRolePolicyDocument>{policy_xml}</AssumeRolePolicyDocument>\n      \
                     <MaxSessionDuration>3600</MaxSessionDuration>\n      <RoleId>{ROLE_ID}</RoleId>\n      \
                     <RoleLastUsed/>\n      <RoleName>{ROLE_NAME}</RoleName>\n      <Arn>{ROLE_ARN}</Arn>\n      \
                     <CreateDate>2024-05-02T10:11:12Z</CreateDate>\n      <Description>Aspera on Cloud storage access</Description>\n    </Role>"
                ),
            ),
            Op::ListRolePolicies => Answer::query_ok(
                Service::Iam,
                "ListRolePolicies",
                &format!(
                    "    <PolicyNames>\n      <member>{INLINE_POLICY}</member>\n    </PolicyNames>\n    \
                     <IsTruncated>false</IsTruncated>"
                ),
            ),
            Op::GetRolePolicy => Answer::query_ok(
                Service::Iam,
                "GetRolePolicy",
                &format!(
                    "    <PolicyName>{INLINE_POLICY}</PolicyName>\n    <RoleName>{ROLE_NAME}</RoleName>\n    \
                     <PolicyDocument>{policy_xml}</PolicyDocument>"
                ),
            ),
            Op::ListAttachedRolePolicies => Answer::query_ok(
                Service::Iam,
                "ListAttachedRolePolicies",
                &format!(
                    "    <AttachedPolicies>\n      <member>\n        <PolicyName>aoc-kms-access</PolicyName>\n        \
                     <PolicyArn>{MANAGED_POLICY_ARN}</PolicyArn>\n      </member>\n    </AttachedPolicies>\n    \
                     <IsTruncated>false</IsTruncated>"
                ),
            ),
            Op::GetPolicy => Answer::query_ok(
                Service::Iam,
                "GetPolicy",
                &format!(
                    "    <Policy>\n      <PolicyName>aoc-kms-access</PolicyName>\n      \
                     <DefaultVersionId>v2</DefaultVersionId>\n      <PolicyId>ANPATOCFCMSTUBPOLICY1</PolicyId>\n      \
                     <Path>/</Path>\n      <Arn>{MANAGED_POLICY_ARN}</Arn>\n      <AttachmentCount>1</AttachmentCount>\n      \
                     <PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount>\n      \
                     <IsAttachable>true</IsAttachable>\n      <CreateDate>2024-05-02T10:11:12Z</CreateDate>\n      \
                     <UpdateDate>2024-05-03T08:09:10Z</UpdateDate>\n    </Policy>"
                ),
            ),
            Op::GetPolicyVersion => Answer::query_ok(
                Service::Iam,
                "GetPolicyVersion",
                &format!(
                    "    <PolicyVersion>\n      <Document>{policy_xml}</Document>\n      \
                     <VersionId>v2</VersionId>\n      <IsDefaultVersion>true</IsDefaultVersion>\n      \
                     <CreateDate>2024-05-03T08:09:10Z</CreateDate>\n    </PolicyVersion>"
                ),
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors, in each protocol
// ---------------------------------------------------------------------------------------------

/// An AWS error answer to `op`: S3's `<Error>` XML (no body for HEAD), KMS's JSON `__type`,
/// IAM's and STS's `<ErrorResponse>`.
pub fn error(op: Op, status: u16, code: &str, message: &str) -> Answer {
    match op.service() {
        // A HEAD answer has no body: the SDK reads the status alone. To a caller it refuses
        // or sends elsewhere, S3 still says where the bucket is.
        Service::S3 if op == Op::HeadBucket => {
            let answer = Answer::s3(status, String::new());
            if matches!(status, 301 | 403) {
                answer.header("x-amz-bucket-region", REGION)
            } else {
                answer
            }
        }
        Service::S3 => Answer::s3(
            status,
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message>\
                 <BucketName>{BUCKET}</BucketName><RequestId>7Q2DDMSTUB0REQ01</RequestId>\
                 <HostId>c3R1YiBob3N0IGlk</HostId></Error>",
                xml_escape(message)
            ),
        ),
        Service::Kms => Answer::kms(status, json!({ "__type": code, "message": message }))
            .header("x-amzn-ErrorType", code),
        Service::Iam | Service::Sts => {
            let ns = if op.service() == Service::Sts {
                STS_NS
            } else {
                IAM_NS
            };
            let kind = if status >= 500 { "Receiver" } else { "Sender" };
            Answer::query(
                status,
                format!(
                    "<ErrorResponse xmlns=\"{ns}\">\n  <Error>\n    <Type>{kind}</Type>\n    <Code>{code}</Code>\n    \
                     <Message>{}</Message>\n  </Error>\n  <RequestId>{REQUEST_ID}</RequestId>\n</ErrorResponse>\n",
                    xml_escape(message)
                ),
            )
        }
    }
}

/// Each service's own words for a fault.
pub struct Flavour {
    /// HTTP 500: S3 `InternalError`, KMS `KMSInternalException`, IAM `ServiceFailure`, STS
    /// `InternalFailure`.
    pub internal: (u16, &'static str, &'static str),
    /// Throttling: S3 503 `SlowDown`, KMS 400 `ThrottlingException`, IAM and STS 400
    /// `Throttling`.
    pub throttle: (u16, &'static str, &'static str),
    /// Refusal: S3, IAM and STS 403 `AccessDenied`; KMS 400 `AccessDeniedException`.
    pub denied: (u16, &'static str),
}

pub fn flavour(service: Service) -> Flavour {
    match service {
        Service::S3 => Flavour {
            internal: (
                500,
                "InternalError",
                "We encountered an internal error. Please try again.",
            ),
            throttle: (503, "SlowDown", "Please reduce your request rate."),
            denied: (403, "AccessDenied"),
        },
        Service::Kms => Flavour {
            internal: (500, "KMSInternalException", "An internal error occurred."),
            throttle: (400, "ThrottlingException", "Rate exceeded"),
            denied: (400, "AccessDeniedException"),
        },
        Service::Iam => Flavour {
            internal: (
                500,
                "ServiceFailure",
                "The request processing has failed because of an unknown error.",
            ),
            throttle: (400, "Throttling", "Rate exceeded"),
            denied: (403, "AccessDenied"),
        },
        Service::Sts => Flavour {
            internal: (
                500,
                "InternalFailure",
                "The request processing has failed because of an unknown error.",
            ),
            throttle: (400, "Throttling", "Rate exceeded"),
            denied: (403, "AccessDenied"),
        },
    }
}

/// The refusal AWS sends a caller without the permission for `op`.
pub fn access_denied(op: Op) -> Answer {
    let (status, code) = flavour(op.service()).denied;
    let message = format!(
        "User: {CALLER_ARN} is not authorized to perform: {} because no identity-based policy allows the {} action",
        op.permission(),
        op.permission()
    );
    error(op, status, code, &message)
}

// ---------------------------------------------------------------------------------------------
// AWS Organizations (awsJson1_1), outside [`Op::ALL`]: the fault matrix is about the
// attachment's own reads; the organization's are `skip` whenever they fail
// ---------------------------------------------------------------------------------------------

/// A mock matching one Organizations operation (`X-Amz-Target:
/// AWSOrganizationsV20161128.<operation>`).
pub fn organizations(operation: &str) -> MockBuilder {
    Mock::given(method("POST")).and(header(
        "x-amz-target",
        format!("AWSOrganizationsV20161128.{operation}").as_str(),
    ))
}

/// An Organizations answer.
pub fn organizations_answer(status: u16, body: Value) -> Answer {
    Answer::kms(status, body)
}

/// An Organizations error, in its JSON protocol.
pub fn organizations_error(status: u16, code: &str, message: &str) -> Answer {
    Answer::kms(status, json!({ "__type": code, "Message": message }))
        .header("x-amzn-ErrorType", code)
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/// A wiremock server on 127.0.0.1 with its own runtime, usable from a plain `#[test]`: the
/// runtime's worker serves requests while the test thread runs the binary.
pub struct StubAws {
    runtime: tokio::runtime::Runtime,
    server: MockServer,
    pub world: StubWorld,
}

impl StubAws {
    /// A server answering every operation correctly for `world`.
    pub fn start(world: StubWorld) -> StubAws {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime for the stub");
        // A server of its own, not one from wiremock's pool: faults never leak between tests.
        let server = runtime.block_on(MockServer::builder().start());
        let stub = StubAws {
            runtime,
            server,
            world,
        };
        for op in Op::ALL {
            stub.mount(
                op.given()
                    .respond_with(stub.world.ok(op).template())
                    .with_priority(GOOD_PRIORITY)
                    .named(format!("{} (good)", op.name())),
            );
        }
        // ListBuckets (`GET /`), called only for a bucket that does not exist: the caller
        // owns the one bucket. Outside the fault matrix, like Organizations: its failure only
        // costs a suggestion.
        stub.mount(
            Mock::given(method("GET"))
                .and(path_regex("^/$"))
                .respond_with(
                    Answer::s3(
                        200,
                        format!(
                            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult xmlns=\"{S3_NS}\">\
                             <Owner><ID>stubowner</ID></Owner><Buckets><Bucket><Name>{BUCKET}</Name>\
                             <CreationDate>2024-01-01T00:00:00.000Z</CreationDate></Bucket></Buckets>\
                             </ListAllMyBucketsResult>"
                        ),
                    )
                    .template(),
                )
                .with_priority(GOOD_PRIORITY)
                .named("s3:ListBuckets (good)"),
        );
        // The stub's account is in no organization, as AWS answers then.
        stub.mount(
            organizations("DescribeOrganization")
                .respond_with(
                    organizations_error(
                        400,
                        "AWSOrganizationsNotInUseException",
                        "Your account is not a member of an organization.",
                    )
                    .template(),
                )
                .with_priority(GOOD_PRIORITY)
                .named("organizations:DescribeOrganization (not in an organization)"),
        );
        stub
    }

    pub fn mount(&self, mock: Mock) {
        self.runtime.block_on(mock.mount(&self.server));
    }

    /// Makes `op` answer `response` every time.
    pub fn fail_always(&self, op: Op, response: ResponseTemplate) {
        self.mount(op.given().respond_with(response).with_priority(1));
    }

    /// Makes `op` answer `response` the first `n` times, then correctly.
    pub fn fail_first(&self, op: Op, n: u64, response: ResponseTemplate) {
        self.mount(
            op.given()
                .respond_with(response)
                .up_to_n_times(n)
                .with_priority(1),
        );
    }

    pub fn endpoint(&self) -> String {
        self.server.uri()
    }

    /// Every request the server received, in order.
    pub fn received(&self) -> Vec<wiremock::Request> {
        self.runtime
            .block_on(self.server.received_requests())
            .unwrap_or_default()
    }

    /// How many requests for `op` the server received.
    pub fn requests(&self, op: Op) -> usize {
        self.received().iter().filter(|r| op.matches(r)).count()
    }

    /// The live command against this server, with the attachment's flags.
    pub fn cmd(&self) -> LiveCmd {
        LiveCmd::new(&self.endpoint()).args(attachment_args())
    }
}

/// The attachment's flags, as the admin would give them (AoC's external ID and principal
/// instead of its trust policy file).
pub fn attachment_args() -> Vec<OsString> {
    [
        "--region",
        REGION,
        "--bucket",
        BUCKET,
        "--kms-key",
        KEY_ARN,
        "--role-arn",
        ROLE_ARN,
        "--external-id",
        EXTERNAL_ID,
        "--aoc-principal",
        AOC_PRINCIPAL,
    ]
    .iter()
    .map(OsString::from)
    .collect()
}
