//! The call recorder: every AWS call of a run goes through a [`Caller`], which holds it to the
//! run's deadline, classifies its error and records it as a [`CallRecord`], the report's
//! evidence and critical path.
//!
//! A call is named by an [`Operation`], and operations are declared only with
//! [`operations!`], which lists every one of a module's operations in its `ALL`: so the
//! list of what the tool calls is the list of what its code can call, and `permissions` is
//! checked against it.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use super::Missing;
use super::errors::{CallError, ErrorKind, NOT_SENT, classify};
use crate::model::facts::{CallRecord, Fact};

/// An AWS operation the gather layer calls. Implemented by [`operations!`] only.
pub(in crate::gather) trait Operation: Copy {
    /// The name recorded and listed: the service and the API name (`s3:HeadBucket`).
    fn name(self) -> &'static str;
}

/// Declares a module's AWS operations as an enum the [`Caller`] accepts, with `ALL`, every
/// variant in declaration order (built here, so that none can be left out of it).
macro_rules! operations {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($variant:ident => $api:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            $($variant,)+
        }

        impl $name {
            /// Every operation of this module, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];
        }

        impl $crate::gather::live::recorder::Operation for $name {
            fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $api,)+
                }
            }
        }
    };
}
pub(in crate::gather) use operations;

/// Runs calls under the overall deadline and records them.
pub(in crate::gather) struct Caller {
    calls: Mutex<Vec<CallRecord>>,
    deadline: tokio::time::Instant,
    timeout: Duration,
}

impl Caller {
    /// A recorder for one attachment's calls, all within `timeout` from now.
    pub fn new(timeout: Duration) -> Self {
        Caller {
            calls: Mutex::new(Vec::new()),
            deadline: tokio::time::Instant::now() + timeout,
            timeout,
        }
    }

    /// True once the overall deadline has passed: calls made now are not sent.
    pub fn out_of_time(&self) -> bool {
        tokio::time::Instant::now() >= self.deadline
    }

    /// The calls made, in the order they ended.
    pub fn into_records(self) -> Vec<CallRecord> {
        self.calls.into_inner().unwrap_or_default()
    }

    /// Runs one call under the deadline and records it. `depth` is the call's place in its
    /// chain of dependent calls (1 for a call that waits on none), for the critical path.
    pub async fn call<T, E, F>(
        &self,
        operation: impl Operation,
        target: &str,
        depth: u32,
        fut: F,
    ) -> Result<T, CallError>
    where
        F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let started = Instant::now();
        let result = self.within_deadline(fut).await;
        // A call the deadline stopped before it started sent nothing: not a request.
        if !matches!(&result, Err(e) if e.code == NOT_SENT) {
            self.record(operation, target, depth, started, &result);
        }
        result
    }

    /// The next page of a paginated list call. The paginator's final `None` sends no request,
    /// so it is not recorded as one.
    pub async fn page<T, E, F>(
        &self,
        operation: impl Operation,
        target: &str,
        depth: u32,
        next: F,
    ) -> Result<Option<T>, CallError>
    where
        F: Future<Output = Option<Result<T, SdkError<E, HttpResponse>>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let started = Instant::now();
        let result = self.within_deadline(async { next.await.transpose() }).await;
        let not_sent = matches!(&result, Err(e) if e.code == NOT_SENT);
        if !matches!(result, Ok(None)) && !not_sent {
            self.record(operation, target, depth, started, &result);
        }
        result
    }

    async fn within_deadline<T, E, F>(&self, fut: F) -> Result<T, CallError>
    where
        F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if tokio::time::Instant::now() >= self.deadline {
            return Err(CallError {
                code: NOT_SENT.to_string(),
                message: "not sent: the --timeout was used up by earlier calls".to_string(),
                status: None,
                bucket_region: None,
                kind: ErrorKind::Timeout,
            });
        }
        match tokio::time::timeout_at(self.deadline, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(classify(e)),
            Err(_) => Err(CallError {
                code: String::new(),
                message: "overall --timeout reached".to_string(),
                status: None,
                bucket_region: None,
                kind: ErrorKind::Timeout,
            }),
        }
    }

    fn record<T>(
        &self,
        operation: impl Operation,
        target: &str,
        depth: u32,
        started: Instant,
        result: &Result<T, CallError>,
    ) {
        let outcome = match result {
            Ok(_) => "ok".to_string(),
            Err(e) if e.kind == ErrorKind::Timeout => "timeout".to_string(),
            Err(e) if !e.code.is_empty() => e.code.clone(),
            Err(e) => match e.status {
                Some(s) => format!("HTTP {s}"),
                None => "not sent".to_string(),
            },
        };
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(CallRecord {
                operation: operation.name().to_string(),
                target: target.to_string(),
                outcome,
                depth,
                millis: started.elapsed().as_millis() as u64,
            });
        }
    }

    /// The fact a call that needed `permission` on `resource` could not give.
    pub fn failed<T>(&self, e: &CallError, permission: &str, resource: &str) -> Fact<T> {
        Fact::Failed(e.failure(permission, resource, self.timeout))
    }

    /// [`Caller::failed`] for a whole group of facts that the failed call would have led to.
    pub(super) fn missing(&self, e: &CallError, permission: &str, resource: &str) -> Missing {
        Missing::Failed(e.failure(permission, resource, self.timeout))
    }
}
