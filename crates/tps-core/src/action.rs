//! The decision a stream record leads to.
//!
//! The decision compares the row's desired modules with the tenant's
//! recorded status, not only with the old image: a module that is already
//! `ACTIVE` with the same section digest is left alone, so redelivered
//! records and re-written rows provision only what is missing or changed.

use serde::{Deserialize, Serialize};

use crate::digest::ConfigDigest;
use crate::module::Module;
use crate::status::{sequence_cmp, ModuleState, TenantState, TenantStatus};
use crate::tenant::TenantRecord;
use crate::workflow::{Action, ModuleTask};

/// The DynamoDB stream event name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StreamEventName {
    Insert,
    Modify,
    Remove,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ModuleOperation {
    Provision,
    Deprovision,
}

/// One module to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleChange {
    pub module: Module,
    pub operation: ModuleOperation,
}

/// Decision for one valid stream record.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Start an execution with these module tasks.
    Run { action: Action, tasks: Vec<ModuleTask> },
    /// Nothing to do, for the stated reason.
    Skip { reason: String },
}

/// Decides what to do with a valid record.
///
/// `record` is the new image (the old image for `REMOVE`); `status` is the
/// tenant's recorded status, if any; `sequence_number` is the record's.
pub fn decide(
    event: StreamEventName,
    record: &TenantRecord,
    status: Option<&TenantStatus>,
    sequence_number: &str,
) -> Decision {
    let digest = ConfigDigest::of_record(record);

    if let Some(status) = status {
        if let Some(recorded) = status.sequence_number.as_deref() {
            if sequence_cmp(sequence_number, recorded).is_lt() {
                return Decision::Skip {
                    reason: format!(
                        "record {sequence_number} is older than the recorded status from record {recorded}"
                    ),
                };
            }
        }
        if status.status == TenantState::InProgress
            && status.digest == digest.as_str()
            && event != StreamEventName::Remove
        {
            return Decision::Skip {
                reason: format!("an execution for digest {} is already in progress", digest.short()),
            };
        }
    }

    if event == StreamEventName::Remove {
        let tasks: Vec<ModuleTask> = recorded_modules(status)
            .into_iter()
            .chain(record.modules())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|module| ModuleTask { module, operation: ModuleOperation::Deprovision, module_digest: None })
            .collect();
        if status.is_some_and(|s| s.status == TenantState::Offboarded) {
            return Decision::Skip { reason: "the tenant is already offboarded".to_string() };
        }
        return Decision::Run { action: Action::Offboard, tasks };
    }

    let mut tasks = Vec::new();
    for module in record.modules() {
        let module_digest = ConfigDigest::of_module(record, module).map(|d| d.0);
        let current = status.and_then(|s| s.modules.get(&module));
        let up_to_date = current.is_some_and(|m| {
            m.state == ModuleState::Active && m.digest.as_deref() == module_digest.as_deref()
        });
        if !up_to_date {
            tasks.push(ModuleTask { module, operation: ModuleOperation::Provision, module_digest });
        }
    }
    for module in recorded_modules(status) {
        if !record.enables(module) {
            tasks.push(ModuleTask { module, operation: ModuleOperation::Deprovision, module_digest: None });
        }
    }

    // A tenant recorded FAILED (a rejected row, or a stopped execution) whose
    // modules are all current needs a run without tasks, which records it
    // ACTIVE again.
    if tasks.is_empty() && status.is_some_and(|s| s.status == TenantState::Failed) {
        return Decision::Run { action: Action::Provision, tasks };
    }
    if tasks.is_empty() {
        return Decision::Skip {
            reason: "every enabled module is already active with this config".to_string(),
        };
    }
    Decision::Run { action: Action::Provision, tasks }
}

