//! `tps watch`: follows the notifications on the status queue
//! `tps-{team}-TenantStatus-{env}.fifo`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::Args;
use tps_core::events::{EventType, Notification};
use tps_local::watch::{Received, StatusQueue};

use crate::context::{GlobalArgs, Target};
use crate::errors::{describe, Resource};
use crate::output::{describe_outputs, exit, OutputFormat};

/// Longest ReceiveMessage long poll; a Ctrl-C or the timeout ends it early.
const MAX_POLL: Duration = Duration::from_secs(10);

#[derive(Args, Debug)]
#[command(after_help = "\
NOTE: watch receives the messages of the status queue and deletes them, including those that --tenant \
and --event hide, so no other consumer of the queue sees them. Services that read the status queue \
should subscribe a queue of their own to the events topic instead of sharing it with watch.

Notifications that are already waiting in the queue are shown first. So --until-terminal also stops at \
a terminal event left from an earlier change of the tenant; watch the tenant until its earlier change \
ends before making the next one.")]
pub struct WatchArgs {
    /// Show only the notifications of this tenant id; repeat for more tenants.
    #[arg(long = "tenant", value_name = "ID")]
    pub tenants: Vec<String>,

    /// Show only this event type; repeat for more types.
    #[arg(long = "event", value_name = "TYPE", value_parser = event_parser())]
    pub events: Vec<EventType>,

    /// Exit when tenant ID reaches a terminal event: exit code 0 for
    /// TenantActive or TenantOffboarded, 1 for TenantPartiallyActive,
    /// TenantFailed or TenantValidationFailed.
    #[arg(long, value_name = "ID")]
    pub until_terminal: Option<String>,

    /// Stop after this many seconds and exit with code 3. Default: wait
    /// until Ctrl-C (or until --until-terminal's event).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
}

fn event_parser() -> impl TypedValueParser<Value = EventType> {
    PossibleValuesParser::new(EventType::ALL.map(EventType::as_str)).map(|name| {
        EventType::ALL.into_iter().find(|e| e.as_str() == name).expect("the parser accepts only known event types")
    })
}

pub async fn run(args: WatchArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let connection = Target::resolve(global)?.connect().await?;
    let queue_name = connection.names().status_queue();
    let sqs = connection.sqs();
    let url = sqs
        .get_queue_url()
        .queue_name(&queue_name)
        .send()
        .await
        .map_err(|error| describe(&connection, "sqs:GetQueueUrl", Resource::Queue(&queue_name), &error))?
        .queue_url
        .ok_or_else(|| anyhow::anyhow!("sqs:GetQueueUrl returned no URL for queue {queue_name}"))?;
    let queue = StatusQueue::new(sqs, url);

    let deadline = args.timeout.map(|seconds| Instant::now() + Duration::from_secs(seconds));
    eprintln!("watching queue {queue_name} in {}; press Ctrl-C to stop", connection.location());

    loop {
        let poll = match deadline {
            Some(deadline) => {
                let remaining = deadline.saturating_duration_since(Instant::now());
                if remaining.is_zero() {
                    let what = match &args.until_terminal {
                        Some(id) => format!("waiting for a terminal event of tenant {id}"),
                        None => format!("following queue {queue_name}"),
                    };
                    eprintln!("error: timed out after {} s {what}", args.timeout.unwrap_or_default());
                    return Ok(ExitCode::from(exit::TIMEOUT));
                }
                remaining.clamp(Duration::from_secs(1), MAX_POLL)
            }
            None => MAX_POLL,
        };

        let received = tokio::select! {
            received = queue.receive(poll) => received,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("stopped");
                let code = if args.until_terminal.is_some() { exit::INTERRUPTED } else { exit::SUCCESS };
                return Ok(ExitCode::from(code));
            }
        };
        let received = received.map_err(|error| {
            anyhow::anyhow!("{error:#}: check that queue {queue_name} still exists and the credentials may receive from it")
        })?;

        for message in received {
            let notification = match message {
                Received::Notification(notification) => notification,
                Received::Unparsable(body) => {
                    eprintln!("warning: deleted a message that is not a notification: {body}");
                    continue;
                }
            };
            if shown(&args, &notification) {
                match global.output {
                    OutputFormat::Json => println!("{}", serde_json::to_string(&notification)?),
                    OutputFormat::Text => println!("{}", render(&notification)),
                }
            }
            // NOTE: a terminal event of an earlier execution that is still in
            // the queue ends the wait too, because notifications carry no id of
            // the change that the caller is waiting for.
            if args.until_terminal.as_deref() == Some(notification.tenant_id.as_str()) && notification.event_type.is_terminal() {
                let success = matches!(notification.event_type, EventType::TenantActive | EventType::TenantOffboarded);
                eprintln!("tenant {} reached {}", notification.tenant_id, notification.event_type);
                return Ok(ExitCode::from(if success { exit::SUCCESS } else { exit::FAILURE }));
            }
        }
    }
}

/// Returns whether `--tenant` and `--event` let `notification` through.
fn shown(args: &WatchArgs, notification: &Notification) -> bool {
    (args.tenants.is_empty() || args.tenants.contains(&notification.tenant_id))
        && (args.events.is_empty() || args.events.contains(&notification.event_type))
}

/// Renders one line: time, tenant, event, module, then outputs, status or errors.
pub fn render(notification: &Notification) -> String {
    let module = notification.module.map(|m| m.to_string()).unwrap_or_else(|| "-".to_string());
    let detail = if !notification.errors.is_empty() {
        notification.errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    } else if let Some(error) = &notification.error {
        format!("error: {}: {}", error.error_type, error.message)
    } else if let Some(outputs) = notification.outputs.as_ref().map(describe_outputs).filter(|o| !o.is_empty()) {
        outputs
    } else if let Some(status) = notification.status {
        format!("status={status}")
    } else {
        String::new()
    };
    let line = format!(
        "{}  {:<24} {:<25} {:<12} {detail}",
        notification.timestamp,
        notification.tenant_id,
        notification.event_type.as_str(),
        module
    );
    line.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use tps_core::status::TenantState;
    use tps_core::Module;

    use super::*;

    #[test]
    fn render_module_event() {
        let mut notification = Notification::new(EventType::ModuleProvisioned, "acme", "d", "e", Some(Module::Amc));
        notification.timestamp = "2026-01-01T00:00:00.000Z".to_string();
        notification.outputs = Some(serde_json::json!({"bucketName": "b", "kmsKeyAlias": "alias/k"}));
        let line = render(&notification);
        assert!(line.starts_with("2026-01-01T00:00:00.000Z  acme "), "{line}");
        assert!(line.contains("ModuleProvisioned"), "{line}");
        assert!(line.ends_with("AMC          bucket=b key=alias/k"), "{line}");
    }

    #[test]
    fn render_tenant_event_shows_status() {
        let mut notification = Notification::new(EventType::TenantActive, "acme", "d", "e", None);
        notification.status = Some(TenantState::Active);
        assert!(render(&notification).ends_with("-            status=ACTIVE"), "{}", render(&notification));
    }

    #[test]
    fn filters_combine() {
        let args = WatchArgs {
            tenants: vec!["acme".into()],
            events: vec![EventType::TenantActive],
            until_terminal: None,
            timeout: None,
        };
        assert!(shown(&args, &Notification::new(EventType::TenantActive, "acme", "d", "e", None)));
        assert!(!shown(&args, &Notification::new(EventType::TenantFailed, "acme", "d", "e", None)));
        assert!(!shown(&args, &Notification::new(EventType::TenantActive, "other", "d", "e", None)));
    }
}
