//! Stage durations from a Step Functions execution history.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// The state machine's states whose durations the report shows, as named in
/// `infra/statemachine/onboarding.asl.json`.
pub const MARK_IN_PROGRESS: &str = "MarkInProgress";
pub const PROVISION_MODULES: &str = "ProvisionModules";
pub const RECORD_STATUS: &str = "RecordStatus";

/// One history event: its type (`TaskStateEntered`, ...), time and, for
/// state events, the state's name.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub event_type: String,
    pub timestamp: DateTime<Utc>,
    pub state: Option<String>,
}

/// Start, end, transition count and state durations of one execution.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExecutionStages {
    pub started: Option<DateTime<Utc>>,
    pub finished: Option<DateTime<Utc>>,
    /// `ExecutionSucceeded`, `ExecutionFailed`, ... or `None` while it runs.
    pub end_event: Option<String>,
    /// Number of `*StateEntered` events: the state transitions billed for a
    /// Standard workflow, Map iterations' states included.
    pub state_transitions: usize,
    /// Milliseconds from a state's first entry to its last exit, by state name.
    pub state_ms: Vec<(String, f64)>,
}

impl ExecutionStages {
    pub fn execution_ms(&self) -> Option<f64> {
        Some(millis_between(self.started?, self.finished?))
    }

    pub fn state(&self, name: &str) -> Option<f64> {
        self.state_ms.iter().find(|(state, _)| state == name).map(|(_, ms)| *ms)
    }
}

/// Reads the stages of one execution from its history events.
pub fn stages(events: &[HistoryEntry]) -> ExecutionStages {
    let mut stages = ExecutionStages::default();
    let mut spans: Vec<(String, DateTime<Utc>, Option<DateTime<Utc>>)> = Vec::new();

    for event in events {
        let kind = event.event_type.as_str();
        if kind == "ExecutionStarted" {
            stages.started = Some(event.timestamp);
        } else if kind.starts_with("Execution") && kind != "ExecutionStarted" {
            stages.finished = Some(event.timestamp);
            stages.end_event = Some(kind.to_string());
        }
        let Some(state) = &event.state else { continue };
        if kind.ends_with("StateEntered") {
            stages.state_transitions += 1;
            if !spans.iter().any(|(name, _, _)| name == state) {
                spans.push((state.clone(), event.timestamp, None));
            }
        } else if kind.ends_with("StateExited") {
            if let Some(span) = spans.iter_mut().find(|(name, _, _)| name == state) {
                span.2 = Some(event.timestamp);
            }
        }
    }
    stages.state_ms = spans
        .into_iter()
        .filter_map(|(name, entered, exited)| Some((name, millis_between(entered, exited?))))
        .collect();
    stages
}

/// Milliseconds from `from` to `to`; negative when `to` is earlier.
pub fn millis_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_microseconds().map(|us| us as f64 / 1000.0).unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(ms: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(1_800_000_000_000 + ms).unwrap()
    }

    fn entry(event_type: &str, ms: i64, state: Option<&str>) -> HistoryEntry {
        HistoryEntry { event_type: event_type.into(), timestamp: at(ms), state: state.map(str::to_string) }
    }

    #[test]
    fn stages_of_a_three_module_execution() {
        let events = vec![
            entry("ExecutionStarted", 0, None),
            entry("TaskStateEntered", 1, Some("MarkInProgress")),
            entry("LambdaFunctionScheduled", 2, None),
            entry("TaskStateExited", 41, Some("MarkInProgress")),
            entry("MapStateEntered", 42, Some("ProvisionModules")),
            entry("ChoiceStateEntered", 43, Some("RouteModule")),
            entry("ChoiceStateExited", 43, Some("RouteModule")),
            entry("TaskStateEntered", 44, Some("AmcModule")),
            entry("ChoiceStateEntered", 45, Some("RouteModule")),
            entry("ChoiceStateExited", 45, Some("RouteModule")),
            entry("TaskStateEntered", 46, Some("DspModule")),
            entry("TaskStateExited", 146, Some("DspModule")),
            entry("TaskStateExited", 244, Some("AmcModule")),
            entry("MapStateExited", 250, Some("ProvisionModules")),
            entry("TaskStateEntered", 251, Some("RecordStatus")),
            entry("TaskStateExited", 300, Some("RecordStatus")),
            entry("ExecutionSucceeded", 301, None),
        ];
        let stages = stages(&events);
        assert_eq!(stages.execution_ms(), Some(301.0));
        assert_eq!(stages.end_event.as_deref(), Some("ExecutionSucceeded"));
        assert_eq!(stages.state_transitions, 7);
        assert_eq!(stages.state(MARK_IN_PROGRESS), Some(40.0));
        assert_eq!(stages.state("AmcModule"), Some(200.0));
        assert_eq!(stages.state("DspModule"), Some(100.0));
        assert_eq!(stages.state(PROVISION_MODULES), Some(208.0));
        assert_eq!(stages.state(RECORD_STATUS), Some(49.0));
        assert_eq!(stages.state("SponsoredAdsModule"), None);
    }

    #[test]
    fn running_execution_has_no_end() {
        let stages = stages(&[entry("ExecutionStarted", 0, None), entry("TaskStateEntered", 1, Some("MarkInProgress"))]);
        assert_eq!(stages.execution_ms(), None);
        assert_eq!(stages.state(MARK_IN_PROGRESS), None);
        assert_eq!(stages.state_transitions, 1);
    }
}
