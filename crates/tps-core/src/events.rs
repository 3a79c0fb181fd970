//! Notifications published on the tenant events topic.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::module::Module;
use crate::status::{ModuleError, TenantState};
use crate::validate::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    TenantValidationFailed,
    TenantProvisioningStarted,
    TenantOffboardingStarted,
    ModuleProvisioned,
    ModuleDeprovisioned,
    ModuleFailed,
    TenantActive,
    TenantPartiallyActive,
    TenantFailed,
    TenantOffboarded,
}

impl EventType {
    pub const ALL: [EventType; 10] = [
        EventType::TenantValidationFailed,
        EventType::TenantProvisioningStarted,
        EventType::TenantOffboardingStarted,
        EventType::ModuleProvisioned,
        EventType::ModuleDeprovisioned,
        EventType::ModuleFailed,
        EventType::TenantActive,
        EventType::TenantPartiallyActive,
        EventType::TenantFailed,
        EventType::TenantOffboarded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::TenantValidationFailed => "TenantValidationFailed",
            EventType::TenantProvisioningStarted => "TenantProvisioningStarted",
            EventType::TenantOffboardingStarted => "TenantOffboardingStarted",
            EventType::ModuleProvisioned => "ModuleProvisioned",
            EventType::ModuleDeprovisioned => "ModuleDeprovisioned",
            EventType::ModuleFailed => "ModuleFailed",
            EventType::TenantActive => "TenantActive",
            EventType::TenantPartiallyActive => "TenantPartiallyActive",
            EventType::TenantFailed => "TenantFailed",
            EventType::TenantOffboarded => "TenantOffboarded",
        }
    }

    /// Whether this event ends a tenant's execution.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            EventType::TenantValidationFailed
                | EventType::TenantActive
                | EventType::TenantPartiallyActive
                | EventType::TenantFailed
                | EventType::TenantOffboarded
        )
    }

    /// The tenant event for a final tenant state.
    pub fn for_state(state: TenantState) -> Self {
        match state {
            TenantState::Active => EventType::TenantActive,
            TenantState::Partial => EventType::TenantPartiallyActive,
            TenantState::Offboarded => EventType::TenantOffboarded,
            TenantState::Failed | TenantState::InProgress => EventType::TenantFailed,
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One message on the tenant events topic. The body is this struct as JSON;
/// `eventType`, `tenantId` and `module` are also sent as message attributes
/// for subscription filter policies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub event_type: EventType,
    pub tenant_id: String,
    pub config_digest: String,
    /// Empty for a row rejected before any execution started.
    #[serde(default)]
    pub execution_arn: String,
    /// RFC 3339 time the event was created.
    pub timestamp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<Module>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TenantState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ModuleError>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Deduplication id; the same event of the same execution always has the
    /// same one, so a retried publish is delivered once.
    #[serde(skip)]
    pub deduplication_id: String,
}

impl Notification {
    /// A notification whose deduplication id is derived from the tenant,
    /// `scope` (an execution name, or a sequence number for events outside an
    /// execution), the event type and the module.
    pub fn new(event_type: EventType, tenant_id: &str, config_digest: &str, scope: &str, module: Option<Module>) -> Self {
        let module_part = module.map(|m| m.section()).unwrap_or("tenant");
        let raw = format!("{tenant_id}-{scope}-{event_type}-{module_part}");
        let deduplication_id = if raw.len() <= 128 {
            raw
        } else {
            crate::digest::short_hash(&raw, 64)
        };
        Self {
            event_type,
            tenant_id: tenant_id.to_string(),
            config_digest: config_digest.to_string(),
            execution_arn: String::new(),
            timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            module,
            status: None,
            outputs: None,
            error: None,
            errors: Vec::new(),
            deduplication_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deduplication_id_is_stable_and_bounded() {
        let a = Notification::new(EventType::ModuleProvisioned, "acme", "d", "exec-1", Some(Module::Amc));
        let b = Notification::new(EventType::ModuleProvisioned, "acme", "d", "exec-1", Some(Module::Amc));
        assert_eq!(a.deduplication_id, b.deduplication_id);
        let c = Notification::new(EventType::ModuleProvisioned, "acme", "d", "exec-1", Some(Module::Dsp));
        assert_ne!(a.deduplication_id, c.deduplication_id);
        let long = Notification::new(EventType::TenantActive, &"t".repeat(40), "d", &"x".repeat(80), None);
        assert!(long.deduplication_id.len() <= 128);
    }

    #[test]
    fn notification_json_shape() {
        let mut n = Notification::new(EventType::TenantActive, "acme", "abc", "e", None);
        n.status = Some(TenantState::Active);
        let json = serde_json::to_value(&n).unwrap();
        assert_eq!(json["eventType"], "TenantActive");
        assert_eq!(json["tenantId"], "acme");
        assert_eq!(json["configDigest"], "abc");
        assert_eq!(json["status"], "ACTIVE");
        assert!(json.get("deduplicationId").is_none());
        assert!(json.get("module").is_none());
    }
}
