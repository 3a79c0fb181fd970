//! The DSP module: a report landing bucket with a prefix per advertiser,
//! encrypted with the tenant's DSP key, and ingress queues for any DSP
//! stream datasets.

use serde_json::{json, Value};
use tps_core::module::Module;
use tps_core::naming::TenantNames;
use tps_core::policy;
use tracing::instrument;

use super::{amc, kms, s3, sponsored_ads, ModuleContext, ProvisionError};

#[instrument(skip_all, fields(tenant_id = %ctx.tenant.customer_id, module = "DSP"))]
pub async fn provision(ctx: &ModuleContext<'_>) -> Result<Value, ProvisionError> {
    let section = ctx
        .tenant
        .dsp
        .as_ref()
        .ok_or_else(|| ProvisionError::Invalid("the tenant record has no DSP section".into()))?;
    let region = ctx.clients.region();
    let clients = ctx.clients.regional(&region);
    let names = ctx.names(&region);
    let tags = ctx.tags(Module::Dsp);

    let alias = names.key_alias(Module::Dsp);
    let key_policy = policy::tenant_key_policy(&ctx.account, &region, &[]);
    let description = format!("TPS DSP reports key of tenant {}", ctx.tenant.customer_id);
    let key = kms::ensure_key(&clients.kms, &alias, &description, &key_policy, &tags).await?;

    let bucket = names.dsp_bucket();
    let bucket_policy = policy::bucket_policy(&bucket, &[]);
    let bucket_arn = s3::ensure_bucket(
        &clients.s3,
        &s3::BucketSpec {
            name: &bucket,
            region: &region,
            kms_key_arn: &key.key_arn,
            policy: &bucket_policy,
            tags: &tags,
            report_lifecycle: true,
        },
    )
    .await?;

    // S3 prefixes need no object: they are reported for report delivery setup.
    let prefixes: Vec<String> = section.advertiser_ids.iter().map(|id| TenantNames::advertiser_prefix(id)).collect();
    let (queue_region, datasets) =
        sponsored_ads::ensure_stream_queues(ctx, Module::Dsp, section.advertising_region, &section.stream_datasets)
            .await?;

    Ok(json!({
        "bucketName": bucket,
        "bucketArn": bucket_arn,
        "kmsKeyArn": key.key_arn,
        "kmsKeyAlias": alias,
        "region": region,
        "prefixes": prefixes,
        "queueRegion": queue_region,
        "datasets": datasets,
    }))
}

#[instrument(skip_all, fields(tenant_id = %ctx.tenant.customer_id, module = "DSP"))]
pub async fn deprovision(ctx: &ModuleContext<'_>) -> Result<Value, ProvisionError> {
    let region = ctx.clients.region();
    let clients = ctx.clients.regional(&region);
    let names = ctx.names(&region);
    let mut removal =
        amc::remove_bucket_and_key(ctx, &clients, &names.dsp_bucket(), &names.key_alias(Module::Dsp), &region).await?;
    let advertising_region = ctx.tenant.dsp.as_ref().map(|s| s.advertising_region);
    let queues = sponsored_ads::remove_stream_queues(ctx, Module::Dsp, advertising_region, &[]).await?;
    removal.removed.extend(queues.removed);
    Ok(serde_json::to_value(removal).expect("a removal serializes"))
}
