//! The Sponsored Ads module: one ingress queue and DLQ per Marketing Stream
//! dataset, which only the dataset's Amazon SNS topics may send to.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{json, Value};
use tps_core::catalogue::AdvertisingRegion;
use tps_core::module::Module;
use tps_core::policy;
use tracing::instrument;

use super::{sqs, ModuleContext, ProvisionError, Removal};

/// Provisions the queues of every requested dataset and deletes the queues
/// of datasets no longer requested.
#[instrument(skip_all, fields(tenant_id = %ctx.tenant.customer_id, module = "SponsoredAds"))]
pub async fn provision(ctx: &ModuleContext<'_>) -> Result<Value, ProvisionError> {
    let section = ctx
        .tenant
        .sponsored_ads
        .as_ref()
        .ok_or_else(|| ProvisionError::Invalid("the tenant record has no SponsoredAds section".into()))?;
    let (region, datasets) =
        ensure_stream_queues(ctx, Module::SponsoredAds, section.advertising_region, &section.stream_datasets).await?;
    Ok(json!({
        "advertisingRegion": section.advertising_region,
        "region": region,
        "profileIds": section.profile_ids,
        "datasets": datasets,
    }))
}

/// Deletes every stream queue of the module.
#[instrument(skip_all, fields(tenant_id = %ctx.tenant.customer_id, module = "SponsoredAds"))]
pub async fn deprovision(ctx: &ModuleContext<'_>) -> Result<Value, ProvisionError> {
    let region = ctx.tenant.sponsored_ads.as_ref().map(|s| s.advertising_region);
    let removal = remove_stream_queues(ctx, Module::SponsoredAds, region, &[]).await?;
    Ok(serde_json::to_value(removal).expect("a removal serializes"))
}

/// Ensures an ingress queue and DLQ per dataset in the advertising region's
/// AWS region, then deletes this module's queues for other datasets.
/// Returns the AWS region and, per dataset, the queue names, URLs and ARNs.
pub(super) async fn ensure_stream_queues(
    ctx: &ModuleContext<'_>,
    module: Module,
    advertising_region: AdvertisingRegion,
    datasets: &[String],
) -> Result<(String, BTreeMap<String, Value>), ProvisionError> {
    let region_catalogue = ctx.catalogue.regions.get(&advertising_region).ok_or_else(|| {
        ProvisionError::Invalid(format!("the dataset catalogue has no advertising region {advertising_region}"))
    })?;
    let region = region_catalogue.aws_region.clone();
    let clients = ctx.clients.regional(&region);
    let names = ctx.names(&region);
    let tags = ctx.tags(module);

    let mut outputs = BTreeMap::new();
    for dataset_id in datasets {
        let dataset = ctx.catalogue.dataset(advertising_region, module, dataset_id).ok_or_else(|| {
            ProvisionError::Invalid(format!(
                "dataset {dataset_id:?} is not in the catalogue for {module} in {advertising_region}"
            ))
        })?;

        let dlq_name = names.stream_dlq(module, dataset_id);
        let dlq = sqs::ensure_queue(&clients.sqs, &dlq_name, base_attributes(), &tags).await?;

        let queue_name = names.stream_queue(module, dataset_id);
        let arn = sqs::queue_arn(&region, &ctx.account, &queue_name);
        let mut attributes = base_attributes();
        attributes.insert(
            QueueAttributeName::Policy,
            policy::ingress_queue_policy(&arn, &dataset.sns_source_arn, &ctx.catalogue.reviewer_role_arn).to_string(),
        );
        attributes.insert(
            QueueAttributeName::RedrivePolicy,
            policy::redrive_policy(&dlq.arn, sqs::MAX_RECEIVE_COUNT).to_string(),
        );
        let queue = sqs::ensure_queue(&clients.sqs, &queue_name, attributes, &tags).await?;

        outputs.insert(
            dataset_id.clone(),
            json!({
                "queueName": queue.name,
                "queueUrl": queue.url,
                "queueArn": queue.arn,
                "dlqArn": dlq.arn,
                "snsSourceArn": dataset.sns_source_arn,
            }),
        );
    }

    remove_stream_queues(ctx, module, Some(advertising_region), datasets).await?;
    Ok((region, outputs))
}

/// Deletes the module's queues (and DLQs) except those of `keep`. Without
/// an advertising region, looks in every region of the catalogue.
pub(super) async fn remove_stream_queues(
    ctx: &ModuleContext<'_>,
    module: Module,
    advertising_region: Option<AdvertisingRegion>,
    keep: &[String],
) -> Result<Removal, ProvisionError> {
    let mut regions: BTreeSet<String> = BTreeSet::new();
    match advertising_region.and_then(|r| ctx.catalogue.regions.get(&r)) {
        Some(r) => {
            regions.insert(r.aws_region.clone());
        }
        None => regions.extend(ctx.catalogue.regions.values().map(|r| r.aws_region.clone())),
    }

    let mut removal = Removal::default();
    let tags = ctx.tags(module);
    for region in regions {
        let clients = ctx.clients.regional(&region);
        let names = ctx.names(&region);
        let wanted: BTreeSet<String> = keep
            .iter()
            .flat_map(|d| [names.stream_queue(module, d), names.stream_dlq(module, d)])
            .collect();
        let prefix = format!("tps-{}-{}-", ctx.tenant.customer_prefix, module.slug());
        for name in sqs::names_with_prefix(&clients.sqs, &prefix).await? {
            if wanted.contains(&name) {
                continue;
            }
            match sqs::delete_queue(&clients.sqs, &name, &tags).await {
                Ok(true) => removal.removed.push(format!("SQS queue {name}")),
                Ok(false) => {}
                // A queue of another tenant that shares the prefix is not ours to delete.
                Err(ProvisionError::Conflict { .. }) => {}
                Err(error) => return Err(error),
            }
        }
    }
    Ok(removal)
}

fn base_attributes() -> HashMap<QueueAttributeName, String> {
    HashMap::from([
        (QueueAttributeName::SqsManagedSseEnabled, "true".to_string()),
        (QueueAttributeName::MessageRetentionPeriod, sqs::RETENTION_SECONDS.to_string()),
    ])
}
