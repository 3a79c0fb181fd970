// The tenant events topic, the status queue it fans out to, and the queue
// that receives the stream mapping's failed batches.

import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

import type { TpsNames } from '../naming';

/** Receives before a status message moves to the status DLQ. */
export const STATUS_MAX_RECEIVE_COUNT = 5;

/** SQS's maximum retention, so that failed messages wait two weeks for an operator. */
const FAILED_MESSAGE_RETENTION = Duration.days(14);

/** Period for which SQS reuses a data key before it calls KMS again (the SQS default). */
const DATA_KEY_REUSE = Duration.minutes(5);

export interface MessagingProps {
  readonly names: TpsNames;
  readonly key: kms.IKey;
}

export class Messaging extends Construct {
  readonly eventsTopic: sns.Topic;
  private readonly names: TpsNames;
  readonly statusQueue: sqs.Queue;
  readonly statusDlq: sqs.Queue;
  readonly streamFailureQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: MessagingProps) {
    super(scope, id);
    const { names, key } = props;
    this.names = names;
    const encryption = {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      dataKeyReuse: DATA_KEY_REUSE,
      enforceSSL: true,
    };

    // Publishers set an explicit MessageDeduplicationId, so content-based
    // deduplication stays off on the topic and the queues.
    this.eventsTopic = new sns.Topic(this, 'EventsTopic', {
      topicName: names.eventsTopic,
      fifo: true,
      contentBasedDeduplication: false,
      masterKey: key,
      enforceSSL: true,
    });

    this.statusDlq = new sqs.Queue(this, 'StatusDlq', {
      queueName: names.statusDlq,
      fifo: true,
      retentionPeriod: FAILED_MESSAGE_RETENTION,
      ...encryption,
    });

    this.statusQueue = new sqs.Queue(this, 'StatusQueue', {
      queueName: names.statusQueue,
      fifo: true,
      deadLetterQueue: { queue: this.statusDlq, maxReceiveCount: STATUS_MAX_RECEIVE_COUNT },
      ...encryption,
    });

    this.subscribeStatusQueue(key);

    this.streamFailureQueue = new sqs.Queue(this, 'StreamFailureQueue', {
      queueName: names.streamFailureQueue,
      retentionPeriod: FAILED_MESSAGE_RETENTION,
      ...encryption,
    });
  }

  /**
   * Subscribes the status queue to the topic with raw message delivery.
   *
   * SqsSubscription would add a key policy statement that references the
   * topic, and the topic references the key, which CloudFormation rejects as
   * a circular dependency. The key statement here names the topic ARN built
   * from its name instead.
   */
  private subscribeStatusQueue(key: kms.IKey): void {
    const snsPrincipal = new iam.ServicePrincipal('sns.amazonaws.com');
    const queuePolicy = this.statusQueue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEventsTopic',
        principals: [snsPrincipal],
        actions: ['sqs:SendMessage'],
        resources: [this.statusQueue.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.eventsTopic.topicArn } },
      }),
    );
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEventsTopicToStatusQueue',
        principals: [snsPrincipal],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { ArnEquals: { 'aws:SourceArn': this.eventsTopicArnFromName() } },
      }),
    );

    const subscription = new sns.Subscription(this, 'StatusQueueSubscription', {
      topic: this.eventsTopic,
      protocol: sns.SubscriptionProtocol.SQS,
      endpoint: this.statusQueue.queueArn,
      rawMessageDelivery: true,
    });
    if (queuePolicy.policyDependable) {
      subscription.node.addDependency(queuePolicy.policyDependable);
    }
  }

  private eventsTopicArnFromName(): string {
    return Stack.of(this).formatArn({ service: 'sns', resource: this.names.eventsTopic, arnFormat: ArnFormat.NO_RESOURCE_NAME });
  }
}
