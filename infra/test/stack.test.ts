// Assertions on the synthesized TPS stack: every resource property that the
// functions and the local runtime rely on.

import * as assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { Match, Template } from 'aws-cdk-lib/assertions';

import { FUNCTION_KINDS, MODULE_FUNCTION_KINDS, tpsNames, type FunctionKind } from '../lib/naming';
import { TAG_STACK } from '../lib/stack/permissions';
import { buildTestApp, ddkDocument, placeholderAssets, resourceNamed, resourcesOfType, testConfig } from './support';

const names = tpsNames('demoteam', 'dev');

describe('TPS stack', () => {
  let template: Template;
  let keyId: string;

  before(() => {
    const { stacks } = buildTestApp();
    assert.equal(stacks.length, 1);
    assert.equal(stacks[0].stackName, 'tps-demoteam-dev');
    template = Template.fromStack(stacks[0]);
    keyId = Object.keys(resourcesOfType(template, 'AWS::KMS::Key'))[0];
  });

  const keyArn = () => ({ 'Fn::GetAtt': [keyId, 'Arn'] });

  it('data key rotates and has the alias', () => {
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, PendingWindowInDays: 30 });
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/tps-demoteam-data-dev', TargetKeyId: keyArn() });
  });

  it('tenant table has stream, PITR and key', () => {
    const [, table] = resourceNamed(template, 'AWS::DynamoDB::Table', 'TableName', names.tenantTable);
    assert.deepEqual(table.Properties!.KeySchema, [
      { AttributeName: 'customerId', KeyType: 'HASH' },
      { AttributeName: 'customerName', KeyType: 'RANGE' },
    ]);
    assert.deepEqual(table.Properties!.AttributeDefinitions, [
      { AttributeName: 'customerId', AttributeType: 'S' },
      { AttributeName: 'customerName', AttributeType: 'S' },
    ]);
    assert.deepEqual(table.Properties!.StreamSpecification, { StreamViewType: 'NEW_AND_OLD_IMAGES' });
    assert.deepEqual(table.Properties!.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true });
    assert.deepEqual(table.Properties!.SSESpecification, { KMSMasterKeyId: keyArn(), SSEEnabled: true, SSEType: 'KMS' });
    assert.equal(table.Properties!.BillingMode, 'PAY_PER_REQUEST');
    assert.equal(table.Properties!.DeletionProtectionEnabled, true);
  });

  it('status table has PITR and key', () => {
    const [, table] = resourceNamed(template, 'AWS::DynamoDB::Table', 'TableName', names.statusTable);
    assert.deepEqual(table.Properties!.KeySchema, [{ AttributeName: 'tenantId', KeyType: 'HASH' }]);
    assert.deepEqual(table.Properties!.AttributeDefinitions, [{ AttributeName: 'tenantId', AttributeType: 'S' }]);
    assert.deepEqual(table.Properties!.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true });
    assert.deepEqual(table.Properties!.SSESpecification, { KMSMasterKeyId: keyArn(), SSEEnabled: true, SSEType: 'KMS' });
    assert.equal(table.Properties!.StreamSpecification, undefined);
  });

  it('retains both tables', () => {
    for (const [, table] of Object.entries(resourcesOfType(template, 'AWS::DynamoDB::Table'))) {
      assert.equal((table as any).DeletionPolicy, 'Retain');
    }
  });

  it('has the FIFO events topic encrypted and TLS-only', () => {
    const [topicId] = resourceNamed(template, 'AWS::SNS::Topic', 'TopicName', names.eventsTopic);
    template.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: names.eventsTopic,
      FifoTopic: true,
      ContentBasedDeduplication: false,
      KmsMasterKeyId: keyArn(),
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('status queue subscribes with raw delivery', () => {
    const [topicId] = resourceNamed(template, 'AWS::SNS::Topic', 'TopicName', names.eventsTopic);
    const [queueId] = resourceNamed(template, 'AWS::SQS::Queue', 'QueueName', names.statusQueue);
    template.resourceCountIs('AWS::SNS::Subscription', 1);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      TopicArn: { Ref: topicId },
      Endpoint: { 'Fn::GetAtt': [queueId, 'Arn'] },
      RawMessageDelivery: true,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Principal: { Service: 'sns.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': { Ref: topicId } } },
          }),
        ]),
      },
    });
  });

  it('SNS key use limited to the topic', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'sns.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Condition: { ArnEquals: { 'aws:SourceArn': `arn:aws:sns:us-east-1:123456789012:${names.eventsTopic}` } },
          }),
        ]),
      },
    });
  });

  it('status queue and DLQ are FIFO, encrypted', () => {
    const [dlqId] = resourceNamed(template, 'AWS::SQS::Queue', 'QueueName', names.statusDlq);
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: names.statusQueue,
      FifoQueue: true,
      KmsMasterKeyId: keyArn(),
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: names.statusDlq,
      FifoQueue: true,
      KmsMasterKeyId: keyArn(),
      MessageRetentionPeriod: 1209600,
    });
  });

  it('has the standard stream failure queue, encrypted', () => {
    const [, queue] = resourceNamed(template, 'AWS::SQS::Queue', 'QueueName', names.streamFailureQueue);
    assert.equal(queue.Properties!.FifoQueue, undefined);
    assert.deepEqual(queue.Properties!.KmsMasterKeyId, keyArn());
    assert.equal(queue.Properties!.MessageRetentionPeriod, 1209600);
  });

  it('denies non-TLS access to every queue', () => {
    const policies = Object.values(resourcesOfType(template, 'AWS::SQS::QueuePolicy'));
    assert.equal(policies.length, 3);
    for (const policy of policies) {
      const statements = policy.Properties!.PolicyDocument.Statement as any[];
      assert.ok(
        statements.some((s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false'),
        JSON.stringify(policy.Properties!.Queues),
      );
    }
  });

  it('maps the tenant stream to the stream function', () => {
    const [tableId] = resourceNamed(template, 'AWS::DynamoDB::Table', 'TableName', names.tenantTable);
    const [functionId] = resourceNamed(template, 'AWS::Lambda::Function', 'FunctionName', names.functions.Stream);
    const [queueId] = resourceNamed(template, 'AWS::SQS::Queue', 'QueueName', names.streamFailureQueue);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId },
      EventSourceArn: { 'Fn::GetAtt': [tableId, 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 3600,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT', 'MODIFY', 'REMOVE'] }) }] },
    });
  });

  it('creates the mapping after the stream permissions', () => {
    const [mapping] = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping'));
    const roleId = functionRoleId('Stream');
    const policyId = Object.entries(resourcesOfType(template, 'AWS::IAM::Policy')).find(([, p]) =>
      (p.Properties!.Roles as any[]).some((r) => r.Ref === roleId),
    )![0];
    assert.ok(mapping.DependsOn?.includes(policyId), `DependsOn ${mapping.DependsOn} lacks ${policyId}`);
  });

  function functionRoleId(kind: FunctionKind): string {
    const [, fn] = resourceNamed(template, 'AWS::Lambda::Function', 'FunctionName', names.functions[kind]);
    return fn.Properties!.Role['Fn::GetAtt'][0];
  }

  it('functions use provided.al2023 and settings', () => {
    template.resourceCountIs('AWS::Lambda::Function', 5);
    for (const kind of FUNCTION_KINDS) {
      const [, fn] = resourceNamed(template, 'AWS::Lambda::Function', 'FunctionName', names.functions[kind]);
      const properties = fn.Properties!;
      assert.equal(properties.Runtime, 'provided.al2023', kind);
      assert.equal(properties.Handler, 'bootstrap', kind);
      assert.deepEqual(properties.Architectures, ['x86_64'], kind);
      assert.equal(properties.MemorySize, 256, kind);
      const isModule = (MODULE_FUNCTION_KINDS as readonly string[]).includes(kind);
      assert.equal(properties.Timeout, isModule ? 300 : 60, kind);
      assert.deepEqual(properties.TracingConfig, { Mode: 'Active' }, kind);
      assert.deepEqual(properties.KmsKeyArn, keyArn(), kind);
    }
  });

  it('sets the function environment variables', () => {
    const [topicId] = resourceNamed(template, 'AWS::SNS::Topic', 'TopicName', names.eventsTopic);
    const [stateMachineId] = resourceNamed(template, 'AWS::StepFunctions::StateMachine', 'StateMachineName', names.stateMachine);
    const common = {
      TPS_TEAM: 'demoteam',
      TPS_ENV: 'dev',
      TPS_TENANT_TABLE: names.tenantTable,
      TPS_STATUS_TABLE: names.statusTable,
      TPS_EVENTS_TOPIC_ARN: { Ref: topicId },
      RUST_LOG: 'info',
    };
    for (const kind of FUNCTION_KINDS) {
      const [, fn] = resourceNamed(template, 'AWS::Lambda::Function', 'FunctionName', names.functions[kind]);
      const expected = kind === 'Stream' ? { ...common, TPS_STATE_MACHINE_ARN: { Ref: stateMachineId } } : common;
      assert.deepEqual(fn.Properties!.Environment.Variables, expected, kind);
    }
  });

  it('gives each function its own encrypted log group', () => {
    for (const kind of FUNCTION_KINDS) {
      const [, fn] = resourceNamed(template, 'AWS::Lambda::Function', 'FunctionName', names.functions[kind]);
      const [logGroupId, logGroup] = resourceNamed(template, 'AWS::Logs::LogGroup', 'LogGroupName', names.functionLogGroups[kind]);
      assert.deepEqual(fn.Properties!.LoggingConfig, { LogGroup: { Ref: logGroupId } }, kind);
      assert.deepEqual(logGroup.Properties!.KmsKeyId, keyArn(), kind);
      assert.equal(logGroup.Properties!.RetentionInDays, 30, kind);
    }
  });

  it('logs key use limited to stack groups', () => {
    const logGroupArns = [names.stateMachineLogGroup, ...Object.values(names.functionLogGroups)].map(
      (name) => `arn:aws:logs:us-east-1:123456789012:log-group:${name}`,
    );
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'logs.us-east-1.amazonaws.com' },
            Condition: { ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': logGroupArns } },
          }),
        ]),
      },
    });
  });

  it('state machine is standard, from ASL file', () => {
    const [, stateMachine] = resourceNamed(template, 'AWS::StepFunctions::StateMachine', 'StateMachineName', names.stateMachine);
    const properties = stateMachine.Properties!;
    assert.equal(properties.StateMachineType, 'STANDARD');
    assert.ok(properties.DefinitionS3Location, 'definition is stored as an S3 asset');
    const substitutions = properties.DefinitionSubstitutions;
    assert.deepEqual(Object.keys(substitutions).sort(), [
      'AmcFunctionArn',
      'DspFunctionArn',
      'SponsoredAdsFunctionArn',
      'StatusFunctionArn',
    ]);
    for (const kind of ['Status', 'Amc', 'SponsoredAds', 'Dsp'] as const) {
      const [functionId] = resourceNamed(template, 'AWS::Lambda::Function', 'FunctionName', names.functions[kind]);
      assert.deepEqual(substitutions[`${kind}FunctionArn`], { 'Fn::GetAtt': [functionId, 'Arn'] }, kind);
    }
  });

  it('logs, traces and encrypts the state machine', () => {
    const [logGroupId, logGroup] = resourceNamed(template, 'AWS::Logs::LogGroup', 'LogGroupName', names.stateMachineLogGroup);
    assert.deepEqual(logGroup.Properties!.KmsKeyId, keyArn());
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logGroupId, 'Arn'] } } }],
      },
      TracingConfiguration: { Enabled: true },
      EncryptionConfiguration: { Type: 'CUSTOMER_MANAGED_KMS_KEY', KmsKeyId: keyArn(), KmsDataKeyReusePeriodSeconds: 300 },
    });
  });

  it('has the four alarms', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    const [dlqId] = resourceNamed(template, 'AWS::SQS::Queue', 'QueueName', names.statusDlq);
    const [failuresId] = resourceNamed(template, 'AWS::SQS::Queue', 'QueueName', names.streamFailureQueue);
    const [stateMachineId] = resourceNamed(template, 'AWS::StepFunctions::StateMachine', 'StateMachineName', names.stateMachine);
    const [streamId] = resourceNamed(template, 'AWS::Lambda::Function', 'FunctionName', names.functions.Stream);
    const queueDepth = (queueId: string) => ({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'tps-demoteam-StatusDlqNotEmpty-dev',
      ...queueDepth(dlqId),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'tps-demoteam-StreamFailuresNotEmpty-dev',
      ...queueDepth(failuresId),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'tps-demoteam-ExecutionsFailed-dev',
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: stateMachineId } }],
      Statistic: 'Sum',
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'tps-demoteam-StreamIteratorAge-dev',
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: streamId } }],
      Statistic: 'Maximum',
      Threshold: 900000,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    for (const alarm of Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm'))) {
      assert.equal(alarm.Properties!.AlarmActions, undefined);
    }
  });

  it('outputs the tables, topic, queues and state machine', () => {
    const outputs = template.findOutputs('*');
    for (const id of [
      'TenantTableName',
      'StatusTableName',
      'EventsTopicArn',
      'StatusQueueUrl',
      'StatusQueueArn',
      'StatusDlqUrl',
      'StreamFailureQueueUrl',
      'StateMachineArn',
    ]) {
      assert.ok(outputs[id], `output ${id}`);
    }
    const [tableId] = resourceNamed(template, 'AWS::DynamoDB::Table', 'TableName', names.tenantTable);
    assert.deepEqual(outputs.TenantTableName.Value, { Ref: tableId });
  });

  it('tags every taggable resource with the stack name', () => {
    for (const type of ['AWS::KMS::Key', 'AWS::SQS::Queue', 'AWS::DynamoDB::Table', 'AWS::Lambda::Function', 'AWS::SNS::Topic']) {
      for (const [id, resource] of Object.entries(resourcesOfType(template, type))) {
        assert.ok(
          (resource.Properties!.Tags as any[]).some((t) => t.Key === TAG_STACK && t.Value === 'tps-demoteam-dev'),
          `${type} ${id} lacks ${TAG_STACK}`,
        );
      }
    }
  });
});

