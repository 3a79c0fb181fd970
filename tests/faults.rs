//! Onboarding under injected faults: a seeded fifth of the functions' AWS
//! calls fail with throttling, HTTP 500 or a dropped connection. The SDK's
//! retries, the mapping's retries and the state machine's Retry must absorb
//! them.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tps_core::events::EventType;
use tps_core::status::TenantState;
use tps_e2e::{all_modules_row, start};
use tps_local::faults::FaultConfig;
use tps_local::Options;

const TENANTS: usize = 50;
const FAILURE_RATE: f64 = 0.2;

#[tokio::test(flavor = "multi_thread")]
async fn fifty_tenants_survive_twenty_percent_failures() {
    let harness = start(Options {
        env: "faults".into(),
        faults: Some(FaultConfig { failure_rate: FAILURE_RATE, latency: Duration::ZERO, seed: 20261204 }),
        ..Options::default()
    });
    let started = Instant::now();
    let ids: Vec<String> = (0..TENANTS).map(|i| format!("fault-{i:02}")).collect();
    let writes: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let row = all_modules_row(id, &format!("flt{i:02}"));
            let harness = &harness;
            async move { harness.put_row(&row).await }
        })
        .collect();
    for write in writes {
        write.await;
    }

    for id in &ids {
        harness.wait_for_terminal(id, 1).await;
    }
    let elapsed = started.elapsed();
    // Duplicates would arrive after the terminal event; give them time.
    tokio::time::sleep(Duration::from_secs(3)).await;

    for (i, id) in ids.iter().enumerate() {
        let status = harness.status(id).await.expect("status item");
        assert_eq!(status.status, TenantState::Active, "{id}: {:?}", status.modules);
        assert_eq!(harness.executions_of(id).await.len(), 1, "{id}: executions");
        assert_eq!(harness.keys_of_tenant(id).await.len(), 2, "{id}: keys");
        assert_eq!(harness.queues_with_prefix("us-east-1", &format!("tps-flt{i:02}-")).await.len(), 4, "{id}: queues");

        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for n in harness.notifications_for(id) {
            *counts.entry(format!("{}{:?}", n.event_type, n.module)).or_default() += 1;
        }
        assert_eq!(counts.len(), 5, "{id}: {counts:?}");
        assert!(counts.values().all(|c| *c == 1), "{id}: every notification once: {counts:?}");
        assert!(harness.notifications_for(id).iter().any(|n| n.event_type == EventType::TenantActive));
    }

    let sqs = harness.sqs();
    for queue in [&harness.stack.status_dlq_url, &harness.stack.failure_queue_url] {
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(queue.as_str())
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap();
        assert_eq!(attributes[&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages], "0", "{queue}");
    }

    let faults = harness.faults.as_ref().expect("fault injector");
    let relayed = faults.stats.relayed.load(Ordering::Relaxed);
    let injected = faults.stats.injected();
    assert!(injected > 0, "faults were injected");
    eprintln!(
        "fault test: {TENANTS} tenants ACTIVE in {:.1}s; {relayed} AWS calls attempted, {injected} failed by injection \
         ({} throttled, {} HTTP 500, {} dropped) and retried; {} stream batch retries",
        elapsed.as_secs_f64(),
        faults.stats.throttled.load(Ordering::Relaxed),
        faults.stats.server_errors.load(Ordering::Relaxed),
        faults.stats.dropped.load(Ordering::Relaxed),
        harness.mapping_stats.retries.load(Ordering::Relaxed),
    );
}
