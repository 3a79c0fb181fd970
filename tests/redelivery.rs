//! At-least-once delivery: the event source mapping here invokes the stream
//! function twice with every batch, as Lambda may after a timeout. A late
//! write for a record never replaces what its execution recorded.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use tps_aws::dynamo::DynamoStatusStore;
use tps_core::events::EventType;
use tps_core::ports::{StatusStore, WriteOutcome};
use tps_core::status::TenantState;
use tps_e2e::{all_modules_row, start, Harness};
use tps_local::Options;

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| start(Options { env: "redelivery".into(), duplicate_delivery: true, ..Options::default() }))
}

#[tokio::test(flavor = "multi_thread")]
async fn redelivered_record_provisions_once() {
    let harness = harness();
    harness.put_row(&all_modules_row("e2e-twice", "e2etwice")).await;

    harness.wait_for("e2e-twice", EventType::TenantActive).await;
    // Give any duplicate execution time to publish before counting.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let invocations = harness.mapping_stats.invocations.load(std::sync::atomic::Ordering::Relaxed);
    assert!(invocations >= 2, "the stream function was invoked {invocations} times");
    assert_eq!(harness.executions_of("e2e-twice").await.len(), 1, "one execution");

    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for notification in harness.notifications_for("e2e-twice") {
        let key = format!("{}{}", notification.event_type, notification.module.map(|m| format!(" {m}")).unwrap_or_default());
        *counts.entry(key).or_default() += 1;
    }
    assert!(counts.values().all(|count| *count == 1), "every notification once: {counts:?}");
    assert_eq!(counts.len(), 5, "{counts:?}");

    assert_eq!(harness.keys_of_tenant("e2e-twice").await.len(), 2, "one AMC key and one DSP key");
    let queues = harness.queues_with_prefix("us-east-1", "tps-e2etwice-").await;
    assert_eq!(queues.len(), 4, "a queue and a DLQ per dataset: {queues:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn late_in_progress_write_keeps_the_result() {
    let harness = harness();
    harness.put_row(&all_modules_row("e2e-late", "e2elate")).await;
    harness.wait_for("e2e-late", EventType::TenantActive).await;
    let store = DynamoStatusStore::new(harness.dynamodb(), harness.stack.names.status_table());
    let active = harness.status("e2e-late").await.expect("status item");
    assert_eq!(active.status, TenantState::Active);

    let mut late = active.clone();
    late.status = TenantState::InProgress;
    assert_eq!(store.put_if_newer(&late).await.unwrap(), WriteOutcome::Stale, "same record");
    assert_eq!(harness.status("e2e-late").await.unwrap().status, TenantState::Active);

    let stored = active.sequence_number.clone().expect("sequence number");
    let older = format!("{}", stored.parse::<u128>().unwrap() - 1);
    late.sequence_number = Some(older);
    assert_eq!(store.put(&late).await.unwrap(), WriteOutcome::Stale, "older record");

    let newer = format!("{}", stored.parse::<u128>().unwrap() + 1);
    late.sequence_number = Some(newer.clone());
    assert_eq!(store.put_if_newer(&late).await.unwrap(), WriteOutcome::Written, "newer record");
    let now = harness.status("e2e-late").await.unwrap();
    assert_eq!((now.status, now.sequence_number), (TenantState::InProgress, Some(newer)));
}
