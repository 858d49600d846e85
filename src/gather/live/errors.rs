//! What a failed AWS call was: the SDK's error classified into a [`CallError`] (answered,
//! timed out, not sent, unreadable), the [`Failure`] the facts carry, and the check that turns
//! a cut-short XML answer into an error instead of a silently partial one.

use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use crate::model::facts::{Failure, FailureKind};

/// A failed call, classified.
#[derive(Debug, Clone)]
pub(in crate::gather) struct CallError {
    /// AWS's error code (`AccessDenied`, `NoSuchBucket`, ...), or empty.
    pub code: String,
    pub message: String,
    pub status: Option<u16>,
    /// `x-amz-bucket-region`, which S3 sends even on 403 and 301.
    pub bucket_region: Option<String>,
    pub kind: ErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::gather) enum ErrorKind {
    /// AWS answered with an error.
    Service,
    /// No answer in time.
    Timeout,
    /// Could not connect or send (DNS, refused, TLS, credentials).
    Transport,
    /// AWS answered, but the answer could not be read (malformed or truncated).
    Unreadable,
    /// Something answered with an error status, but not as AWS does: no AWS error document
    /// (a web server's 404 page, an empty body, HTML from a proxy). The endpoint is wrong.
    NotAws,
}

impl CallError {
    pub fn is(&self, codes: &[&str]) -> bool {
        codes.iter().any(|c| self.code == *c)
    }

    /// The credentials themselves are the problem (none found, unknown key, bad signature,
    /// expired), rather than a permission or the network.
    pub fn credentials_problem(&self) -> bool {
        match self.kind {
            ErrorKind::Transport => self.message.to_ascii_lowercase().contains("credential"),
            ErrorKind::Service => self.is(&[
                "InvalidClientTokenId",
                "SignatureDoesNotMatch",
                "ExpiredToken",
                "ExpiredTokenException",
                "InvalidAccessKeyId",
                "UnrecognizedClientException",
                "AuthFailure",
            ]),
            ErrorKind::Timeout | ErrorKind::Unreadable | ErrorKind::NotAws => false,
        }
    }

    fn access_denied(&self) -> bool {
        self.status == Some(403)
            || self.code.contains("AccessDenied")
            || self.code == "UnauthorizedOperation"
    }

    /// What AWS answered, in a few words: `AccessDenied (HTTP 403): message`.
    pub fn brief(&self) -> String {
        match self.kind {
            ErrorKind::Timeout => return "no answer in time".to_string(),
            ErrorKind::Unreadable => return "AWS's answer could not be read".to_string(),
            ErrorKind::NotAws => {
                return format!(
                    "HTTP {} without an AWS error (not an AWS endpoint)",
                    self.status.unwrap_or_default()
                );
            }
            _ => {}
        }
        let mut out = self.code.clone();
        if let Some(s) = self.status {
            if out.is_empty() {
                out = format!("HTTP {s}");
            } else {
                out.push_str(&format!(" (HTTP {s})"));
            }
        }
        // The SDK's text for an unmodelled error says nothing more than the status.
        if !self.message.is_empty() && !self.message.contains("unhandled error") {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&self.message);
        }
        if out.is_empty() {
            self.message.clone()
        } else {
            out
        }
    }

    /// What kind of failure this is, most specific first: credentials that do not work
    /// also come back as 403, so they are told apart before a refusal.
    pub fn failure_kind(&self) -> FailureKind {
        let expired = match self.kind {
            ErrorKind::Service => self.is(&["ExpiredToken", "ExpiredTokenException"]),
            _ => self.message.to_ascii_lowercase().contains("expired"),
        };
        match self.kind {
            ErrorKind::Timeout => FailureKind::Timeout,
            ErrorKind::Unreadable => FailureKind::Unreadable,
            ErrorKind::NotAws => FailureKind::Endpoint,
            _ if self.credentials_problem() && expired => FailureKind::ExpiredCredentials,
            _ if self.credentials_problem() => FailureKind::Credentials,
            ErrorKind::Transport => FailureKind::Network,
            ErrorKind::Service if self.access_denied() => FailureKind::AccessDenied,
            ErrorKind::Service => FailureKind::Service,
        }
    }

    /// The `Fact::Failed` of a call that needed `permission` on `resource`.
    pub fn failure(&self, permission: &str, resource: &str, timeout: Duration) -> Failure {
        Failure::new(
            self.failure_kind(),
            self.explain(permission, resource, timeout),
        )
    }

    /// The `Fact::Failed` text: what happened and what to do.
    fn explain(&self, permission: &str, resource: &str, timeout: Duration) -> String {
        match self.kind {
            ErrorKind::Timeout => format!(
                "{permission} on {resource} did not answer within {} s (check the network or --endpoint-url, or raise --timeout)",
                timeout.as_secs()
            ),
            ErrorKind::Transport => format!(
                "{permission} could not be sent: {} (check the credentials, the network and --endpoint-url)",
                self.message
            ),
            ErrorKind::Unreadable => format!(
                "{permission} on {resource}: AWS's answer could not be read (malformed or truncated{}); run again, and check --endpoint-url if it persists",
                self.status
                    .map(|s| format!(", HTTP {s}"))
                    .unwrap_or_default()
            ),
            ErrorKind::NotAws => format!(
                "{permission} on {resource}: the endpoint answered HTTP {} but not as AWS does (no AWS error in the answer); check --endpoint-url (host, port and path) or AWS_ENDPOINT_URL",
                self.status.unwrap_or_default()
            ),
            // Rejected credentials also come back as 403: no permission would help.
            ErrorKind::Service if self.credentials_problem() => format!(
                "{permission} on {resource}: AWS rejected the tool's credentials ({})",
                self.brief()
            ),
            ErrorKind::Service if self.access_denied() => format!(
                "the tool needs {permission} on {resource} (AWS answered {}{}); `aoc-preflight permissions` prints the policy to grant",
                self.status.map(|s| s.to_string()).unwrap_or_default(),
                if self.code.is_empty() {
                    String::new()
                } else {
                    format!(" {}", self.code)
                }
            ),
            ErrorKind::Service => format!(
                "{permission} on {resource} failed: {}{}",
                if self.code.is_empty() {
                    format!("HTTP {}", self.status.unwrap_or(0))
                } else {
                    self.code.clone()
                },
                if self.message.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", self.message)
                }
            ),
        }
    }
}

