// Least privilege: each role's allowed actions, their resources and the tag
// conditions on tenant resources.

import * as assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { Template } from 'aws-cdk-lib/assertions';

import { FUNCTION_KINDS, tpsNames, type FunctionKind } from '../lib/naming';
import { asArray, buildTestApp, resourceNamed, resourcesOfType, statementsOfRole } from './support';

const names = tpsNames('demoteam', 'dev');

const PARTITION = { Ref: 'AWS::Partition' };
const REGION = { Ref: 'AWS::Region' };
const ACCOUNT = { Ref: 'AWS::AccountId' };
const regional = (service: string, resource: string) => ({
  'Fn::Join': ['', ['arn:', PARTITION, `:${service}:`, REGION, ':', ACCOUNT, `:${resource}`]],
});
const ANY_KEY = regional('kms', 'key/*');
const TENANT_ALIAS = regional('kms', 'alias/tps-*');
const TENANT_QUEUE = regional('sqs', 'tps-*');
const ANY_QUEUE = regional('sqs', '*');
const TENANT_BUCKET = { 'Fn::Join': ['', ['arn:', PARTITION, ':s3:::tps-*']] };

const TENANT_TAG_KEYS = ['tps:tenant', 'tps:module', 'tps:team'];

const COMMON_ACTIONS = [
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'sns:Publish',
  'xray:PutTelemetryRecords',
  'xray:PutTraceSegments',
];

const KMS_PROVISIONING = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:CreateKey',
  'kms:DeleteAlias',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:GetKeyPolicy',
  'kms:ListAliases',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
];
const S3_PROVISIONING = [
  's3:CreateBucket',
  's3:DeleteBucket',
  's3:DeleteBucketPolicy',
  's3:GetBucketPolicy',
  's3:GetBucketPublicAccessBlock',
  's3:GetBucketTagging',
  's3:GetEncryptionConfiguration',
  's3:ListBucket',
  's3:ListBucketVersions',
  's3:PutBucketOwnershipControls',
  's3:PutBucketPolicy',
  's3:PutBucketPublicAccessBlock',
  's3:PutBucketTagging',
  's3:PutEncryptionConfiguration',
  's3:PutLifecycleConfiguration',
];
const SQS_PROVISIONING = [
  'sqs:CreateQueue',
  'sqs:DeleteQueue',
  'sqs:GetQueueAttributes',
  'sqs:GetQueueUrl',
  'sqs:ListQueueTags',
  'sqs:ListQueues',
  'sqs:SetQueueAttributes',
  'sqs:TagQueue',
];

