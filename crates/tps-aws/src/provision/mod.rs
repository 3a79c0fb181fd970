//! Provisioning of tenant resources. Every call converges: re-running it
//! against existing resources brings them to the config and succeeds.
//!
//! Resources carry the tags `tps:tenant`, `tps:module` and `tps:team`. A
//! resource that already exists and is tagged for another tenant is never
//! touched; that is a [`ProvisionError::Conflict`].

pub mod amc;
pub mod dsp;
pub mod kms;
pub mod s3;
pub mod sponsored_ads;
pub mod sqs;

use std::collections::BTreeMap;

use serde::Serialize;
use tps_core::catalogue::DatasetCatalogue;
use tps_core::module::Module;
use tps_core::naming::TenantNames;
use tps_core::ports::PortError;
use tps_core::tenant::TenantRecord;

use crate::clients::Clients;

pub const TAG_TENANT: &str = "tps:tenant";
pub const TAG_MODULE: &str = "tps:module";
pub const TAG_TEAM: &str = "tps:team";

/// Error of a provisioning step.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// An AWS call failed; transient failures are worth retrying.
    #[error(transparent)]
    Aws(#[from] PortError),
    /// A resource with the tenant's name belongs to someone else.
    #[error("{resource} exists and belongs to {owner}; remove that resource, or give the tenant other names: amcS3BucketName for an AMC bucket, or customerPrefix while no module exists")]
    Conflict { resource: String, owner: String },
    /// The module's section is missing or unusable.
    #[error("{0}")]
    Invalid(String),
}

impl ProvisionError {
    pub fn is_transient(&self) -> bool {
        matches!(self, ProvisionError::Aws(e) if e.transient)
    }

    /// The AWS error code behind this error, if any.
    pub fn aws_code(&self) -> Option<&str> {
        match self {
            ProvisionError::Aws(e) => e.code.as_deref(),
            _ => None,
        }
    }
}

/// The tags of one module's resources, sorted by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tags(pub BTreeMap<String, String>);

impl Tags {
    pub fn new(tenant_id: &str, module: Module, team: &str) -> Self {
        Self(BTreeMap::from([
            (TAG_TENANT.to_string(), tenant_id.to_string()),
            (TAG_MODULE.to_string(), module.section().to_string()),
            (TAG_TEAM.to_string(), team.to_string()),
        ]))
    }

    pub fn tenant(&self) -> &str {
        &self.0[TAG_TENANT]
    }

    /// Checks that a resource's existing `tps:tenant` tag, if any, is this tenant's.
    pub fn check_owner(&self, resource: &str, existing_tenant: Option<&str>) -> Result<(), ProvisionError> {
        match existing_tenant {
            Some(owner) if owner != self.tenant() => Err(ProvisionError::Conflict {
                resource: resource.to_string(),
                owner: format!("tenant {owner:?}"),
            }),
            _ => Ok(()),
        }
    }
}

/// Inputs of a provisioning call besides the clients.
pub struct ModuleContext<'a> {
    pub clients: &'a Clients,
    pub catalogue: &'a DatasetCatalogue,
    pub tenant: &'a TenantRecord,
    /// The AWS account the function runs in.
    pub account: String,
    pub team: String,
}

impl ModuleContext<'_> {
    pub fn tags(&self, module: Module) -> Tags {
        Tags::new(&self.tenant.customer_id, module, &self.team)
    }

    pub fn names(&self, region: &str) -> TenantNames {
        TenantNames {
            tenant_id: self.tenant.customer_id.clone(),
            prefix: self.tenant.customer_prefix.clone(),
            account: self.account.clone(),
            region: region.to_string(),
        }
    }
}

/// A resource that deprovisioning kept, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Kept {
    pub resource: String,
    pub reason: String,
}

/// Outputs of a deprovisioning: what was removed and what was kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Removal {
    pub removed: Vec<String>,
    pub kept: Vec<Kept>,
}

impl Removal {
    pub fn keep(&mut self, resource: impl Into<String>, reason: impl Into<String>) {
        self.kept.push(Kept { resource: resource.into(), reason: reason.into() });
    }
}