describe('TPS stack options', () => {
  it('applies architecture, memory, alarm topic and data retention', () => {
    const document = ddkDocument({ lambda_architecture: 'arm64' });
    Object.assign((document.environments as any).dev, {
      lambda_memory_mb: 512,
      retain_data: false,
      alarm_topic_arn: 'arn:aws:sns:us-east-1:123456789012:ops-alarms',
    });
    const { stacks } = buildTestApp(testConfig(document), placeholderAssets());
    const template = Template.fromStack(stacks[0]);

    for (const fn of Object.values(resourcesOfType(template, 'AWS::Lambda::Function'))) {
      assert.deepEqual(fn.Properties!.Architectures, ['arm64']);
      assert.equal(fn.Properties!.MemorySize, 512);
    }
    for (const alarm of Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm'))) {
      assert.deepEqual(alarm.Properties!.AlarmActions, ['arn:aws:sns:us-east-1:123456789012:ops-alarms']);
      assert.deepEqual(alarm.Properties!.OKActions, ['arn:aws:sns:us-east-1:123456789012:ops-alarms']);
    }
    for (const table of Object.values(resourcesOfType(template, 'AWS::DynamoDB::Table'))) {
      assert.equal((table as any).DeletionPolicy, 'Delete');
      assert.equal(table.Properties!.DeletionProtectionEnabled, false);
    }
  });

  it('synthesizes without account or region', () => {
    const { stacks } = buildTestApp(testConfig({ tps_parameters: { team: 'acme' } }), placeholderAssets());
    assert.equal(stacks[0].stackName, 'tps-acme-dev');
    const template = Template.fromStack(stacks[0]);
    template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'tps-acme-CustomerConfig-dev' });
  });
});
