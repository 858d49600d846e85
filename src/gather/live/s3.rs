//! The bucket's facts from S3: whether it exists and where (`HeadBucket`, else
//! `GetBucketLocation`), its default encryption, Block Public Access and policy, who owns it
//! (`HeadBucket` with `ExpectedBucketOwner`), and, for a bucket that does not exist, the
//! caller's own buckets to suggest the name meant.

use super::errors::{CallError, CompleteXml, ErrorKind};
use super::recorder::{Caller, operations};
use super::{LiveOptions, MapSome, Missing, policy_fact};
use crate::model::Values;
use crate::model::facts::{BucketEncryption, BucketHead, Fact, Failure, PublicAccessBlock};
use crate::policy::NamedPolicy;

operations! {
    /// The S3 reads (`ListBuckets` only for a bucket that does not exist).
    pub enum S3Read {
        HeadBucket => "s3:HeadBucket",
        GetBucketLocation => "s3:GetBucketLocation",
        GetBucketEncryption => "s3:GetBucketEncryption",
        GetBucketPolicy => "s3:GetBucketPolicy",
        GetPublicAccessBlock => "s3:GetPublicAccessBlock",
        ListBuckets => "s3:ListBuckets",
    }
}

#[derive(Clone)]
pub(super) struct BucketFacts {
    pub head: Fact<BucketHead>,
    pub region: Fact<String>,
    pub encryption: Fact<Option<BucketEncryption>>,
    pub public_access: Fact<Option<PublicAccessBlock>>,
    pub policy: Fact<Option<NamedPolicy>>,
    /// The caller's buckets, listed only when the bucket does not exist.
    pub listed: Fact<Vec<String>>,
    pub owner: Fact<String>,
    pub not_owned_by: Vec<String>,
}

impl BucketFacts {
    fn missing(head: Option<Fact<BucketHead>>, why: &Missing) -> Self {
        BucketFacts {
            head: head.unwrap_or_else(|| why.fact()),
            region: why.fact(),
            encryption: why.fact(),
            public_access: why.fact(),
            policy: why.fact(),
            listed: Fact::Unavailable("listed only when the bucket does not exist".into()),
            owner: why.fact(),
            not_owned_by: Vec::new(),
        }
    }
}

/// `GetBucketLocation`'s answer as a region name: empty is us-east-1, `EU` is eu-west-1
/// (S3 API Reference, GetBucketLocation).
pub fn normalize_location(constraint: &str) -> String {
    match constraint {
        "" => "us-east-1".to_string(),
        "EU" => "eu-west-1".to_string(),
        other => other.to_string(),
    }
}

pub(in crate::gather) fn s3_client(
    config: &aws_config::SdkConfig,
    opts: &LiveOptions,
    region: &str,
) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(config)
        .region(aws_sdk_s3::config::Region::new(region.to_string()))
        .force_path_style(opts.endpoint_url.is_some())
        .interceptor(CompleteXml)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// A HEAD answer has no body, so S3's own errors to it are a bare status, which the error
/// classification takes for something other than AWS answering: for HeadBucket that is how S3
/// speaks. (Whether a 404 came from S3 at all is judged with ListBuckets.)
fn bare_status_is_s3s(mut e: CallError) -> CallError {
    if e.kind == ErrorKind::NotAws {
        e.kind = ErrorKind::Service;
    }
    e
}