const EXPECTED_ACTIONS: Readonly<Record<FunctionKind, string[]>> = {
  Stream: [
    ...COMMON_ACTIONS,
    'dynamodb:DescribeStream',
    'dynamodb:GetItem',
    'dynamodb:GetRecords',
    'dynamodb:GetShardIterator',
    'dynamodb:ListStreams',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:UpdateItem',
    'sqs:SendMessage',
    'states:DescribeExecution',
    'states:StartExecution',
  ],
  Status: [...COMMON_ACTIONS, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  Amc: [...COMMON_ACTIONS, ...KMS_PROVISIONING, ...S3_PROVISIONING],
  SponsoredAds: [...COMMON_ACTIONS, ...SQS_PROVISIONING],
  Dsp: [...COMMON_ACTIONS, ...KMS_PROVISIONING, ...S3_PROVISIONING, ...SQS_PROVISIONING],
};

describe('IAM', () => {
  let template: Template;
  const roleIds: Partial<Record<FunctionKind, string>> = {};

  before(() => {
    template = Template.fromStack(buildTestApp().stacks[0]);
    for (const kind of FUNCTION_KINDS) {
      const [, fn] = resourceNamed(template, 'AWS::Lambda::Function', 'FunctionName', names.functions[kind]);
      roleIds[kind] = fn.Properties!.Role['Fn::GetAtt'][0];
    }
  });

  const allowed = (kind: FunctionKind) => statementsOfRole(template, roleIds[kind]!).filter((s) => s.Effect === 'Allow');
  const statementWith = (kind: FunctionKind, action: string) => {
    const matches = allowed(kind).filter((s) => asArray(s.Action).includes(action));
    assert.equal(matches.length, 1, `${kind}: one statement allows ${action}`);
    return matches[0];
  };

  it('uses no wildcard action anywhere in the stack', () => {
    for (const [id, policy] of Object.entries(resourcesOfType(template, 'AWS::IAM::Policy'))) {
      for (const statement of policy.Properties!.PolicyDocument.Statement) {
        for (const action of asArray<string>(statement.Action)) {
          assert.ok(!action.includes('*'), `${id} has wildcard action ${action}`);
        }
      }
    }
  });

  it('attaches no managed policy to any role', () => {
    for (const [id, role] of Object.entries(resourcesOfType(template, 'AWS::IAM::Role'))) {
      assert.equal(role.Properties!.ManagedPolicyArns, undefined, id);
    }
  });

  for (const kind of FUNCTION_KINDS) {
    it(`allows ${kind} exactly its actions`, () => {
      const actions = [...new Set(allowed(kind).flatMap((s) => asArray<string>(s.Action)))].sort();
      assert.deepEqual(actions, [...EXPECTED_ACTIONS[kind]].sort());
    });
  }

  it('scopes stack resource grants to those resources', () => {
    const [keyId] = Object.keys(resourcesOfType(template, 'AWS::KMS::Key'));
    const [topicId] = resourceNamed(template, 'AWS::SNS::Topic', 'TopicName', names.eventsTopic);
    const [tenantId] = resourceNamed(template, 'AWS::DynamoDB::Table', 'TableName', names.tenantTable);
    const [statusId] = resourceNamed(template, 'AWS::DynamoDB::Table', 'TableName', names.statusTable);
    const [failuresId] = resourceNamed(template, 'AWS::SQS::Queue', 'QueueName', names.streamFailureQueue);
    const [stateMachineId] = resourceNamed(template, 'AWS::StepFunctions::StateMachine', 'StateMachineName', names.stateMachine);

    for (const kind of FUNCTION_KINDS) {
      assert.deepEqual(statementWith(kind, 'kms:Encrypt').Resource, { 'Fn::GetAtt': [keyId, 'Arn'] }, kind);
      assert.deepEqual(statementWith(kind, 'sns:Publish').Resource, { Ref: topicId }, kind);
    }
    for (const kind of ['Stream', 'Status'] as const) {
      assert.deepEqual(statementWith(kind, 'dynamodb:PutItem').Resource, { 'Fn::GetAtt': [statusId, 'Arn'] }, kind);
    }
    assert.deepEqual(statementWith('Stream', 'dynamodb:Query').Resource, { 'Fn::GetAtt': [tenantId, 'Arn'] });
    assert.deepEqual(statementWith('Stream', 'dynamodb:GetRecords').Resource, { 'Fn::GetAtt': [tenantId, 'StreamArn'] });
    assert.deepEqual(statementWith('Stream', 'dynamodb:ListStreams').Resource, {
      'Fn::Join': ['', [{ 'Fn::GetAtt': [tenantId, 'Arn'] }, '/stream/*']],
    });
    assert.deepEqual(statementWith('Stream', 'sqs:SendMessage').Resource, { 'Fn::GetAtt': [failuresId, 'Arn'] });
    assert.deepEqual(statementWith('Stream', 'states:StartExecution').Resource, { Ref: stateMachineId });
  });

  it('limits CreateKey to keys tagged for the team', () => {
    for (const kind of ['Amc', 'Dsp'] as const) {
      const statement = statementWith(kind, 'kms:CreateKey');
      assert.equal(statement.Resource, '*');
      assert.deepEqual(statement.Condition, {
        StringEquals: { 'aws:RequestTag/tps:team': 'demoteam' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': TENANT_TAG_KEYS },
        Null: { 'aws:RequestTag/tps:tenant': 'false', 'aws:RequestTag/tps:module': 'false' },
      });
    }
  });

  it('limits key changes to team tags', () => {
    for (const kind of ['Amc', 'Dsp'] as const) {
      const manage = statementWith(kind, 'kms:PutKeyPolicy');
      assert.deepEqual(manage.Resource, ANY_KEY);
      assert.deepEqual(manage.Condition, {
        StringEquals: { 'aws:ResourceTag/tps:team': 'demoteam' },
        Null: { 'aws:ResourceTag/tps:tenant': 'false', 'aws:ResourceTag/tps:module': 'false' },
      });
      for (const action of ['kms:ScheduleKeyDeletion', 'kms:GetKeyPolicy', 'kms:EnableKeyRotation', 'kms:CancelKeyDeletion']) {
        assert.ok(asArray(manage.Action).includes(action), action);
      }

      const tag = statementWith(kind, 'kms:TagResource');
      assert.deepEqual(tag.Resource, ANY_KEY);
      assert.deepEqual(tag.Condition, {
        StringEquals: { 'aws:RequestTag/tps:team': 'demoteam' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': TENANT_TAG_KEYS },
        StringEqualsIfExists: { 'aws:ResourceTag/tps:team': 'demoteam' },
      });

      const aliases = allowed(kind).filter((s) => asArray(s.Action).includes('kms:CreateAlias'));
      assert.deepEqual(aliases.map((s) => s.Resource).sort(), [ANY_KEY, TENANT_ALIAS].sort());
      assert.deepEqual(statementWith(kind, 'kms:ListAliases').Resource, '*');
    }
  });

  it('scopes buckets to the tps- prefix', () => {
    for (const kind of ['Amc', 'Dsp'] as const) {
      assert.deepEqual(statementWith(kind, 's3:CreateBucket').Resource, TENANT_BUCKET);
    }
  });

  it('limits queue changes to team tags', () => {
    for (const kind of ['SponsoredAds', 'Dsp'] as const) {
      const create = statementWith(kind, 'sqs:CreateQueue');
      assert.deepEqual(create.Resource, TENANT_QUEUE);
      assert.deepEqual(create.Condition, {
        StringEquals: { 'aws:RequestTag/tps:team': 'demoteam' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': TENANT_TAG_KEYS },
        Null: { 'aws:RequestTag/tps:tenant': 'false', 'aws:RequestTag/tps:module': 'false' },
      });
      const manage = statementWith(kind, 'sqs:DeleteQueue');
      assert.deepEqual(manage.Resource, TENANT_QUEUE);
      assert.deepEqual(manage.Condition.StringEquals, { 'aws:ResourceTag/tps:team': 'demoteam' });
      assert.deepEqual(statementWith(kind, 'sqs:GetQueueUrl').Resource, TENANT_QUEUE);
      assert.deepEqual(statementWith(kind, 'sqs:ListQueues').Resource, ANY_QUEUE);
    }
  });

  it('denies module functions changes to resources tagged tps:stack', () => {
    const denyKeys = (kind: FunctionKind) =>
      statementsOfRole(template, roleIds[kind]!).filter((s) => s.Effect === 'Deny' && s.Sid === 'ProtectStackKeys');
    const denyQueues = (kind: FunctionKind) =>
      statementsOfRole(template, roleIds[kind]!).filter((s) => s.Effect === 'Deny' && s.Sid === 'ProtectStackQueues');
    for (const kind of ['Amc', 'Dsp'] as const) {
      const [deny] = denyKeys(kind);
      assert.ok(deny, kind);
      assert.deepEqual(deny.Resource, ANY_KEY);
      assert.deepEqual(deny.Condition, { Null: { 'aws:ResourceTag/tps:stack': 'false' } });
      for (const action of ['kms:PutKeyPolicy', 'kms:TagResource', 'kms:ScheduleKeyDeletion', 'kms:DeleteAlias']) {
        assert.ok(asArray(deny.Action).includes(action), `${kind} deny ${action}`);
      }
    }
    for (const kind of ['SponsoredAds', 'Dsp'] as const) {
      const [deny] = denyQueues(kind);
      assert.ok(deny, kind);
      assert.deepEqual(deny.Resource, TENANT_QUEUE);
      assert.deepEqual(asArray(deny.Action).sort(), ['sqs:DeleteQueue', 'sqs:SetQueueAttributes', 'sqs:TagQueue']);
    }
    assert.equal(denyKeys('SponsoredAds').length, 0);
    assert.equal(denyQueues('Amc').length, 0);
  });

  it('state machine invokes only its functions', () => {
    const [, stateMachine] = resourceNamed(template, 'AWS::StepFunctions::StateMachine', 'StateMachineName', names.stateMachine);
    const roleId = stateMachine.Properties!.RoleArn['Fn::GetAtt'][0];
    const invoke = statementsOfRole(template, roleId).filter((s) => asArray(s.Action).includes('lambda:InvokeFunction'));
    assert.equal(invoke.length, 1);
    const expected = (['Status', 'Amc', 'SponsoredAds', 'Dsp'] as const).map((kind) => ({
      'Fn::GetAtt': [resourceNamed(template, 'AWS::Lambda::Function', 'FunctionName', names.functions[kind])[0], 'Arn'],
    }));
    const sorted = (values: unknown[]) => values.map((v) => JSON.stringify(v)).sort();
    assert.deepEqual(sorted(asArray(invoke[0].Resource)), sorted(expected));
  });
});
