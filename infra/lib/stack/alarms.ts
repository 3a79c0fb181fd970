// CloudWatch alarms on the signs that tenants are not being provisioned.

import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

import type { TpsNames } from '../naming';

const PERIOD = Duration.minutes(5);

/**
 * Stream iterator age that raises the alarm: a quarter of the mapping's
 * maximum record age of one hour, so an operator can act before records are
 * sent to the failure queue unprocessed.
 */
export const ITERATOR_AGE_THRESHOLD = Duration.minutes(15);

export interface AlarmsProps {
  readonly names: TpsNames;
  readonly statusDlq: sqs.IQueue;
  readonly streamFailureQueue: sqs.IQueue;
  readonly stateMachine: sfn.IStateMachine;
  readonly streamFunction: lambda.IFunction;
  /** SNS topic that receives alarm and OK notifications; none when unset. */
  readonly alarmTopicArn?: string;
}

export class Alarms extends Construct {
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const { names } = props;
    const alarmName = (condition: string) => `tps-${names.team}-${condition}-${names.env}`;

    this.alarms = [
      new cloudwatch.Alarm(this, 'StatusDlqNotEmpty', {
        alarmName: alarmName('StatusDlqNotEmpty'),
        alarmDescription: `Status messages failed ${names.statusQueue} delivery and wait in ${names.statusDlq}`,
        metric: props.statusDlq.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'StreamFailuresNotEmpty', {
        alarmName: alarmName('StreamFailuresNotEmpty'),
        alarmDescription: `Tenant table stream batches failed every retry and wait in ${names.streamFailureQueue}`,
        metric: props.streamFailureQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'ExecutionsFailed', {
        alarmName: alarmName('ExecutionsFailed'),
        alarmDescription: `Executions of ${names.stateMachine} failed`,
        metric: props.stateMachine.metricFailed({ period: PERIOD, statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'StreamIteratorAge', {
        alarmName: alarmName('StreamIteratorAge'),
        alarmDescription: `${names.functions.Stream} lags more than ${ITERATOR_AGE_THRESHOLD.toMinutes()} minutes behind the tenant table stream`,
        metric: props.streamFunction.metric('IteratorAge', { period: PERIOD, statistic: 'Maximum' }),
        threshold: ITERATOR_AGE_THRESHOLD.toMilliseconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];

    if (props.alarmTopicArn) {
      const action = new actions.SnsAction(sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn));
      for (const alarm of this.alarms) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }
  }
}
