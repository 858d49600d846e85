//! The end-to-end write probe, `--probe`: the one path of the tool that writes to AWS, and
//! reached only when `--probe` is given (live mode reads, and only reads, otherwise).
//!
//! As the tool's own credentials, under the attachment's path, it performs the operations ATS
//! performs: an SSE-KMS PutObject naming the key, a GetObject compared with what was written,
//! a multipart upload started, a part uploaded, the upload listed and aborted, and the object
//! deleted. It touches no other key, and cleans up even when a step fails or the user presses
//! Ctrl-C. `permissions --probe` grants these on the probe's own objects only.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;

use super::live::recorder::{Caller, Operation, operations};
use super::live::s3::s3_client;
use super::live::{CallError, ErrorKind, LiveOptions};
use crate::model::Values;
use crate::model::facts::{Fact, Facts, ProbeOutcome, ProbeStep};

operations! {
    /// The probe's calls, in the order it makes them.
    pub enum ProbeCall {
        PutObject => "s3:PutObject",
        GetObject => "s3:GetObject",
        CreateMultipartUpload => "s3:CreateMultipartUpload",
        UploadPart => "s3:UploadPart",
        ListMultipartUploads => "s3:ListMultipartUploads",
        AbortMultipartUpload => "s3:AbortMultipartUpload",
        DeleteObject => "s3:DeleteObject",
    }
}

/// Every operation the probe calls: what `permissions --probe` must grant besides the reads.
pub fn operations() -> Vec<&'static str> {
    ProbeCall::ALL.iter().map(|o| o.name()).collect()
}

