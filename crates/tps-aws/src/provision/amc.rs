//! The AMC module: a tenant KMS key that AMC's delivery account may use only
//! through S3, and the AMC results bucket encrypted with it.

use serde_json::{json, Value};
use tps_core::module::Module;
use tps_core::policy;
use tps_core::tenant::{AmcSection, Retention};
use tracing::instrument;

use super::{kms, s3, ModuleContext, ProvisionError, Removal};

fn section<'a>(ctx: &'a ModuleContext<'_>) -> Result<&'a AmcSection, ProvisionError> {
    ctx.tenant
        .amc
        .as_ref()
        .ok_or_else(|| ProvisionError::Invalid("the tenant record has no AMC section".into()))
}

/// The region of the AMC instance, where its bucket and key must live.
fn region(ctx: &ModuleContext<'_>, amc: &AmcSection) -> String {
    amc.amc_region.clone().unwrap_or_else(|| ctx.clients.region())
}

fn writers(amc: &AmcSection) -> Vec<&str> {
    let mut writers = vec![amc.amc_orange_aws_account.as_str()];
    if let Some(green) = amc.amc_green_aws_account.as_deref() {
        writers.push(green);
    }
    writers
}

/// Provisions the key and bucket; returns the bucket name and ARN, the key
/// ARN and alias, and the region.
#[instrument(skip_all, fields(tenant_id = %ctx.tenant.customer_id, module = "AMC"))]
pub async fn provision(ctx: &ModuleContext<'_>) -> Result<Value, ProvisionError> {
    let amc = section(ctx)?;
    let region = region(ctx, amc);
    let clients = ctx.clients.regional(&region);
    let names = ctx.names(&region);
    let tags = ctx.tags(Module::Amc);
    let writers = writers(amc);

    let alias = names.key_alias(Module::Amc);
    let key_policy = policy::tenant_key_policy(&ctx.account, &region, &writers);
    let description = format!("TPS AMC results key of tenant {}", ctx.tenant.customer_id);
    let key = kms::ensure_key(&clients.kms, &alias, &description, &key_policy, &tags).await?;

    let bucket = amc.amc_s3_bucket_name.clone().unwrap_or_else(|| names.amc_bucket());
    let bucket_policy = policy::bucket_policy(&bucket, &writers);
    let bucket_arn = s3::ensure_bucket(
        &clients.s3,
        &s3::BucketSpec {
            name: &bucket,
            region: &region,
            kms_key_arn: &key.key_arn,
            policy: &bucket_policy,
            tags: &tags,
            report_lifecycle: false,
        },
    )
    .await?;

    Ok(json!({
        "bucketName": bucket,
        "bucketArn": bucket_arn,
        "kmsKeyArn": key.key_arn,
        "kmsKeyAlias": alias,
        "region": region,
    }))
}

/// Removes the AMC accounts' access. With `DELETE` retention it also deletes
/// the bucket when it is empty and then schedules the key's deletion; a
/// bucket that still contains objects keeps its key too.
#[instrument(skip_all, fields(tenant_id = %ctx.tenant.customer_id, module = "AMC"))]
pub async fn deprovision(ctx: &ModuleContext<'_>) -> Result<Value, ProvisionError> {
    let amc = section(ctx)?;
    let region = region(ctx, amc);
    let clients = ctx.clients.regional(&region);
    let names = ctx.names(&region);
    let bucket = amc.amc_s3_bucket_name.clone().unwrap_or_else(|| names.amc_bucket());
    let alias = names.key_alias(Module::Amc);
    let removal = remove_bucket_and_key(ctx, &clients, &bucket, &alias, &region).await?;
    Ok(serde_json::to_value(removal).expect("a removal serializes"))
}

/// Shared by the AMC and DSP modules: revoke grants, then apply the
/// tenant's retention policy to the bucket and its key.
pub(super) async fn remove_bucket_and_key(
    ctx: &ModuleContext<'_>,
    clients: &crate::clients::RegionalClients,
    bucket: &str,
    alias: &str,
    region: &str,
) -> Result<Removal, ProvisionError> {
    let mut removal = Removal::default();
    let retention = ctx.tenant.retention();
    let tenant_id = ctx.tenant.customer_id.as_str();
    let mut bucket_exists = s3::exists(&clients.s3, bucket).await?;
    if bucket_exists {
        // Only resources tagged for this tenant are touched: a tenant whose
        // provisioning failed on another tenant's bucket must not revoke or
        // delete it when it is offboarded.
        let owner = s3::tenant_tag(&clients.s3, bucket).await?;
        if owner.as_deref() != Some(tenant_id) {
            let owner = owner.map(|o| format!("tenant {o:?}")).unwrap_or_else(|| "no tenant".to_string());
            tracing::warn!(bucket, %owner, "bucket is not this tenant's; leaving it untouched");
            removal.keep(format!("S3 bucket {bucket}"), format!("it belongs to {owner}, not to this tenant"));
            bucket_exists = false;
        }
    }

    let mut bucket_deleted = !bucket_exists;
    if bucket_exists {
        s3::put_policy(&clients.s3, bucket, &policy::bucket_policy(bucket, &[])).await?;
        removal.removed.push(format!("bucket policy grants of {bucket}"));
        if retention == Retention::Delete {
            match s3::delete_if_empty(&clients.s3, bucket).await? {
                None => {
                    removal.removed.push(format!("S3 bucket {bucket}"));
                    bucket_deleted = true;
                }
                Some(reason) => removal.keep(format!("S3 bucket {bucket}"), reason),
            }
        } else {
            removal.keep(format!("S3 bucket {bucket}"), "retention is RETAIN");
        }
    }

    let key = match kms::describe(&clients.kms, alias).await? {
        Some(key) if kms::tenant_tag(&clients.kms, &key.key_id).await?.as_deref() == Some(tenant_id) => Some(key),
        Some(_) => {
            tracing::warn!(alias, "key is not tagged for this tenant; leaving it untouched");
            removal.keep(format!("KMS key {alias}"), "it is not tagged for this tenant");
            None
        }
        None => None,
    };
    if let Some(key) = key {
        kms::put_policy(&clients.kms, &key.key_id, &policy::tenant_key_policy(&ctx.account, region, &[])).await?;
        removal.removed.push(format!("key policy grants of {alias}"));
        if retention == Retention::Retain {
            removal.keep(format!("KMS key {alias}"), "retention is RETAIN");
        } else if !bucket_deleted {
            removal.keep(format!("KMS key {alias}"), format!("bucket {bucket} still contains objects encrypted with it"));
        } else {
            kms::schedule_deletion(&clients.kms, &key.key_id).await?;
            removal.removed.push(format!(
                "KMS key {alias} (deletion scheduled in {} days)",
                kms::KEY_DELETION_DAYS
            ));
        }
    }
    Ok(removal)
}
