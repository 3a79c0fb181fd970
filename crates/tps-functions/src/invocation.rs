//! What a handler knows about its invocation.

/// The request id and the ARN the function was invoked by.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub function_arn: String,
}

impl Invocation {
    pub fn from_context(context: &lambda_runtime::Context) -> Self {
        Self { request_id: context.request_id.clone(), function_arn: context.invoked_function_arn.clone() }
    }

    /// The account id, the fifth field of the function ARN.
    pub fn account(&self) -> Option<&str> {
        self.function_arn.split(':').nth(4).filter(|a| !a.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_comes_from_function_arn() {
        let invocation = Invocation {
            request_id: "r".into(),
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:tps-demoteam-Amc-dev".into(),
        };
        assert_eq!(invocation.account(), Some("123456789012"));
        let bare = Invocation { request_id: "r".into(), function_arn: "x".into() };
        assert_eq!(bare.account(), None);
    }
}
