//! Resource names. The stack's names come from the team and environment in
//! `ddk.json`; a tenant's names come from its id and prefix. The CDK app
//! builds the same stack names, and a test compares the two.

use crate::digest::short_hash;
use crate::module::Module;

/// Maximum length of an SQS queue name.
const QUEUE_NAME_MAX: usize = 80;
const DLQ_SUFFIX: &str = "-dlq";

/// The functions of the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FunctionKind {
    Stream,
    Amc,
    SponsoredAds,
    Dsp,
    Status,
}

impl FunctionKind {
    pub const ALL: [FunctionKind; 5] = [
        FunctionKind::Stream,
        FunctionKind::Amc,
        FunctionKind::SponsoredAds,
        FunctionKind::Dsp,
        FunctionKind::Status,
    ];

    /// The name part that distinguishes this function, as used in the
    /// function name and in the state machine's substitution keys.
    pub fn label(self) -> &'static str {
        match self {
            FunctionKind::Stream => "Stream",
            FunctionKind::Amc => "Amc",
            FunctionKind::SponsoredAds => "SponsoredAds",
            FunctionKind::Dsp => "Dsp",
            FunctionKind::Status => "Status",
        }
    }

    /// The module function that provisions `module`.
    pub fn for_module(module: Module) -> Self {
        match module {
            Module::Amc => FunctionKind::Amc,
            Module::SponsoredAds => FunctionKind::SponsoredAds,
            Module::Dsp => FunctionKind::Dsp,
        }
    }

    /// Key of this function's ARN in the state machine definition's
    /// substitutions, such as `AmcFunctionArn`.
    pub fn substitution_key(self) -> String {
        format!("{}FunctionArn", self.label())
    }
}

/// Names of the stack's own resources for one team and environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackNames {
    pub team: String,
    pub env: String,
}

impl StackNames {
    pub fn new(team: impl Into<String>, env: impl Into<String>) -> Self {
        Self { team: team.into(), env: env.into() }
    }

    fn name(&self, part: &str) -> String {
        format!("tps-{}-{part}-{}", self.team, self.env)
    }

    pub fn tenant_table(&self) -> String {
        self.name("CustomerConfig")
    }

    pub fn status_table(&self) -> String {
        self.name("TenantStatus")
    }

    pub fn events_topic(&self) -> String {
        format!("{}.fifo", self.name("TenantEvents"))
    }

    pub fn status_queue(&self) -> String {
        format!("{}.fifo", self.name("TenantStatus"))
    }

    pub fn status_dlq(&self) -> String {
        format!("{}.fifo", self.name("TenantStatusDlq"))
    }

    /// Standard queue that receives the event source mapping's failed batches.
    pub fn stream_failure_queue(&self) -> String {
        self.name("StreamFailures")
    }

    pub fn state_machine(&self) -> String {
        self.name("Onboarding")
    }

    pub fn function(&self, kind: FunctionKind) -> String {
        self.name(kind.label())
    }

    /// Alias of the stack's key for tables, topic and queues.
    pub fn data_key_alias(&self) -> String {
        format!("alias/{}", self.name("data"))
    }
}

/// Names of one tenant's resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantNames {
    pub tenant_id: String,
    pub prefix: String,
    pub account: String,
    pub region: String,
}

impl TenantNames {
    pub fn key_alias(&self, module: Module) -> String {
        format!("alias/tps-{}-{}", self.tenant_id, module.slug())
    }

    /// The AMC results bucket: `tps-{prefix}-amc-{account}-{region}`, at most
    /// 56 characters for a 20-character prefix and the longest region names.
    pub fn amc_bucket(&self) -> String {
        format!("tps-{}-amc-{}-{}", self.prefix, self.account, self.region)
    }

    pub fn dsp_bucket(&self) -> String {
        format!("tps-{}-dsp-{}-{}", self.prefix, self.account, self.region)
    }

    /// The ingress queue for one Marketing Stream dataset. Names that would
    /// leave no room for the DLQ suffix within SQS's 80 characters are cut and
    /// end in a hash of the full name, so they stay unique.
    pub fn stream_queue(&self, module: Module, dataset: &str) -> String {
        let full = format!("tps-{}-{}-{dataset}", self.prefix, module.slug());
        let limit = QUEUE_NAME_MAX - DLQ_SUFFIX.len();
        if full.len() <= limit {
            return full;
        }
        let hash = short_hash(&full, 8);
        let head = full[..limit - hash.len() - 1].trim_end_matches('-');
        format!("{head}-{hash}")
    }

    pub fn stream_dlq(&self, module: Module, dataset: &str) -> String {
        format!("{}{DLQ_SUFFIX}", self.stream_queue(module, dataset))
    }

    /// The S3 prefix of one DSP advertiser's reports.
    pub fn advertiser_prefix(advertiser_id: &str) -> String {
        format!("advertisers/{advertiser_id}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> TenantNames {
        TenantNames {
            tenant_id: "acme-001".into(),
            prefix: "acme".into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn stack_names_follow_quickstart_pattern() {
        let names = StackNames::new("demoteam", "dev");
        assert_eq!(names.tenant_table(), "tps-demoteam-CustomerConfig-dev");
        assert_eq!(names.status_table(), "tps-demoteam-TenantStatus-dev");
        assert_eq!(names.events_topic(), "tps-demoteam-TenantEvents-dev.fifo");
        assert_eq!(names.status_queue(), "tps-demoteam-TenantStatus-dev.fifo");
        assert_eq!(names.function(FunctionKind::SponsoredAds), "tps-demoteam-SponsoredAds-dev");
        assert_eq!(FunctionKind::Amc.substitution_key(), "AmcFunctionArn");
    }

    #[test]
    fn tenant_names() {
        let names = tenant();
        assert_eq!(names.key_alias(Module::Amc), "alias/tps-acme-001-amc");
        assert_eq!(names.amc_bucket(), "tps-acme-amc-123456789012-us-east-1");
        assert_eq!(names.dsp_bucket(), "tps-acme-dsp-123456789012-us-east-1");
        assert_eq!(names.stream_queue(Module::SponsoredAds, "sp-traffic"), "tps-acme-sa-sp-traffic");
        assert_eq!(names.stream_dlq(Module::SponsoredAds, "sp-traffic"), "tps-acme-sa-sp-traffic-dlq");
        assert_eq!(TenantNames::advertiser_prefix("42"), "advertisers/42/");
    }

    #[test]
    fn longest_bucket_name_fits() {
        let names = TenantNames { prefix: "p".repeat(20), region: "ap-southeast-2".into(), ..tenant() };
        assert!(names.amc_bucket().len() <= 63, "{}", names.amc_bucket());
        assert!(crate::validate::bucket_rule(&names.amc_bucket()).is_ok());
    }

    #[test]
    fn long_queue_names_are_cut_with_a_hash() {
        let names = TenantNames { prefix: "p".repeat(20), ..tenant() };
        let dataset = "sponsored-ads-campaign-diagnostics-recommendations";
        let queue = names.stream_queue(Module::SponsoredAds, dataset);
        let dlq = names.stream_dlq(Module::SponsoredAds, dataset);
        assert!(queue.len() <= 76, "{queue}");
        assert!(dlq.len() <= 80, "{dlq}");
        assert_ne!(queue, names.stream_queue(Module::SponsoredAds, "sponsored-ads-campaign-diagnostics-recommendationz"));
        assert_eq!(queue, names.stream_queue(Module::SponsoredAds, dataset));
    }
}
