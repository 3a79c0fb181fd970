// The onboarding state machine and the tenant table stream's event source mapping.

import * as path from 'node:path';

import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

import { STATE_MACHINE_FUNCTION_KINDS, substitutionKey, type FunctionKind, type TpsNames } from '../naming';

/** The ASL file that both this stack and the local runtime load. */
export const DEFINITION_FILE = path.resolve(__dirname, '..', '..', 'statemachine', 'onboarding.asl.json');

/**
 * Stream event source mapping settings. The local runtime plays the mapping
 * with the same values, and the drift test compares them.
 */
export const STREAM_MAPPING = {
  batchSize: 10,
  retryAttempts: 3,
  maxRecordAge: Duration.hours(1),
  bisectBatchOnError: true,
  reportBatchItemFailures: true,
  eventNames: ['INSERT', 'MODIFY', 'REMOVE'],
} as const;

/** Period for which Step Functions reuses a data key before it calls KMS again. */
const STATE_MACHINE_DATA_KEY_REUSE = Duration.minutes(5);

/** Sends the failed batches' metadata of an event source mapping to an SQS queue; the caller grants sqs:SendMessage. */
class QueueFailureDestination implements lambda.IEventSourceDlq {
  constructor(private readonly queue: sqs.IQueue) {}

  bind(): lambda.DlqDestinationConfig {
    return { destination: this.queue.queueArn };
  }
}

export interface OrchestrationProps {
  readonly names: TpsNames;
  readonly key: kms.IKey;
  readonly functions: Readonly<Record<FunctionKind, lambda.IFunction>>;
  readonly tenantTable: dynamodb.ITable;
  readonly streamFailureQueue: sqs.IQueue;
  readonly retainLogs: boolean;
  /** Defaults to {@link DEFINITION_FILE}. */
  readonly definitionFile?: string;
}

export class Orchestration extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly streamMapping: lambda.EventSourceMapping;

  constructor(scope: Construct, id: string, props: OrchestrationProps) {
    super(scope, id);
    const { names, key, functions } = props;

    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      logGroupName: names.stateMachineLogGroup,
      retention: logs.RetentionDays.ONE_MONTH,
      encryptionKey: key,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    const substitutions = Object.fromEntries(
      STATE_MACHINE_FUNCTION_KINDS.map((kind) => [substitutionKey(kind), functions[kind].functionArn]),
    );
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: names.stateMachine,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromFile(props.definitionFile ?? DEFINITION_FILE),
      definitionSubstitutions: substitutions,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
      encryptionConfiguration: new sfn.CustomerManagedEncryptionConfiguration(key, STATE_MACHINE_DATA_KEY_REUSE),
    });
    // The definition comes from a file, so CDK cannot infer the Lambda tasks'
    // permissions. The definition invokes unqualified function ARNs only.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'InvokeStateMachineFunctions',
        actions: ['lambda:InvokeFunction'],
        resources: STATE_MACHINE_FUNCTION_KINDS.map((kind) => functions[kind].functionArn),
      }),
    );

    this.streamMapping = new lambda.EventSourceMapping(this, 'StreamMapping', {
      target: functions.Stream,
      eventSourceArn: props.tenantTable.tableStreamArn,
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: STREAM_MAPPING.batchSize,
      bisectBatchOnError: STREAM_MAPPING.bisectBatchOnError,
      retryAttempts: STREAM_MAPPING.retryAttempts,
      maxRecordAge: STREAM_MAPPING.maxRecordAge,
      reportBatchItemFailures: STREAM_MAPPING.reportBatchItemFailures,
      onFailure: new QueueFailureDestination(props.streamFailureQueue),
      filters: [lambda.FilterCriteria.filter({ eventName: lambda.FilterRule.or(...STREAM_MAPPING.eventNames) })],
    });
  }
}
