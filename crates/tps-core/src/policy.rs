//! The IAM policy documents the modules apply: key policies, bucket policies
//! and queue policies. They are built here, as JSON, so that tests and
//! benchmarks check them without AWS.

use serde_json::{json, Value};

/// Key policy of a tenant key. The account root administers the key (the
/// default KMS key policy, so IAM policies in the account apply); each
/// `writer_accounts` entry may use the key only through S3 in `region`.
pub fn tenant_key_policy(account: &str, region: &str, writer_accounts: &[&str]) -> Value {
    let mut statements = vec![json!({
        "Sid": "AccountAdministersKey",
        "Effect": "Allow",
        "Principal": { "AWS": format!("arn:aws:iam::{account}:root") },
        "Action": "kms:*",
        "Resource": "*"
    })];
    if !writer_accounts.is_empty() {
        let principals: Vec<String> =
            writer_accounts.iter().map(|a| format!("arn:aws:iam::{a}:root")).collect();
        statements.push(json!({
            "Sid": "WritersEncryptViaS3",
            "Effect": "Allow",
            "Principal": { "AWS": principals },
            "Action": ["kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": format!("s3.{region}.amazonaws.com"),
                    "kms:CallerAccount": writer_accounts
                }
            }
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// Bucket policy: deny every request that does not use TLS, and let each of
/// `writer_accounts` put objects (with ACLs) into the bucket.
pub fn bucket_policy(bucket: &str, writer_accounts: &[&str]) -> Value {
    let bucket_arn = format!("arn:aws:s3:::{bucket}");
    let mut statements = vec![json!({
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn.clone(), format!("{bucket_arn}/*")],
        "Condition": { "Bool": { "aws:SecureTransport": "false" } }
    })];
    if !writer_accounts.is_empty() {
        let principals: Vec<String> =
            writer_accounts.iter().map(|a| format!("arn:aws:iam::{a}:root")).collect();
        statements.push(json!({
            "Sid": "WritersPutObjects",
            "Effect": "Allow",
            "Principal": { "AWS": principals },
            "Action": ["s3:PutObject", "s3:PutObjectAcl"],
            "Resource": format!("{bucket_arn}/*")
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// Policy of a Marketing Stream ingress queue: Amazon SNS may send only from
/// the dataset's topics (`sns_source_arn`), and Amazon's reviewer role may read
/// the queue's attributes to confirm the subscription.
pub fn ingress_queue_policy(queue_arn: &str, sns_source_arn: &str, reviewer_role_arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "MarketingStreamSnsSends",
                "Effect": "Allow",
                "Principal": { "Service": "sns.amazonaws.com" },
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": { "ArnLike": { "aws:SourceArn": sns_source_arn } }
            },
            {
                "Sid": "MarketingStreamReviewerReads",
                "Effect": "Allow",
                "Principal": { "AWS": reviewer_role_arn },
                "Action": "sqs:GetQueueAttributes",
                "Resource": queue_arn
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": { "Bool": { "aws:SecureTransport": "false" } }
            }
        ]
    })
}

/// Redrive policy that moves a message to `dlq_arn` after `max_receive_count` receives.
pub fn redrive_policy(dlq_arn: &str, max_receive_count: u32) -> Value {
    json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_policy_scopes_writers_to_s3() {
        let policy = tenant_key_policy("123456789012", "eu-west-1", &["111122223333"]);
        let writers = &policy["Statement"][1];
        assert_eq!(writers["Principal"]["AWS"][0], "arn:aws:iam::111122223333:root");
        assert_eq!(writers["Condition"]["StringEquals"]["kms:ViaService"], "s3.eu-west-1.amazonaws.com");
        assert_eq!(policy["Statement"][0]["Principal"]["AWS"], "arn:aws:iam::123456789012:root");
    }

    #[test]
    fn key_policy_without_writers_has_admin_only() {
        let policy = tenant_key_policy("123456789012", "eu-west-1", &[]);
        assert_eq!(policy["Statement"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn bucket_policy_denies_plain_http_and_allows_writers() {
        let policy = bucket_policy("b", &["111122223333", "444455556666"]);
        assert_eq!(policy["Statement"][0]["Effect"], "Deny");
        assert_eq!(policy["Statement"][0]["Condition"]["Bool"]["aws:SecureTransport"], "false");
        assert_eq!(policy["Statement"][1]["Resource"], "arn:aws:s3:::b/*");
        assert_eq!(policy["Statement"][1]["Principal"]["AWS"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn queue_policy_matches_source_arn() {
        let policy = ingress_queue_policy("arn:q", "arn:aws:sns:us-east-1:906013806264:*", "arn:role");
        assert_eq!(policy["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"], "arn:aws:sns:us-east-1:906013806264:*");
        assert_eq!(policy["Statement"][1]["Principal"]["AWS"], "arn:role");
    }
}
