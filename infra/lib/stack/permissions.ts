// IAM statements of the functions. Stack resources are granted by ARN; the
// tenant resources that module functions create at run time are granted by
// the `tps-` name prefix and, where the service evaluates them, by tags.

import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

import { RESOURCE_PREFIX } from '../naming';

/** Tags that the module functions put on every tenant resource, at creation where the API allows it. */
export const TAG_TENANT = 'tps:tenant';
export const TAG_MODULE = 'tps:module';
export const TAG_TEAM = 'tps:team';
export const TENANT_TAG_KEYS = [TAG_TENANT, TAG_MODULE, TAG_TEAM] as const;

/**
 * Tag on every resource of a TPS stack. The module policies deny changes to
 * keys and queues that carry it, so a module function cannot take over
 * a stack's own data key or queues even though their names match `tps-*`.
 */
export const TAG_STACK = 'tps:stack';

/** KMS actions that use the data key for tables, topic, queues and the state machine. */
export const DATA_KEY_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'];

function regionalArn(service: string, resource: string): string {
  return `arn:${Aws.PARTITION}:${service}:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
}

/** Any KMS key in the stack's account and region. */
export const ANY_KEY_ARN = regionalArn('kms', 'key/*');
/** KMS aliases with the TPS prefix. */
export const TENANT_ALIAS_ARN = regionalArn('kms', `alias/${RESOURCE_PREFIX}-*`);
/** SQS queues with the TPS prefix. */
export const TENANT_QUEUE_ARN = regionalArn('sqs', `${RESOURCE_PREFIX}-*`);
/** Every queue in the account and region; ListQueues is authorized against this resource. */
export const ANY_QUEUE_ARN = regionalArn('sqs', '*');
/** S3 buckets with the TPS prefix; bucket ARNs carry no region or account. */
export const TENANT_BUCKET_ARN = `arn:${Aws.PARTITION}:s3:::${RESOURCE_PREFIX}-*`;

/** Conditions that a request creating or tagging a resource carries this team's tenant tags and no others. */
function requestTagConditions(team: string): Record<string, Record<string, unknown>> {
  return {
    StringEquals: { [`aws:RequestTag/${TAG_TEAM}`]: team },
    'ForAllValues:StringEquals': { 'aws:TagKeys': [...TENANT_TAG_KEYS] },
  };
}

/** Conditions that an existing resource is a tenant resource of this team. */
function resourceTagConditions(team: string): Record<string, Record<string, unknown>> {
  return {
    StringEquals: { [`aws:ResourceTag/${TAG_TEAM}`]: team },
    Null: { [`aws:ResourceTag/${TAG_TENANT}`]: 'false', [`aws:ResourceTag/${TAG_MODULE}`]: 'false' },
  };
}

/** Denies `actions` on `resources` that carry the stack tag. */
function protectStackResources(sid: string, actions: string[], resources: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    effect: iam.Effect.DENY,
    actions,
    resources,
    conditions: { Null: { [`aws:ResourceTag/${TAG_STACK}`]: 'false' } },
  });
}

/** Tenant KMS keys and their `alias/tps-*` aliases (AMC and DSP functions). */
export function kmsProvisioningStatements(team: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'CreateTenantKeys',
      // CreateKey has no resource to scope; the tag conditions limit it to keys tagged for this team.
      actions: ['kms:CreateKey'],
      resources: ['*'],
      conditions: {
        ...requestTagConditions(team),
        Null: { [`aws:RequestTag/${TAG_TENANT}`]: 'false', [`aws:RequestTag/${TAG_MODULE}`]: 'false' },
      },
    }),
    new iam.PolicyStatement({
      sid: 'TagTenantKeys',
      // CreateKey with tags also needs TagResource on every key of the account and region.
      // NOTE: the IfExists condition lets an untagged key be tagged for this team; the stack's
      // own keys are protected by the deny statement below.
      actions: ['kms:TagResource'],
      resources: [ANY_KEY_ARN],
      conditions: {
        ...requestTagConditions(team),
        StringEqualsIfExists: { [`aws:ResourceTag/${TAG_TEAM}`]: team },
      },
    }),
    new iam.PolicyStatement({
      sid: 'ManageTenantKeys',
      actions: [
        'kms:GetKeyPolicy',
        'kms:PutKeyPolicy',
        'kms:EnableKey',
        'kms:EnableKeyRotation',
        'kms:ScheduleKeyDeletion',
        'kms:CancelKeyDeletion',
        'kms:CreateAlias',
        'kms:DeleteAlias',
      ],
      resources: [ANY_KEY_ARN],
      conditions: resourceTagConditions(team),
    }),
    new iam.PolicyStatement({
      sid: 'ReadKeys',
      // Reads stay unconditioned so that a function can report who owns a key behind a tenant alias.
      actions: ['kms:DescribeKey', 'kms:ListResourceTags'],
      resources: [ANY_KEY_ARN],
    }),
    new iam.PolicyStatement({
      sid: 'ManageTenantAliases',
      // Alias operations are authorized on the alias and on its key; the key side is tag-scoped above.
      actions: ['kms:CreateAlias', 'kms:DeleteAlias'],
      resources: [TENANT_ALIAS_ARN],
    }),
    new iam.PolicyStatement({
      sid: 'ListAliases',
      actions: ['kms:ListAliases'],
      resources: ['*'],
    }),
    protectStackResources(
      'ProtectStackKeys',
      [
        'kms:TagResource',
        'kms:PutKeyPolicy',
        'kms:EnableKey',
        'kms:ScheduleKeyDeletion',
        'kms:CancelKeyDeletion',
        'kms:CreateAlias',
        'kms:DeleteAlias',
      ],
      [ANY_KEY_ARN],
    ),
  ];
}

/** Tenant buckets `tps-*` (AMC and DSP functions). */
export function s3ProvisioningStatements(): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'ManageTenantBuckets',
      // NOTE: S3 bucket actions are scoped by name only, so these functions can change any
      // `tps-*` bucket in the account, including another team's.
      actions: [
        's3:CreateBucket',
        's3:DeleteBucket',
        's3:ListBucket',
        's3:ListBucketVersions',
        's3:PutEncryptionConfiguration',
        's3:GetEncryptionConfiguration',
        's3:PutBucketPublicAccessBlock',
        's3:GetBucketPublicAccessBlock',
        's3:PutBucketPolicy',
        's3:GetBucketPolicy',
        's3:DeleteBucketPolicy',
        's3:PutBucketTagging',
        's3:GetBucketTagging',
        's3:PutBucketOwnershipControls',
        's3:PutLifecycleConfiguration',
      ],
      resources: [TENANT_BUCKET_ARN],
    }),
  ];
}

/** Marketing Stream ingress queues `tps-*` and their DLQs (Sponsored Ads and DSP functions). */
export function sqsProvisioningStatements(team: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'CreateTenantQueues',
      actions: ['sqs:CreateQueue'],
      resources: [TENANT_QUEUE_ARN],
      conditions: {
        ...requestTagConditions(team),
        Null: { [`aws:RequestTag/${TAG_TENANT}`]: 'false', [`aws:RequestTag/${TAG_MODULE}`]: 'false' },
      },
    }),
    new iam.PolicyStatement({
      sid: 'TagTenantQueues',
      // CreateQueue with tags also needs TagQueue, before the queue has tags of its own.
      actions: ['sqs:TagQueue'],
      resources: [TENANT_QUEUE_ARN],
      conditions: {
        ...requestTagConditions(team),
        StringEqualsIfExists: { [`aws:ResourceTag/${TAG_TEAM}`]: team },
      },
    }),
    new iam.PolicyStatement({
      sid: 'ManageTenantQueues',
      actions: ['sqs:SetQueueAttributes', 'sqs:DeleteQueue'],
      resources: [TENANT_QUEUE_ARN],
      conditions: resourceTagConditions(team),
    }),
    new iam.PolicyStatement({
      sid: 'ReadTenantQueues',
      // GetQueueUrl must return QueueDoesNotExist for a queue not yet created, so reads carry no tag condition.
      actions: ['sqs:GetQueueUrl', 'sqs:GetQueueAttributes', 'sqs:ListQueueTags'],
      resources: [TENANT_QUEUE_ARN],
    }),
    new iam.PolicyStatement({
      sid: 'ListQueues',
      actions: ['sqs:ListQueues'],
      resources: [ANY_QUEUE_ARN],
    }),
    protectStackResources('ProtectStackQueues', ['sqs:TagQueue', 'sqs:SetQueueAttributes', 'sqs:DeleteQueue'], [TENANT_QUEUE_ARN]),
  ];
}
