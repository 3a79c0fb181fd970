// The stack's customer managed key and its two DynamoDB tables.

import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

import type { TpsNames } from '../naming';

export interface DataProps {
  readonly names: TpsNames;
  /** Retain the key and tables on stack deletion, with table deletion protection. */
  readonly retainData: boolean;
}

/** The data key, the tenant table (with its stream) and the status table. */
export class Data extends Construct {
  readonly key: kms.Key;
  readonly tenantTable: dynamodb.Table;
  readonly statusTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: DataProps) {
    super(scope, id);
    const { names, retainData } = props;
    const removalPolicy = retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.key = new kms.Key(this, 'Key', {
      alias: names.dataKeyAlias,
      description: `TPS ${names.team}/${names.env}: tables, topic, queues, logs and state machine data`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy,
    });
    this.allowLogGroups(names);

    this.tenantTable = new dynamodb.Table(this, 'TenantTable', {
      tableName: names.tenantTable,
      partitionKey: { name: 'customerId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'customerName', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      deletionProtection: retainData,
      removalPolicy,
    });

    this.statusTable = new dynamodb.Table(this, 'StatusTable', {
      tableName: names.statusTable,
      partitionKey: { name: 'tenantId', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      deletionProtection: retainData,
      removalPolicy,
    });
  }

  /**
   * Lets CloudWatch Logs encrypt the stack's own log groups with the key.
   * The encryption context condition limits it to those groups.
   */
  private allowLogGroups(names: TpsNames): void {
    const stack = Stack.of(this);
    const logGroupArns = [names.stateMachineLogGroup, ...Object.values(names.functionLogGroups)].map((logGroupName) =>
      stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowStackLogGroups',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: [
          'kms:Encrypt',
          'kms:Decrypt',
          'kms:ReEncryptFrom',
          'kms:ReEncryptTo',
          'kms:GenerateDataKey',
          'kms:GenerateDataKeyWithoutPlaintext',
          'kms:DescribeKey',
        ],
        resources: ['*'],
        conditions: { ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': logGroupArns } },
      }),
    );
  }
}