pub(super) async fn bucket_facts(
    caller: &Caller,
    config: &aws_config::SdkConfig,
    opts: &LiveOptions,
    values: &Values,
) -> BucketFacts {
    let Some(bucket) = values.bucket.as_deref() else {
        return BucketFacts::missing(
            None,
            &Missing::Unavailable("needs a well-formed bucket name (input.values)".to_string()),
        );
    };
    let bucket_arn = format!(
        "arn:{}:s3:::{bucket}",
        values.partition.as_deref().unwrap_or("aws")
    );
    let default_region = config
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "us-east-1".to_string());
    let s3 = s3_client(config, opts, &default_region);

    let head = caller
        .call(
            S3Read::HeadBucket,
            bucket,
            1,
            s3.head_bucket().bucket(bucket).send(),
        )
        .await
        .map_err(bare_status_is_s3s);
    let (head_fact, header_region) = match &head {
        Ok(out) => (
            Fact::Known(BucketHead {
                status: 200,
                region: out.bucket_region().map(str::to_string),
            }),
            out.bucket_region().map(str::to_string),
        ),
        // These statuses are answers about the bucket (301 another region, 403 not readable,
        // 404 no such bucket); any other error is the call failing, not a finding. (A 404
        // from something that is not S3 is told apart with ListBuckets below.)
        Err(e) if e.kind == ErrorKind::Service && matches!(e.status, Some(301 | 403 | 404)) => (
            Fact::Known(BucketHead {
                status: e.status.unwrap_or_default(),
                region: e.bucket_region.clone(),
            }),
            e.bucket_region.clone(),
        ),
        Err(e) => (
            caller.failed(e, "s3:ListBucket (HeadBucket)", &bucket_arn),
            e.bucket_region.clone(),
        ),
    };
    let status = head_fact.known().map(|h| h.status);
    let answered = match &head {
        Ok(_) => true,
        Err(e) => {
            matches!(e.kind, ErrorKind::Service | ErrorKind::Unreadable)
        }
    };
    if status == Some(404) {
        // A typo is the usual cause: the caller's own bucket list may hold the name meant.
        // Optional: a refusal only means no suggestion from it.
        let listed = caller
            .call(S3Read::ListBuckets, "", 2, s3.list_buckets().send())
            .await;
        // HeadBucket's bare 404 is S3's "no such bucket" only if the endpoint is S3: anything
        // at a wrong path or port answers 404 too. ListBuckets, sent to the same endpoint,
        // has a body, so it tells: an answer that is not AWS's (success or AWS error
        // document) means the 404 said nothing about the bucket. Without such a refutation
        // (ListBuckets answered by AWS, refused, or timed out) the 404 stands.
        if let Err(e) = &listed
            && e.kind == ErrorKind::NotAws
        {
            let why = caller.missing(e, "s3:ListBucket (HeadBucket)", &bucket_arn);
            return BucketFacts::missing(None, &why);
        }
        let mut facts = BucketFacts::missing(
            Some(head_fact),
            &Missing::Unavailable(format!(
                "the bucket {bucket} does not exist (bucket.reachable)"
            )),
        );
        facts.listed = match listed {
            Ok(out) => Fact::Known(
                out.buckets()
                    .iter()
                    .filter_map(|b| b.name().map(str::to_string))
                    .collect(),
            ),
            Err(e) => Fact::Unavailable(format!("s3:ListBuckets: {}", e.brief())),
        };
        return facts;
    }
    if !answered {
        // No answer at all: the reads below would fail the same way.
        let why = Missing::of(&head_fact);
        return BucketFacts::missing(Some(head_fact), &why);
    }

    // The region: from HeadBucket's header, else GetBucketLocation (one more round trip).
    let after_region = if header_region.is_some() { 2 } else { 3 };
    let region_fact = match header_region {
        Some(r) => Fact::Known(r),
        None => match caller
            .call(
                S3Read::GetBucketLocation,
                bucket,
                2,
                s3.get_bucket_location().bucket(bucket).send(),
            )
            .await
        {
            Ok(out) => Fact::Known(normalize_location(
                out.location_constraint().map(|c| c.as_str()).unwrap_or(""),
            )),
            Err(e) => caller.failed(&e, "s3:GetBucketLocation", &bucket_arn),
        },
    };
    // The reads below go to the bucket's region. When asking for it ran out of time they are
    // not sent, and say why; when it was refused, they go to the AoC region and may still work.
    if let (Fact::Failed(why), true) = (&region_fact, caller.out_of_time()) {
        let missing = Missing::Failed(Failure::new(
            why.kind,
            format!("needs the bucket's region: {}", why.message),
        ));
        let mut facts = BucketFacts::missing(Some(head_fact), &missing);
        facts.region = region_fact;
        return facts;
    }
    // Later calls go to the bucket's own region, whatever the default region is.
    let s3 = match region_fact.known() {
        Some(r) if *r != default_region => s3_client(config, opts, r),
        _ => s3,
    };

    let readable = matches!(status, Some(200 | 301));
    let (encryption, public_access, policy, owner) = tokio::join!(
        async {
            match caller
                .call(
                    S3Read::GetBucketEncryption,
                    bucket,
                    after_region,
                    s3.get_bucket_encryption().bucket(bucket).send(),
                )
                .await
            {
                Ok(out) => {
                    let rule = out
                        .server_side_encryption_configuration()
                        .and_then(|c| c.rules().first());
                    Fact::Known(rule.and_then(|r| {
                        r.apply_server_side_encryption_by_default()
                            .map(|d| BucketEncryption {
                                algorithm: d.sse_algorithm().as_str().to_string(),
                                kms_key_id: d.kms_master_key_id().map(str::to_string),
                                bucket_key_enabled: r.bucket_key_enabled().unwrap_or(false),
                            })
                    }))
                }
                Err(e) if e.is(&["ServerSideEncryptionConfigurationNotFoundError"]) => {
                    Fact::Known(None)
                }
                Err(e) => caller.failed(&e, "s3:GetEncryptionConfiguration", &bucket_arn),
            }
        },
        async {
            match caller
                .call(
                    S3Read::GetPublicAccessBlock,
                    bucket,
                    after_region,
                    s3.get_public_access_block().bucket(bucket).send(),
                )
                .await
            {
                Ok(out) => Fact::Known(out.public_access_block_configuration().map(|c| {
                    PublicAccessBlock {
                        block_public_acls: c.block_public_acls().unwrap_or(false),
                        ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
                        block_public_policy: c.block_public_policy().unwrap_or(false),
                        restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
                    }
                })),
                Err(e) if e.is(&["NoSuchPublicAccessBlockConfiguration"]) => Fact::Known(None),
                Err(e) => caller.failed(&e, "s3:GetBucketPublicAccessBlock", &bucket_arn),
            }
        },
        async {
            match caller
                .call(
                    S3Read::GetBucketPolicy,
                    bucket,
                    after_region,
                    s3.get_bucket_policy().bucket(bucket).send(),
                )
                .await
            {
                Ok(out) => match out.policy() {
                    Some(text) => {
                        policy_fact(text, format!("bucket policy of {bucket}")).map_some()
                    }
                    None => Fact::Known(None),
                },
                Err(e) if e.is(&["NoSuchBucketPolicy"]) => Fact::Known(None),
                Err(e) => caller.failed(&e, "s3:GetBucketPolicy", &bucket_arn),
            }
        },
        bucket_owner(caller, &s3, bucket, values, readable, after_region),
    );
    let (owner, not_owned_by) = owner;

    BucketFacts {
        head: head_fact,
        region: region_fact,
        encryption,
        public_access,
        policy,
        listed: Fact::Unavailable("listed only when the bucket does not exist".into()),
        owner,
        not_owned_by,
    }
}

