//! Criterion benchmarks of the stream function's and the modules' pure hot
//! paths: decoding and validating a stream batch, the config digest and the
//! policy documents. `make bench` runs them and tps-bench reports them.

use std::hint::black_box;
use std::time::Duration;

use aws_lambda_events::dynamodb::Event;
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::Value;
use tps_bench::events::{stream_event, tenant_record, tenant_row};
use tps_core::catalogue::DatasetCatalogue;
use tps_core::digest::ConfigDigest;
use tps_core::module::Module;
use tps_core::naming::TenantNames;
use tps_core::{policy, validate, TenantRecord};

/// Records per batch: the event source mapping's batch size.
const BATCH_SIZE: usize = 10;
const STREAM_ARN: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/tps-demoteam-CustomerConfig-dev/stream/2026-01-01T00:00:00.000";
const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

fn batch_rows() -> Vec<Value> {
    (0..BATCH_SIZE).map(|i| tenant_row(&format!("bench-tenant-{i}"), &format!("bench{i}"))).collect()
}

/// Runs the stream function's per-record work before any AWS call: the image
/// to JSON with serde_dynamo, then validation into a tenant record.
fn decode_and_validate(event: &Event, catalogue: &DatasetCatalogue) -> Vec<TenantRecord> {
    event
        .records
        .iter()
        .map(|record| {
            let row: Value = serde_dynamo::from_item(record.change.new_image.clone()).expect("image decodes");
            validate(&row, catalogue).expect("row is valid")
        })
        .collect()
}

fn stream_batch(c: &mut Criterion) {
    let catalogue = DatasetCatalogue::embedded();
    let event = stream_event(&batch_rows(), 1, STREAM_ARN, REGION).expect("batch builds");
    let payload = serde_json::to_vec(&event).expect("event serializes");

    let mut group = c.benchmark_group("stream_batch");
    group.bench_function("image_to_record_10", |b| b.iter(|| decode_and_validate(black_box(&event), &catalogue)));
    group.bench_function("payload_to_record_10", |b| {
        b.iter(|| {
            let event: Event = serde_json::from_slice(black_box(&payload)).expect("payload parses");
            decode_and_validate(&event, &catalogue)
        })
    });
    group.finish();
}

fn digest(c: &mut Criterion) {
    let record = tenant_record(&tenant_row("bench-tenant-0", "bench0")).expect("row is valid");
    let mut group = c.benchmark_group("digest");
    group.bench_function("config_record", |b| b.iter(|| ConfigDigest::of_record(black_box(&record))));
    group.bench_function("three_modules", |b| {
        b.iter(|| Module::ALL.map(|module| ConfigDigest::of_module(black_box(&record), module)))
    });
    group.finish();
}

fn policies(c: &mut Criterion) {
    let catalogue = DatasetCatalogue::embedded();
    let record = tenant_record(&tenant_row("bench-tenant-0", "bench0")).expect("row is valid");
    let names = TenantNames {
        tenant_id: record.customer_id.clone(),
        prefix: record.customer_prefix.clone(),
        account: ACCOUNT.into(),
        region: REGION.into(),
    };
    let amc = record.amc.clone().expect("the row enables AMC");
    let sponsored_ads = record.sponsored_ads.clone().expect("the row enables Sponsored Ads");

    let mut group = c.benchmark_group("policy");
    // The AMC module's key policy and bucket policy, serialized as sent.
    group.bench_function("amc_key_and_bucket", |b| {
        b.iter(|| {
            let mut writers = vec![amc.amc_orange_aws_account.as_str()];
            writers.extend(amc.amc_green_aws_account.as_deref());
            let bucket = names.amc_bucket();
            let key = policy::tenant_key_policy(ACCOUNT, REGION, black_box(&writers)).to_string();
            let bucket_policy = policy::bucket_policy(&bucket, &writers).to_string();
            (key, bucket_policy)
        })
    });
    // The Sponsored Ads module's queue and redrive policy per requested dataset.
    group.bench_function("sponsored_ads_queues_3", |b| {
        b.iter(|| {
            let mut documents = Vec::new();
            for dataset_id in black_box(&sponsored_ads.stream_datasets) {
                let dataset = catalogue
                    .dataset(sponsored_ads.advertising_region, Module::SponsoredAds, dataset_id)
                    .expect("dataset is in the catalogue");
                let queue_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{}", names.stream_queue(Module::SponsoredAds, dataset_id));
                let dlq_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{}", names.stream_dlq(Module::SponsoredAds, dataset_id));
                documents.push(policy::ingress_queue_policy(&queue_arn, &dataset.sns_source_arn, &catalogue.reviewer_role_arn).to_string());
                documents.push(policy::redrive_policy(&dlq_arn, 5).to_string());
            }
            documents
        })
    });
    group.finish();
}

criterion_group! {
    name = hot_paths;
    // Short runs keep `make bench` within minutes; the intervals in the
    // report show whether they were long enough.
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3)).sample_size(50);
    targets = stream_batch, digest, policies
}
criterion_main!(hot_paths);