/// Modules the status table records as provisioned or failed (not removed).
fn recorded_modules(status: Option<&TenantStatus>) -> Vec<Module> {
    status
        .map(|s| {
            s.modules
                .iter()
                .filter(|(_, m)| m.state != ModuleState::Removed)
                .map(|(module, _)| *module)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::status::ModuleStatus;
    use crate::{validate, DatasetCatalogue};

    fn record() -> TenantRecord {
        validate(
            &json!({
                "customerId": "acme-001", "customerName": "Acme", "customerPrefix": "acme",
                "endemicType": "ENDEMIC",
                "AMC": {"amcOrangeAwsAccount": "111122223333"},
                "SponsoredAds": {"advertisingRegion": "NA", "profileIds": ["1"], "streamDatasets": ["sp-traffic"]}
            }),
            &DatasetCatalogue::embedded(),
        )
        .unwrap()
    }

    fn status(state: TenantState, modules: &[(Module, ModuleState, Option<String>)]) -> TenantStatus {
        TenantStatus {
            tenant_id: "acme-001".into(),
            customer_name: "Acme".into(),
            customer_prefix: Some("acme".into()),
            status: state,
            digest: "old".into(),
            action: Action::Provision,
            execution_arn: None,
            sequence_number: Some("100".into()),
            updated_at: "t".into(),
            modules: modules
                .iter()
                .map(|(m, s, d)| {
                    (*m, ModuleStatus {
                        state: *s,
                        digest: d.clone(),
                        outputs: json!({}),
                        error: None,
                        updated_at: "t".into(),
                        execution_arn: None,
                    })
                })
                .collect::<BTreeMap<_, _>>(),
            errors: vec![],
        }
    }

    fn operations(decision: Decision) -> Vec<(Module, ModuleOperation)> {
        match decision {
            Decision::Run { tasks, .. } => tasks.into_iter().map(|t| (t.module, t.operation)).collect(),
            Decision::Skip { reason } => panic!("skipped: {reason}"),
        }
    }

    #[test]
    fn insert_provisions_every_enabled_module() {
        let ops = operations(decide(StreamEventName::Insert, &record(), None, "200"));
        assert_eq!(
            ops,
            vec![(Module::Amc, ModuleOperation::Provision), (Module::SponsoredAds, ModuleOperation::Provision)]
        );
    }

    #[test]
    fn active_module_with_same_digest_is_skipped() {
        let r = record();
        let amc = ConfigDigest::of_module(&r, Module::Amc).map(|d| d.0);
        let s = status(TenantState::Partial, &[
            (Module::Amc, ModuleState::Active, amc),
            (Module::SponsoredAds, ModuleState::Failed, None),
        ]);
        let ops = operations(decide(StreamEventName::Modify, &r, Some(&s), "200"));
        assert_eq!(ops, vec![(Module::SponsoredAds, ModuleOperation::Provision)]);
    }

    #[test]
    fn removed_section_is_deprovisioned() {
        let r = record();
        let amc = ConfigDigest::of_module(&r, Module::Amc).map(|d| d.0);
        let sa = ConfigDigest::of_module(&r, Module::SponsoredAds).map(|d| d.0);
        let s = status(TenantState::Active, &[
            (Module::Amc, ModuleState::Active, amc),
            (Module::SponsoredAds, ModuleState::Active, sa),
            (Module::Dsp, ModuleState::Active, Some("x".into())),
        ]);
        let ops = operations(decide(StreamEventName::Modify, &r, Some(&s), "200"));
        assert_eq!(ops, vec![(Module::Dsp, ModuleOperation::Deprovision)]);
    }

    #[test]
    fn unchanged_row_is_skipped() {
        let r = record();
        let s = status(TenantState::Active, &[
            (Module::Amc, ModuleState::Active, ConfigDigest::of_module(&r, Module::Amc).map(|d| d.0)),
            (Module::SponsoredAds, ModuleState::Active, ConfigDigest::of_module(&r, Module::SponsoredAds).map(|d| d.0)),
        ]);
        assert!(matches!(decide(StreamEventName::Modify, &r, Some(&s), "200"), Decision::Skip { .. }));
    }

    #[test]
    fn failed_tenant_with_current_modules_runs_without_tasks() {
        let r = record();
        let s = status(TenantState::Failed, &[
            (Module::Amc, ModuleState::Active, ConfigDigest::of_module(&r, Module::Amc).map(|d| d.0)),
            (Module::SponsoredAds, ModuleState::Active, ConfigDigest::of_module(&r, Module::SponsoredAds).map(|d| d.0)),
        ]);
        let decision = decide(StreamEventName::Modify, &r, Some(&s), "200");
        assert_eq!(decision, Decision::Run { action: Action::Provision, tasks: vec![] });
    }

    #[test]
    fn older_record_is_skipped() {
        let s = status(TenantState::Active, &[]);
        let decision = decide(StreamEventName::Modify, &record(), Some(&s), "99");
        assert!(matches!(decision, Decision::Skip { reason } if reason.contains("older")));
    }

    #[test]
    fn remove_deprovisions_recorded_and_enabled_modules() {
        let s = status(TenantState::Partial, &[(Module::Dsp, ModuleState::Failed, None)]);
        let decision = decide(StreamEventName::Remove, &record(), Some(&s), "200");
        let Decision::Run { action, tasks } = decision else { panic!("expected a run") };
        assert_eq!(action, Action::Offboard);
        let modules: Vec<Module> = tasks.iter().map(|t| t.module).collect();
        assert_eq!(modules, vec![Module::Amc, Module::SponsoredAds, Module::Dsp]);
        assert!(tasks.iter().all(|t| t.operation == ModuleOperation::Deprovision));
    }
}