/// Runs the probe for one attachment, after its reads: it needs the bucket's region and
/// uses the key's ARN as KMS resolved it.
pub(super) async fn probe(
    caller: &Caller,
    config: &aws_config::SdkConfig,
    opts: &LiveOptions,
    values: &Values,
    facts: &Facts,
) -> Fact<ProbeOutcome> {
    let (Some(bucket), Some(prefix)) = (values.bucket.as_deref(), values.prefix.as_deref()) else {
        return Fact::Unavailable("needs a well-formed bucket and path (input.values)".into());
    };
    let Some(region) = facts.bucket_region.known() else {
        return Fact::Unavailable("the bucket's region is not known (bucket.region)".into());
    };
    if facts.bucket_head.known().map(|h| h.status) == Some(404) {
        return Fact::Unavailable(format!(
            "the bucket {bucket} does not exist (bucket.reachable)"
        ));
    }
    let kms_key = facts
        .key
        .known()
        .and_then(|k| k.as_ref())
        .map(|k| k.arn.clone())
        .or_else(|| values.key.as_ref().and_then(|k| k.key_arn()));
    let s3 = s3_client(config, opts, region);
    let nonce = format!(
        "{:x}{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
        std::process::id()
    );
    let key = format!("{prefix}.aoc-preflight-probe-{nonce}");
    let body = format!("aoc-preflight probe {nonce}\n");
    let mut outcome = ProbeOutcome {
        object_key: key.clone(),
        ..ProbeOutcome::default()
    };
    let mut object_written = false;
    let mut upload_id: Option<String> = None;

    let steps = async {
        let mut put = s3
            .put_object()
            .bucket(bucket)
            .key(&key)
            .body(ByteStream::from(body.clone().into_bytes()))
            .server_side_encryption(ServerSideEncryption::AwsKms);
        if let Some(k) = &kms_key {
            put = put.ssekms_key_id(k);
        }
        match caller.call(ProbeCall::PutObject, &key, 1, put.send()).await {
            Ok(_) => {
                object_written = true;
                step(&mut outcome, "PutObject (SSE-KMS)", Ok("written".into()));
            }
            Err(e) => return step(&mut outcome, "PutObject (SSE-KMS)", Err(e)),
        }
        let read = caller
            .call(
                ProbeCall::GetObject,
                &key,
                2,
                s3.get_object().bucket(bucket).key(&key).send(),
            )
            .await;
        let read = match read {
            Ok(out) => match out.body.collect().await.map(|b| b.to_vec()) {
                Ok(bytes) if bytes == body.as_bytes() => Ok("read back, same bytes".into()),
                Ok(_) => Err(CallError {
                    code: "Mismatch".into(),
                    message: "the object read back differs from what was written".into(),
                    status: None,
                    bucket_region: None,
                    kind: ErrorKind::Service,
                }),
                Err(e) => Err(CallError {
                    code: String::new(),
                    message: format!("reading the body failed: {e}"),
                    status: None,
                    bucket_region: None,
                    kind: ErrorKind::Transport,
                }),
            },
            Err(e) => Err(e),
        };
        if !step(&mut outcome, "GetObject", read) {
            return false;
        }
        let mut create = s3
            .create_multipart_upload()
            .bucket(bucket)
            .key(&key)
            .server_side_encryption(ServerSideEncryption::AwsKms);
        if let Some(k) = &kms_key {
            create = create.ssekms_key_id(k);
        }
        match caller
            .call(ProbeCall::CreateMultipartUpload, &key, 3, create.send())
            .await
        {
            Ok(out) => {
                upload_id = out.upload_id().map(str::to_string);
                step(
                    &mut outcome,
                    "CreateMultipartUpload (SSE-KMS)",
                    Ok("started".into()),
                );
            }
            Err(e) => return step(&mut outcome, "CreateMultipartUpload (SSE-KMS)", Err(e)),
        }
        let Some(id) = upload_id.clone() else {
            return step(
                &mut outcome,
                "CreateMultipartUpload (SSE-KMS)",
                Err(CallError {
                    code: String::new(),
                    message: "no upload ID in the answer".into(),
                    status: None,
                    bucket_region: None,
                    kind: ErrorKind::Service,
                }),
            );
        };
        let part = caller
            .call(
                ProbeCall::UploadPart,
                &key,
                4,
                s3.upload_part()
                    .bucket(bucket)
                    .key(&key)
                    .upload_id(&id)
                    .part_number(1)
                    .body(ByteStream::from(body.clone().into_bytes()))
                    .send(),
            )
            .await
            .map(|_| "part 1 uploaded".to_string());
        if !step(&mut outcome, "UploadPart", part) {
            return false;
        }
        // ListMultipartUploads (what AoC lists to resume uploads) rather than ListParts:
        // both are needed by AoC, and moto answers ListParts with a document the SDK rejects.
        let listed = caller
            .call(
                ProbeCall::ListMultipartUploads,
                &key,
                5,
                s3.list_multipart_uploads()
                    .bucket(bucket)
                    .prefix(&key)
                    .send(),
            )
            .await
            .and_then(|out| {
                if out
                    .uploads()
                    .iter()
                    .any(|u| u.upload_id() == Some(id.as_str()))
                {
                    Ok("the upload is listed".to_string())
                } else {
                    Err(CallError {
                        code: "NotListed".into(),
                        message: "the upload just started is not listed".into(),
                        status: None,
                        bucket_region: None,
                        kind: ErrorKind::Service,
                    })
                }
            });
        if !step(&mut outcome, "ListMultipartUploads", listed) {
            return false;
        }
        let aborted = caller
            .call(
                ProbeCall::AbortMultipartUpload,
                &key,
                6,
                s3.abort_multipart_upload()
                    .bucket(bucket)
                    .key(&key)
                    .upload_id(&id)
                    .send(),
            )
            .await
            .map(|_| "aborted".to_string());
        if aborted.is_ok() {
            upload_id = None;
        }
        if !step(&mut outcome, "AbortMultipartUpload", aborted) {
            return false;
        }
        let deleted = caller
            .call(
                ProbeCall::DeleteObject,
                &key,
                7,
                s3.delete_object().bucket(bucket).key(&key).send(),
            )
            .await
            .map(|_| "deleted".to_string());
        if deleted.is_ok() {
            object_written = false;
        }
        step(&mut outcome, "DeleteObject", deleted)
    };
    // Ctrl-C stops the steps, never the clean-up below.
    tokio::select! {
        _ = steps => {}
        _ = tokio::signal::ctrl_c() => {
            outcome.steps.push(ProbeStep {
                step: "interrupted".into(),
                ok: false,
                detail: "Ctrl-C: stopped and cleaned up".into(),
            });
        }
    }

    // Clean up whatever a failed or interrupted run left.
    if let Some(id) = upload_id {
        let r = caller
            .call(
                ProbeCall::AbortMultipartUpload,
                &key,
                8,
                s3.abort_multipart_upload()
                    .bucket(bucket)
                    .key(&key)
                    .upload_id(&id)
                    .send(),
            )
            .await;
        if r.is_err() {
            outcome
                .left_behind
                .push(format!("multipart upload {id} of s3://{bucket}/{key}"));
        }
    }
    if object_written {
        let r = caller
            .call(
                ProbeCall::DeleteObject,
                &key,
                8,
                s3.delete_object().bucket(bucket).key(&key).send(),
            )
            .await;
        if r.is_err() {
            outcome.left_behind.push(format!("s3://{bucket}/{key}"));
        }
    }
    Fact::Known(outcome)
}

/// Records a probe step; true when it succeeded.
fn step(outcome: &mut ProbeOutcome, name: &str, result: Result<String, CallError>) -> bool {
    let (ok, detail) = match result {
        Ok(d) => (true, d),
        Err(e) => (false, e.brief()),
    };
    outcome.steps.push(ProbeStep {
        step: name.to_string(),
        ok,
        detail,
    });
    ok
}
