// The five Lambda functions, each with its own role and log group.

import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

import type { EnvironmentConfig, LambdaArchitectureName } from '../config';
import { lambdaAssetDir } from '../lambda-assets';
import { FUNCTION_KINDS, MODULE_FUNCTION_KINDS, type FunctionKind, type TpsNames } from '../naming';

/** Environment variables that the functions read; the Rust crates use the same names. */
export const ENV_TEAM = 'TPS_TEAM';
export const ENV_ENV = 'TPS_ENV';
export const ENV_TENANT_TABLE = 'TPS_TENANT_TABLE';
export const ENV_STATUS_TABLE = 'TPS_STATUS_TABLE';
export const ENV_EVENTS_TOPIC_ARN = 'TPS_EVENTS_TOPIC_ARN';
export const ENV_STATE_MACHINE_ARN = 'TPS_STATE_MACHINE_ARN';
export const ENV_RUST_LOG = 'RUST_LOG';

/** Module functions make a series of KMS, S3 and SQS calls per tenant; the state machine's module task timeout is the same. */
export const MODULE_FUNCTION_TIMEOUT = Duration.minutes(5);
export const OTHER_FUNCTION_TIMEOUT = Duration.minutes(1);

const LOG_RETENTION = logs.RetentionDays.ONE_MONTH;

const DESCRIPTIONS: Readonly<Record<FunctionKind, string>> = {
  Stream: 'Decides the action for each tenant table stream record and starts the onboarding state machine',
  Amc: 'Provisions or deprovisions a tenant AMC module: KMS key and results bucket',
  SponsoredAds: 'Provisions or deprovisions a tenant Sponsored Ads module: Marketing Stream ingress queues',
  Dsp: 'Provisions or deprovisions a tenant DSP module: report bucket and ingress queues',
  Status: 'Records a tenant status in the status table and publishes the tenant event',
};

export interface FunctionsProps {
  readonly names: TpsNames;
  readonly environment: EnvironmentConfig;
  readonly lambdaArchitecture: LambdaArchitectureName;
  readonly assetRoot: string;
  readonly key: kms.IKey;
  readonly eventsTopicArn: string;
}

export class Functions extends Construct {
  readonly functions: Readonly<Record<FunctionKind, lambda.Function>>;
  readonly roles: Readonly<Record<FunctionKind, iam.Role>>;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const { names, environment, assetRoot, key } = props;
    const architecture = props.lambdaArchitecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;
    const logRemovalPolicy = environment.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const functions: Partial<Record<FunctionKind, lambda.Function>> = {};
    const roles: Partial<Record<FunctionKind, iam.Role>> = {};
    for (const kind of FUNCTION_KINDS) {
      // An explicit role and log group keep the managed policy
      // AWSLambdaBasicExecutionRole, which allows writing to every log group, off the role.
      const role = new iam.Role(this, `${kind}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Execution role of ${names.functions[kind]}`,
      });
      const logGroup = new logs.LogGroup(this, `${kind}Logs`, {
        logGroupName: names.functionLogGroups[kind],
        retention: LOG_RETENTION,
        encryptionKey: key,
        removalPolicy: logRemovalPolicy,
      });
      logGroup.grantWrite(role);

      const isModule = (MODULE_FUNCTION_KINDS as readonly FunctionKind[]).includes(kind);
      functions[kind] = new lambda.Function(this, kind, {
        functionName: names.functions[kind],
        description: DESCRIPTIONS[kind],
        runtime: lambda.Runtime.PROVIDED_AL2023,
        handler: 'bootstrap',
        code: lambda.Code.fromAsset(lambdaAssetDir(assetRoot, kind, props.lambdaArchitecture)),
        architecture,
        memorySize: environment.lambdaMemoryMb,
        timeout: isModule ? MODULE_FUNCTION_TIMEOUT : OTHER_FUNCTION_TIMEOUT,
        role,
        logGroup,
        tracing: lambda.Tracing.ACTIVE,
        environmentEncryption: key,
        environment: {
          [ENV_TEAM]: names.team,
          [ENV_ENV]: names.env,
          [ENV_TENANT_TABLE]: names.tenantTable,
          [ENV_STATUS_TABLE]: names.statusTable,
          [ENV_EVENTS_TOPIC_ARN]: props.eventsTopicArn,
          [ENV_RUST_LOG]: 'info',
        },
      });
      roles[kind] = role;
    }
    this.functions = functions as Record<FunctionKind, lambda.Function>;
    this.roles = roles as Record<FunctionKind, iam.Role>;
  }
}
