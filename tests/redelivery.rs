//! At-least-once delivery: the event source mapping here invokes the stream
//! function twice with every batch, as Lambda may after a timeout.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use tps_core::events::EventType;
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