pub(super) fn classify<E>(err: SdkError<E, HttpResponse>) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let bucket_region = err
        .raw_response()
        .and_then(|r| r.headers().get("x-amz-bucket-region"))
        .map(str::to_string);
    let code = err.code().unwrap_or_default().to_string();
    let message = err.message().unwrap_or_default().to_string();
    let kind = match &err {
        SdkError::TimeoutError(_) => ErrorKind::Timeout,
        SdkError::DispatchFailure(d) if d.is_timeout() => ErrorKind::Timeout,
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => ErrorKind::Transport,
        // AWS's error answers carry an error document (or, in JSON protocols, may name the
        // error in a header). An error status without either is not AWS speaking: a wrong
        // path or port answered. The SDK's code does not tell: S3's parser makes one up
        // from the status (`NotFound`) for an empty body, and a body that is not AWS's may
        // not parse at all. A HEAD answer never has a body, so its callers judge it
        // themselves (see `s3::bucket_facts`).
        _ if !matches!(status, Some(200..=299))
            && err.raw_response().is_some_and(|r| {
                r.headers().get("x-amzn-errortype").is_none()
                    && !r.body().bytes().is_some_and(aws_error_document)
            }) =>
        {
            ErrorKind::NotAws
        }
        SdkError::ResponseError(_) => ErrorKind::Unreadable,
        _ if error_chain_contains(&err, INCOMPLETE_ANSWER) => ErrorKind::Unreadable,
        // A success status with an error means the body did not deserialize.
        _ if matches!(status, Some(200..=299)) => ErrorKind::Unreadable,
        _ => ErrorKind::Service,
    };
    let message = if message.is_empty() {
        // The chain of sources says what went wrong ("connection refused", "no credentials").
        let mut text = Vec::new();
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(e) = source {
            let s = e.to_string();
            if !text.contains(&s) {
                text.push(s);
            }
            source = e.source();
        }
        text.join(": ")
    } else {
        message
    };
    // Reports are line-oriented: the credential chain's "Attempted:" list spans lines.
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    CallError {
        code,
        message,
        status,
        bucket_region,
        kind,
    }
}

/// True when `body` is an error document as AWS's protocols write one: XML with a `Code`
/// (restXml, awsQuery) or a JSON object naming its type (awsJson, `__type` or `code`).
fn aws_error_document(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    let text = text.trim_start();
    if text.starts_with('<') {
        return text.contains("<Code>") && !text.to_ascii_lowercase().contains("<html");
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => ["__type", "code", "Code"]
            .iter()
            .any(|k| map.contains_key(*k)),
        _ => false,
    }
}

/// The code of a call the deadline stopped before it was sent.
pub(super) const NOT_SENT: &str = "NotSent";

/// True when `needle` appears in the error or one of its sources.
fn error_chain_contains(err: &(dyn std::error::Error + 'static), needle: &str) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.to_string().contains(needle) {
            return true;
        }
        source = e.source();
    }
    false
}

/// Rejects a successful answer whose XML document is not complete. The SDK's XML reader takes
/// a document cut short as if it were whole, filling what is missing with empty values: a
/// policy list cut off could silently drop a Deny, so such an answer must be an error.
#[derive(Debug)]
pub(super) struct CompleteXml;

/// The text that marks an answer [`CompleteXml`] rejected, for [`classify`].
const INCOMPLETE_ANSWER: &str = "the answer is not a complete XML document";

