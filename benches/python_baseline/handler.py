"""Python baseline of the TPS functions, for the cold start benchmark.

At import time it does what a Python TPS function does before its first
event: import boto3 and aws_lambda_powertools, create a powertools Logger
and the DynamoDB, SNS, Step Functions, S3, KMS and SQS clients. The handler
then makes the main AWS calls of the Rust function named by
BENCH_FUNCTION_KIND (Stream, Amc, SponsoredAds, Dsp or Status) for the same
event. It skips the Rust functions' ownership checks, tagging and
idempotency reads, so it makes fewer calls per event than they do.
"""

import datetime
import json
import os

import boto3
from aws_lambda_powertools import Logger
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config

logger = Logger(service="tps-bench-baseline", level="INFO")

REGION = os.environ["AWS_REGION"]
KIND = os.environ["BENCH_FUNCTION_KIND"]
STATUS_TABLE = os.environ["TPS_STATUS_TABLE"]
EVENTS_TOPIC_ARN = os.environ["TPS_EVENTS_TOPIC_ARN"]
STATE_MACHINE_ARN = os.environ.get("TPS_STATE_MACHINE_ARN", "")

dynamodb = boto3.client("dynamodb")
sns = boto3.client("sns")
sfn = boto3.client("stepfunctions")
# Path-style addressing, because a local endpoint has no per-bucket DNS names.
s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
kms = boto3.client("kms")
sqs = boto3.client("sqs")

deserializer = TypeDeserializer()
serializer = TypeSerializer()


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


def publish(event_type, tenant_id, digest, scope, module=None, **fields):
    body = {
        "eventType": event_type,
        "tenantId": tenant_id,
        "configDigest": digest,
        "timestamp": now(),
        **fields,
    }
    if module:
        body["module"] = module
    sns.publish(
        TopicArn=EVENTS_TOPIC_ARN,
        Message=json.dumps(body),
        MessageGroupId=tenant_id,
        MessageDeduplicationId=f"{scope}-{event_type}-{module or '-'}"[:128],
        MessageAttributes={
            "eventType": {"DataType": "String", "StringValue": event_type},
            "tenantId": {"DataType": "String", "StringValue": tenant_id},
        },
    )


def put_status(tenant_id, customer_name, status, execution_arn, sequence_number, modules=None):
    item = {
        "tenantId": tenant_id,
        "customerName": customer_name,
        "status": status,
        "executionArn": execution_arn,
        "sequenceNumber": sequence_number,
        "updatedAt": now(),
        "modules": modules or {},
    }
    dynamodb.put_item(
        TableName=STATUS_TABLE,
        Item={key: serializer.serialize(value) for key, value in item.items()},
    )


def handle_stream(event, context):
    for record in event["Records"]:
        image = {key: deserializer.deserialize(value) for key, value in record["dynamodb"]["NewImage"].items()}
        tenant_id = image["customerId"]
        sequence_number = record["dynamodb"]["SequenceNumber"]
        dynamodb.get_item(TableName=STATUS_TABLE, Key={"tenantId": {"S": tenant_id}}, ConsistentRead=True)
        execution = sfn.start_execution(
            stateMachineArn=STATE_MACHINE_ARN,
            name=f"{tenant_id}-provision-{sequence_number[-8:]}",
            input=json.dumps({"tenantId": tenant_id, "tenant": image}, default=str),
        )
        put_status(tenant_id, image["customerName"], "IN_PROGRESS", execution["executionArn"], sequence_number)
        logger.info("execution started", extra={"tenant_id": tenant_id})
    return {"batchItemFailures": []}


def key_policy(account, writers):
    statements = [{
        "Sid": "AccountAdministersKey",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }]
    if writers:
        statements.append({
            "Sid": "WritersEncryptViaS3",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{w}:root" for w in writers]},
            "Action": ["kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
        })
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def bucket_policy(bucket, writers):
    statements = [{
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }]
    if writers:
        statements.append({
            "Sid": "WritersPutObjects",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{w}:root" for w in writers]},
            "Action": ["s3:PutObject", "s3:PutObjectAcl"],
            "Resource": f"arn:aws:s3:::{bucket}/*",
        })
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def key_and_bucket(tenant, account, slug, writers, lifecycle):
    key = kms.create_key(
        Description=f"TPS {slug} key of tenant {tenant['customerId']}",
        Policy=key_policy(account, writers),
    )["KeyMetadata"]
    alias = f"alias/tps-{tenant['customerId']}-{slug}"
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    bucket = f"tps-{tenant['customerPrefix']}-{slug}-{account}-{REGION}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]},
            "BucketKeyEnabled": True,
        }]},
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=bucket_policy(bucket, writers))
    if lifecycle:
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket,
            LifecycleConfiguration={"Rules": [{
                "ID": "expire-reports",
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "Expiration": {"Days": 365},
            }]},
        )
    return {"bucketName": bucket, "kmsKeyArn": key["Arn"], "kmsKeyAlias": alias}


def handle_module(event, context):
    tenant = event["tenant"]
    account = context.invoked_function_arn.split(":")[4]
    if KIND == "Amc":
        amc = tenant["AMC"]
        writers = [amc["amcOrangeAwsAccount"]] + ([amc["amcGreenAwsAccount"]] if amc.get("amcGreenAwsAccount") else [])
        outputs = key_and_bucket(tenant, account, "amc", writers, lifecycle=False)
        module = "AMC"
    elif KIND == "Dsp":
        outputs = key_and_bucket(tenant, account, "dsp", [], lifecycle=True)
        module = "DSP"
    else:
        outputs = {"datasets": {}}
        for dataset in tenant["SponsoredAds"]["streamDatasets"]:
            name = f"tps-{tenant['customerPrefix']}-sa-{dataset}"
            dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            queue_arn = f"arn:aws:sqs:{REGION}:{account}:{name}"
            policy = {
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "MarketingStreamSnsSends",
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                }],
            }
            url = sqs.create_queue(QueueName=name, Attributes={
                "Policy": json.dumps(policy),
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}),
            })["QueueUrl"]
            outputs["datasets"][dataset] = {"queueName": name, "queueUrl": url}
        module = "SponsoredAds"
    scope = event["executionArn"].rsplit(":", 1)[-1]
    publish("ModuleProvisioned", event["tenantId"], event["digest"], scope, module,
            executionArn=event["executionArn"], outputs=outputs)
    logger.info("module task succeeded", extra={"tenant_id": event["tenantId"], "tps_module": module})
    return {"module": module, "operation": "PROVISION", "outputs": outputs}


def handle_status(event, context):
    execution = event["execution"]
    tenant_id = execution["tenantId"]
    dynamodb.get_item(TableName=STATUS_TABLE, Key={"tenantId": {"S": tenant_id}}, ConsistentRead=True)
    modules = {result["module"]: {"state": "ACTIVE", "outputs": result["outputs"]} for result in event["results"]}
    put_status(tenant_id, execution["tenant"]["customerName"], "ACTIVE", event["executionArn"],
               execution["sequenceNumber"], modules)
    scope = event["executionArn"].rsplit(":", 1)[-1]
    publish("TenantActive", tenant_id, execution["digest"], scope, status="ACTIVE",
            executionArn=event["executionArn"], outputs=modules)
    logger.info("execution result recorded", extra={"tenant_id": tenant_id})
    return {"tenantId": tenant_id, "status": "ACTIVE"}


HANDLERS = {
    "Stream": handle_stream,
    "Amc": handle_module,
    "SponsoredAds": handle_module,
    "Dsp": handle_module,
    "Status": handle_status,
}


def handler(event, context):
    return HANDLERS[KIND](event, context)
