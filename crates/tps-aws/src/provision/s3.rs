//! Tenant S3 buckets.

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint,
    CreateBucketConfiguration, ExpirationStatus, LifecycleRule, LifecycleRuleFilter,
    ObjectOwnership, OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, Tag, Tagging, Transition, TransitionStorageClass,
};
use serde_json::Value;
use tracing::instrument;

use super::{ProvisionError, Tags, TAG_TENANT};
use crate::error::{classify, code_of};

/// The desired configuration of a tenant bucket.
pub struct BucketSpec<'a> {
    pub name: &'a str,
    pub region: &'a str,
    pub kms_key_arn: &'a str,
    pub policy: &'a Value,
    pub tags: &'a Tags,
    /// Report buckets move objects to cheaper storage with age.
    pub report_lifecycle: bool,
}

/// Creates the bucket or converges the existing one: public access blocked,
/// SSE-KMS with the tenant key, the policy, the tags and, for report
/// buckets, the lifecycle rules.
#[instrument(skip_all, fields(bucket = spec.name, region = spec.region, tenant_id = %spec.tags.tenant()))]
pub async fn ensure_bucket(s3: &aws_sdk_s3::Client, spec: &BucketSpec<'_>) -> Result<String, ProvisionError> {
    let mut request = s3.create_bucket().bucket(spec.name).object_ownership(ObjectOwnership::BucketOwnerPreferred);
    if spec.region != "us-east-1" {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(spec.region))
                .build(),
        );
    }
    match request.send().await {
        Ok(_) => tracing::info!("created bucket"),
        // us-east-1 returns 200 for a bucket the caller owns; elsewhere it
        // returns BucketAlreadyOwnedByYou. Both mean "exists, converge it".
        Err(error) if code_of(&error) == Some("BucketAlreadyOwnedByYou") => {}
        Err(error) if code_of(&error) == Some("BucketAlreadyExists") => {
            return Err(ProvisionError::Conflict {
                resource: format!("S3 bucket {}", spec.name),
                owner: "another AWS account".to_string(),
            })
        }
        Err(error) => return Err(classify("s3:CreateBucket", &error).into()),
    }

    let owner = tenant_tag(s3, spec.name).await?;
    spec.tags.check_owner(&format!("S3 bucket {}", spec.name), owner.as_deref())?;

    s3.put_public_access_block()
        .bucket(spec.name)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| classify("s3:PutPublicAccessBlock", &e))?;
    s3.put_bucket_ownership_controls()
        .bucket(spec.name)
        .ownership_controls(
            OwnershipControls::builder()
                .rules(OwnershipControlsRule::builder().object_ownership(ObjectOwnership::BucketOwnerPreferred).build()?)
                .build()?,
        )
        .send()
        .await
        .map_err(|e| classify("s3:PutBucketOwnershipControls", &e))?;
    s3.put_bucket_encryption()
        .bucket(spec.name)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::AwsKms)
                                .kms_master_key_id(spec.kms_key_arn)
                                .build()?,
                        )
                        .bucket_key_enabled(true)
                        .build(),
                )
                .build()?,
        )
        .send()
        .await
        .map_err(|e| classify("s3:PutBucketEncryption", &e))?;
    put_policy(s3, spec.name, spec.policy).await?;
    s3.put_bucket_tagging()
        .bucket(spec.name)
        .tagging(Tagging::builder().set_tag_set(Some(s3_tags(spec.tags)?)).build()?)
        .send()
        .await
        .map_err(|e| classify("s3:PutBucketTagging", &e))?;
    if spec.report_lifecycle {
        s3.put_bucket_lifecycle_configuration()
            .bucket(spec.name)
            .lifecycle_configuration(report_lifecycle()?)
            .send()
            .await
            .map_err(|e| classify("s3:PutBucketLifecycleConfiguration", &e))?;
    }
    Ok(format!("arn:aws:s3:::{}", spec.name))
}

/// Report buckets: incomplete uploads are aborted after 7 days and objects
/// move to Intelligent-Tiering after 30.
fn report_lifecycle() -> Result<BucketLifecycleConfiguration, aws_sdk_s3::error::BuildError> {
    BucketLifecycleConfiguration::builder()
        .rules(
            LifecycleRule::builder()
                .id("tps-abort-incomplete-uploads")
                .status(ExpirationStatus::Enabled)
                .filter(LifecycleRuleFilter::builder().prefix("").build())
                .abort_incomplete_multipart_upload(
                    AbortIncompleteMultipartUpload::builder().days_after_initiation(7).build(),
                )
                .build()?,
        )
        .rules(
            LifecycleRule::builder()
                .id("tps-reports-to-intelligent-tiering")
                .status(ExpirationStatus::Enabled)
                .filter(LifecycleRuleFilter::builder().prefix("advertisers/").build())
                .transitions(
                    Transition::builder()
                        .days(30)
                        .storage_class(TransitionStorageClass::IntelligentTiering)
                        .build(),
                )
                .build()?,
        )
        .build()
}

pub async fn put_policy(s3: &aws_sdk_s3::Client, bucket: &str, policy: &Value) -> Result<(), ProvisionError> {
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(policy.to_string())
        .send()
        .await
        .map_err(|e| classify("s3:PutBucketPolicy", &e))?;
    Ok(())
}

/// Whether the bucket exists (and this account may see it).
pub async fn exists(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<bool, ProvisionError> {
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(true),
        Err(error) if error.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(false),
        Err(error) => Err(classify("s3:HeadBucket", &error).into()),
    }
}

/// Deletes the bucket if it contains no object and returns `Ok(None)`; returns
/// the reason it was kept otherwise.
pub async fn delete_if_empty(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<Option<String>, ProvisionError> {
    let listing = s3
        .list_object_versions()
        .bucket(bucket)
        .max_keys(1)
        .send()
        .await
        .map_err(|e| classify("s3:ListObjectVersions", &e))?;
    let holds_objects = !listing.versions().is_empty() || !listing.delete_markers().is_empty();
    if holds_objects {
        return Ok(Some("the bucket is not empty; empty it and offboard again to delete it".to_string()));
    }
    s3.delete_bucket().bucket(bucket).send().await.map_err(|e| classify("s3:DeleteBucket", &e))?;
    Ok(None)
}

/// The bucket's `tps:tenant` tag, if any.
pub async fn tenant_tag(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<Option<String>, ProvisionError> {
    match s3.get_bucket_tagging().bucket(bucket).send().await {
        Ok(output) => Ok(output.tag_set.into_iter().find(|t| t.key == TAG_TENANT).map(|t| t.value)),
        Err(error) if code_of(&error) == Some("NoSuchTagSet") => Ok(None),
        Err(error) => Err(classify("s3:GetBucketTagging", &error).into()),
    }
}

fn s3_tags(tags: &Tags) -> Result<Vec<Tag>, aws_sdk_s3::error::BuildError> {
    tags.0.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

impl From<aws_sdk_s3::error::BuildError> for ProvisionError {
    fn from(error: aws_sdk_s3::error::BuildError) -> Self {
        ProvisionError::Invalid(format!("invalid S3 request: {error}"))
    }
}