impl aws_sdk_s3::config::Intercept for CompleteXml {
    fn name(&self) -> &'static str {
        "CompleteXml"
    }

    fn read_after_deserialization(
        &self,
        context: &aws_sdk_s3::config::interceptors::AfterDeserializationInterceptorContextRef<'_>,
        _: &aws_sdk_s3::config::RuntimeComponents,
        _: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        let response = context.response();
        if !(200..300).contains(&response.status().as_u16()) {
            return Ok(());
        }
        // Streaming bodies (GetObject) are not in memory here; GetBucketPolicy answers JSON.
        let Some(bytes) = response.body().bytes() else {
            return Ok(());
        };
        let is_xml = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
        if is_xml && !xml_complete(bytes) {
            return Err(INCOMPLETE_ANSWER.into());
        }
        Ok(())
    }
}

/// True when `bytes` is one well-formed XML element (with optional prolog).
fn xml_complete(bytes: &[u8]) -> bool {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut depth: i64 = 0;
    let mut roots = 0;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(_)) => {
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
            }
            Ok(Event::End(_)) => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            Ok(Event::Empty(_)) if depth == 0 => roots += 1,
            Ok(Event::Eof) => return depth == 0 && roots == 1,
            Ok(_) => {}
            Err(_) => return false,
        }
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_and_cut_xml() {
        assert!(xml_complete(b"<?xml version=\"1.0\"?>\n<A><B>x</B></A>\n"));
        assert!(xml_complete(b"<A/>"));
        assert!(!xml_complete(b"<A><B>x</B>"));
        assert!(!xml_complete(b"<A><B>x</A>"));
        assert!(!xml_complete(b"<A></A><B></B>"));
        assert!(!xml_complete(b"not xml"));
    }

    fn answered(code: &str, status: u16) -> CallError {
        CallError {
            code: code.to_string(),
            message: String::new(),
            status: Some(status),
            bucket_region: None,
            kind: ErrorKind::Service,
        }
    }

    /// What the SDK gives for a request it could not send, with `source` as its cause.
    fn not_sent(source: &str) -> CallError {
        use aws_sdk_s3::error::ConnectorError;
        use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
        let err: SdkError<GetCallerIdentityError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::io(source.to_string().into()));
        classify(err)
    }

    #[test]
    fn only_aws_error_documents_are_aws_answers() {
        assert!(aws_error_document(
            b"<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code></Error>"
        ));
        assert!(aws_error_document(
            b"<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>"
        ));
        assert!(aws_error_document(
            br#"{"__type":"NotFoundException","message":"m"}"#
        ));
        assert!(!aws_error_document(b""));
        assert!(!aws_error_document(b"Not Found"));
        assert!(!aws_error_document(
            b"<html><body><h1>404 Not Found</h1><p><Code>x</Code></p></body></html>"
        ));
        assert!(!aws_error_document(br#"{"error":"not found"}"#));
    }

    #[test]
    fn failures_are_told_apart_by_kind() {
        use FailureKind::*;
        let cases = [
            (answered("AccessDenied", 403), AccessDenied),
            (answered("AccessDeniedException", 400), AccessDenied),
            (answered("InvalidClientTokenId", 403), Credentials),
            (answered("SignatureDoesNotMatch", 403), Credentials),
            (answered("ExpiredToken", 400), ExpiredCredentials),
            (answered("ExpiredTokenException", 400), ExpiredCredentials),
            (answered("Throttling", 400), Service),
            (answered("InternalError", 500), Service),
            (not_sent("Connection refused (os error 111)"), Network),
            (
                not_sent("dns error: failed to lookup address information"),
                Network,
            ),
            (
                not_sent("an error occurred while loading credentials: no profile"),
                Credentials,
            ),
            (
                not_sent("failed to load credentials: the SSO session has expired"),
                ExpiredCredentials,
            ),
        ];
        for (error, kind) in cases {
            assert_eq!(error.failure_kind(), kind, "{error:?}");
        }
        let timed_out = CallError {
            kind: ErrorKind::Timeout,
            ..answered("", 0)
        };
        assert_eq!(timed_out.failure_kind(), Timeout);
        let unreadable = CallError {
            kind: ErrorKind::Unreadable,
            ..answered("", 200)
        };
        assert_eq!(unreadable.failure_kind(), Unreadable);
        let not_aws = CallError {
            kind: ErrorKind::NotAws,
            ..answered("", 404)
        };
        assert_eq!(not_aws.failure_kind(), Endpoint);
        // The message is the one the report always gave; the kind is added.
        let refused = answered("AccessDenied", 403).failure(
            "kms:GetKeyPolicy",
            "arn:aws:kms:us-east-1:111122223333:key/k",
            Duration::from_secs(3),
        );
        assert_eq!(refused.kind, AccessDenied);
        let expired = answered("ExpiredToken", 403).failure(
            "iam:GetRole",
            "arn:aws:iam::111122223333:role/r",
            Duration::from_secs(3),
        );
        assert_eq!(expired.kind, ExpiredCredentials);
        assert!(
            expired
                .message
                .contains("AWS rejected the tool's credentials")
                && !expired.message.contains("needs")
                && !expired.message.contains("permissions"),
            "{}",
            expired.message
        );
        assert!(
            refused
                .message
                .starts_with("the tool needs kms:GetKeyPolicy on arn:aws:kms:"),
            "{}",
            refused.message
        );
    }
}