/// Who owns the bucket, established rather than guessed: HeadBucket with `ExpectedBucketOwner`
/// set to the role's account succeeds only when that account owns the bucket, and answers 403
/// when another does (S3 User Guide, "Verifying bucket ownership with bucket owner condition",
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html>).
/// Also returns the accounts known not to own it.
async fn bucket_owner(
    caller: &Caller,
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    values: &Values,
    readable: bool,
    depth: u32,
) -> (Fact<String>, Vec<String>) {
    let Some(account) = values.role.as_ref().map(|r| r.account.clone()) else {
        return (
            Fact::Unavailable("needs a well-formed role ARN (input.values)".into()),
            Vec::new(),
        );
    };
    // Without read access a 403 would not tell another owner from a refusal.
    if !readable {
        return (
            Fact::Unavailable(
                "not established: HeadBucket is refused to the tool (bucket.reachable)".into(),
            ),
            Vec::new(),
        );
    }
    let asked = caller
        .call(
            S3Read::HeadBucket,
            &format!("{bucket} (ExpectedBucketOwner {account})"),
            depth,
            s3.head_bucket()
                .bucket(bucket)
                .expected_bucket_owner(&account)
                .send(),
        )
        .await
        .map_err(bare_status_is_s3s);
    match asked {
        Ok(_) => (Fact::Known(account), Vec::new()),
        Err(e) if e.kind == ErrorKind::Service && e.status == Some(403) => (
            Fact::Unavailable(format!(
                "not the role's account {account} (HeadBucket with ExpectedBucketOwner {account} answered 403); which account owns it is not known"
            )),
            vec![account],
        ),
        Err(e) => (
            Fact::Unavailable(format!(
                "not established: HeadBucket with ExpectedBucketOwner answered {}",
                e.brief()
            )),
            Vec::new(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_normalise() {
        assert_eq!(normalize_location(""), "us-east-1");
        assert_eq!(normalize_location("EU"), "eu-west-1");
        assert_eq!(normalize_location("ap-south-1"), "ap-south-1");
    }
}
