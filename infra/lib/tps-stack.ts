// The Tenant Provisioning Service stack for one team and environment.

import { ArnFormat, CfnOutput, Stack, Tags, type CfnElement, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

import type { EnvironmentConfig, LambdaArchitectureName } from './config';
import { acknowledge } from './nag';
import { MODULE_FUNCTION_KINDS, type FunctionKind, type TpsNames } from './naming';
import { Alarms } from './stack/alarms';
import { OperationsDashboard } from './stack/dashboard';
import { Data } from './stack/data';
import { ENV_STATE_MACHINE_ARN, Functions } from './stack/functions';
import { Messaging } from './stack/messaging';
import { Orchestration } from './stack/orchestration';
import {
  DATA_KEY_ACTIONS,
  TAG_STACK,
  kmsProvisioningStatements,
  s3ProvisioningStatements,
  sqsProvisioningStatements,
} from './stack/permissions';

export interface TpsStackProps extends StackProps {
  readonly names: TpsNames;
  readonly environment: EnvironmentConfig;
  readonly lambdaArchitecture: LambdaArchitectureName;
  /** Directory with `<bin>/bootstrap` for every function. */
  readonly lambdaAssetRoot: string;
  /** State machine definition; defaults to `infra/statemachine/onboarding.asl.json`. */
  readonly definitionFile?: string;
}

/** Services in which each module function provisions tenant resources. */
const PROVISIONING: Readonly<Record<(typeof MODULE_FUNCTION_KINDS)[number], ReadonlyArray<'kms' | 's3' | 'sqs'>>> = {
  Amc: ['kms', 's3'],
  SponsoredAds: ['sqs'],
  Dsp: ['kms', 's3', 'sqs'],
};

// permissions.ts builds tenant ARNs from pseudo parameters, which cdk-nag renders as <AWS::...>.
const ARN_PREFIX = 'arn:<AWS::Partition>';
const REGIONAL = '<AWS::Region>:<AWS::AccountId>';

/** cdk-nag IAM5 findings of the provisioning policies, the service whose statements produce each, and its reason. */
const PROVISIONING_FINDINGS: ReadonlyArray<{ resource: string; service: 'kms' | 's3' | 'sqs'; reason: string }> = [
  {
    resource: '*',
    service: 'kms',
    reason:
      'kms:CreateKey and kms:ListAliases have no resource to scope. CreateKey is limited by aws:RequestTag and aws:TagKeys ' +
      'conditions to keys tagged for this team.',
  },
  {
    resource: `${ARN_PREFIX}:kms:${REGIONAL}:key/*`,
    service: 'kms',
    reason:
      'Tenant keys are created at run time, so their ids are unknown at deployment. Changes need the key tag tps:team ' +
      'to equal this team, a deny statement protects keys tagged tps:stack, and tagging at creation must be allowed on every key.',
  },
  {
    resource: `${ARN_PREFIX}:kms:${REGIONAL}:alias/tps-*`,
    service: 'kms',
    reason: 'Tenant aliases alias/tps-{tenant}-{module} are created at run time; the key side of each alias change is tag-scoped.',
  },
  {
    resource: `${ARN_PREFIX}:s3:::tps-*`,
    service: 's3',
    reason: 'Tenant buckets are created at run time under the tps- prefix; this policy scopes them by name only.',
  },
  {
    resource: `${ARN_PREFIX}:sqs:${REGIONAL}:tps-*`,
    service: 'sqs',
    reason:
      'Tenant queues are created at run time under the tps- prefix. Changes need the queue tag tps:team to equal this team, ' +
      'and a deny statement protects queues tagged tps:stack.',
  },
  {
    resource: `${ARN_PREFIX}:sqs:${REGIONAL}:*`,
    service: 'sqs',
    reason: 'sqs:ListQueues is authorized against every queue of the account and region; the function lists only the tps- prefix.',
  },
];

export class TpsStack extends Stack {
  readonly names: TpsNames;
  readonly data: Data;
  readonly messaging: Messaging;
  readonly functions: Functions;
  readonly orchestration: Orchestration;
  readonly alarms: Alarms;
  readonly dashboard: OperationsDashboard;

  constructor(scope: Construct, id: string, props: TpsStackProps) {
    super(scope, id, {
      description: `Tenant Provisioning Service for team ${props.names.team}, environment ${props.names.env}`,
      ...props,
    });
    const { names } = props;
    this.names = names;
    Tags.of(this).add(TAG_STACK, this.stackName);

    this.data = new Data(this, 'Data', { names, retainData: props.environment.retainData });
    const key = this.data.key;
    this.messaging = new Messaging(this, 'Messaging', { names, key });
    this.functions = new Functions(this, 'Functions', {
      names,
      environment: props.environment,
      lambdaArchitecture: props.lambdaArchitecture,
      assetRoot: props.lambdaAssetRoot,
      key,
      eventsTopicArn: this.messaging.eventsTopic.topicArn,
    });
    const functions = this.functions.functions;
    this.orchestration = new Orchestration(this, 'Orchestration', {
      names,
      key,
      functions,
      tenantTable: this.data.tenantTable,
      streamFailureQueue: this.messaging.streamFailureQueue,
      retainLogs: props.environment.retainData,
      definitionFile: props.definitionFile,
    });
    functions.Stream.addEnvironment(ENV_STATE_MACHINE_ARN, this.orchestration.stateMachine.stateMachineArn);

    this.grantServiceAccess();
    this.grantProvisioning();
    this.acknowledgeFindings();

    this.alarms = new Alarms(this, 'Alarms', {
      names,
      statusDlq: this.messaging.statusDlq,
      streamFailureQueue: this.messaging.streamFailureQueue,
      stateMachine: this.orchestration.stateMachine,
      streamFunction: functions.Stream,
      alarmTopicArn: props.environment.alarmTopicArn,
    });
    this.dashboard = new OperationsDashboard(this, 'Operations', {
      names,
      alarms: this.alarms.alarms,
      stateMachine: this.orchestration.stateMachine,
    });

    this.addOutputs();
  }

  /** Grants each function the stack resources it calls, action by action. */
  private grantServiceAccess(): void {
    const roles = this.functions.roles;
    const { key, tenantTable, statusTable } = this.data;
    const { eventsTopic, streamFailureQueue } = this.messaging;

    for (const kind of Object.keys(roles) as FunctionKind[]) {
      roles[kind].addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'UseDataKey', actions: DATA_KEY_ACTIONS, resources: [key.keyArn] }),
      );
      roles[kind].addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'PublishTenantEvents', actions: ['sns:Publish'], resources: [eventsTopic.topicArn] }),
      );
    }

    const writeStatus = new iam.PolicyStatement({
      sid: 'WriteTenantStatus',
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      resources: [statusTable.tableArn],
    });
    roles.Status.addToPrincipalPolicy(writeStatus);

    const stream = roles.Stream;
    stream.addToPrincipalPolicy(writeStatus);
    stream.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'QueryTenants', actions: ['dynamodb:Query'], resources: [tenantTable.tableArn] }),
    );
    stream.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'StartOnboarding',
        actions: ['states:StartExecution'],
        resources: [this.orchestration.stateMachine.stateMachineArn],
      }),
    );
    // A tenant recorded IN_PROGRESS is re-run only when its execution has stopped.
    stream.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CheckOnboardingExecutions',
        actions: ['states:DescribeExecution'],
        resources: [this.formatArn({
          service: 'states',
          resource: 'execution',
          resourceName: `${this.names.stateMachine}:*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        })],
      }),
    );
    // Lambda reads the stream and sends failed batches with the function's role.
    stream.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadTenantStream',
        actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
        resources: [tenantTable.tableStreamArn!],
      }),
    );
    stream.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListTenantStreams',
        actions: ['dynamodb:ListStreams'],
        resources: [`${tenantTable.tableArn}/stream/*`],
      }),
    );
    stream.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'SendStreamFailures', actions: ['sqs:SendMessage'], resources: [streamFailureQueue.queueArn] }),
    );
    // Lambda checks the stream permissions when it creates the mapping.
    this.orchestration.streamMapping.node.addDependency(stream);
  }

  /** Attaches each module function's tenant provisioning policy. */
  private grantProvisioning(): void {
    const team = this.names.team;
    for (const kind of MODULE_FUNCTION_KINDS) {
      const statements = PROVISIONING[kind].flatMap((service) => {
        switch (service) {
          case 'kms':
            return kmsProvisioningStatements(team);
          case 's3':
            return s3ProvisioningStatements();
          case 'sqs':
            return sqsProvisioningStatements(team);
        }
      });
      new iam.Policy(this.functions, `${kind}ProvisioningPolicy`, {
        roles: [this.functions.roles[kind]],
        statements,
      });
    }
  }

  /** Acknowledges the cdk-nag findings that least privilege cannot remove, each with its reason. */
  private acknowledgeFindings(): void {
    const roles = this.functions.roles;
    for (const role of Object.values(roles)) {
      acknowledge(
        role,
        'AwsSolutions-IAM5[Resource::*]',
        'Lambda active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support only Resource "*".',
      );
    }

    const tenantTableId = this.getLogicalId(this.data.tenantTable.node.defaultChild as CfnElement);
    acknowledge(
      roles.Stream,
      `AwsSolutions-IAM5[Resource::<${tenantTableId}.Arn>/stream/*]`,
      "dynamodb:ListStreams, which Lambda's stream poller calls, is scoped to the tenant table's streams; " +
        'the stream label is assigned at deployment.',
    );

    acknowledge(
      roles.Stream,
      `AwsSolutions-IAM5[Resource::${this.formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${this.names.stateMachine}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }).replace(/\$\{Token\[AWS\.(\w+)\.\d+\]\}/g, '<AWS::$1>')}]`,
      'states:DescribeExecution is scoped to the executions of the onboarding state machine, whose names are made at run time.',
    );

    for (const kind of MODULE_FUNCTION_KINDS) {
      const policy = this.functions.node.findChild(`${kind}ProvisioningPolicy`);
      for (const { resource, service, reason } of PROVISIONING_FINDINGS) {
        if (PROVISIONING[kind].includes(service)) {
          acknowledge(policy, `AwsSolutions-IAM5[Resource::${resource}]`, reason);
        }
      }
    }

    acknowledge(
      this.orchestration.stateMachine.role,
      'AwsSolutions-IAM5[Resource::*]',
      'CloudWatch Logs delivery (logs:CreateLogDelivery and related actions) and X-Ray tracing support only Resource "*"; ' +
        'CDK adds them for the state machine logging and tracing that AwsSolutions-SF1 and SF2 require.',
    );

    acknowledge(
      this.messaging.streamFailureQueue,
      'AwsSolutions-SQS3',
      'This queue is the on-failure destination of the stream event source mapping, so it is a dead-letter queue itself; ' +
        'an alarm fires when it holds a message.',
    );
  }

  private addOutputs(): void {
    const { tenantTable, statusTable, key } = this.data;
    const { eventsTopic, statusQueue, statusDlq, streamFailureQueue } = this.messaging;
    const outputs: Record<string, [string, string]> = {
      TenantTableName: [tenantTable.tableName, 'Tenant table; write a tenant row here to onboard it'],
      TenantTableStreamArn: [tenantTable.tableStreamArn!, 'Stream of the tenant table'],
      StatusTableName: [statusTable.tableName, 'Tenant status table'],
      EventsTopicArn: [eventsTopic.topicArn, 'FIFO topic of tenant events'],
      StatusQueueUrl: [statusQueue.queueUrl, 'FIFO queue subscribed to the events topic; tps watch reads it'],
      StatusQueueArn: [statusQueue.queueArn, 'FIFO queue subscribed to the events topic'],
      StatusDlqUrl: [statusDlq.queueUrl, 'Dead-letter queue of the status queue'],
      StreamFailureQueueUrl: [streamFailureQueue.queueUrl, 'Failed tenant table stream batches'],
      StateMachineArn: [this.orchestration.stateMachine.stateMachineArn, 'Onboarding state machine'],
      DataKeyArn: [key.keyArn, 'Customer managed key of the tables, topic, queues and logs'],
    };
    for (const [id, [value, description]] of Object.entries(outputs)) {
      new CfnOutput(this, id, { value, description });
    }
  }
}
