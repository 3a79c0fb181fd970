// Physical names of the TPS stack's resources. The Rust crates build the same
// names (`tps local manifest` prints them) and test/drift.test.ts compares
// the two, so a change here needs the same change on the Rust side.

/** The five Lambda functions, by the label used in their names. */
export const FUNCTION_KINDS = ['Stream', 'Amc', 'SponsoredAds', 'Dsp', 'Status'] as const;
export type FunctionKind = (typeof FUNCTION_KINDS)[number];

/** Module functions, which the state machine runs once per enabled module. */
export const MODULE_FUNCTION_KINDS = ['Amc', 'SponsoredAds', 'Dsp'] as const satisfies readonly FunctionKind[];

/** Cargo binary that `make lambdas` builds for each function, in `target/lambda/<bin>/bootstrap`. */
export const FUNCTION_BINARIES: Readonly<Record<FunctionKind, string>> = {
  Stream: 'tps-stream',
  Amc: 'tps-amc',
  SponsoredAds: 'tps-sponsored-ads',
  Dsp: 'tps-dsp',
  Status: 'tps-status',
};

/** Functions whose ARNs the state machine definition references. */
export const STATE_MACHINE_FUNCTION_KINDS = ['Status', 'Amc', 'SponsoredAds', 'Dsp'] as const satisfies readonly FunctionKind[];

/** Key of a function's ARN in the state machine's `definitionSubstitutions`, such as `AmcFunctionArn`. */
export function substitutionKey(kind: FunctionKind): string {
  return `${kind}FunctionArn`;
}

/** Prefix of every stack and tenant resource name; the IAM policies are scoped to it. */
export const RESOURCE_PREFIX = 'tps';

// Maximum name lengths that the services accept.
const MAX_FUNCTION_NAME = 64;
const MAX_QUEUE_NAME = 80;
const MAX_TOPIC_NAME = 256;
const MAX_STATE_MACHINE_NAME = 80;
const MAX_TABLE_NAME = 255;
const MAX_ALIAS_NAME = 256;

/** Team and environment labels: letters, digits and hyphens, starting and ending alphanumeric. */
const LABEL_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

export interface TpsNames {
  readonly team: string;
  readonly env: string;
  readonly tenantTable: string;
  readonly statusTable: string;
  readonly eventsTopic: string;
  readonly statusQueue: string;
  readonly statusDlq: string;
  /** Standard queue that receives the stream event source mapping's failed batches. */
  readonly streamFailureQueue: string;
  readonly stateMachine: string;
  readonly functions: Readonly<Record<FunctionKind, string>>;
  /** Alias of the stack's customer managed key for tables, topic, queues and logs. */
  readonly dataKeyAlias: string;
  /** CloudFormation stack name for this team and environment. */
  readonly stack: string;
  /** CloudWatch Logs group of the state machine. */
  readonly stateMachineLogGroup: string;
  /** CloudWatch Logs group of each function; Lambda writes to `/aws/lambda/<function name>`. */
  readonly functionLogGroups: Readonly<Record<FunctionKind, string>>;
}

/**
 * Builds every stack resource name for `team` and `env`.
 *
 * Throws when either label has characters that some of the names do not
 * allow, or when a name would exceed its service's length limit.
 */
export function tpsNames(team: string, env: string): TpsNames {
  checkLabel('team', team);
  checkLabel('environment name', env);

  const name = (part: string) => `${RESOURCE_PREFIX}-${team}-${part}-${env}`;
  const functions = Object.fromEntries(FUNCTION_KINDS.map((kind) => [kind, name(kind)])) as Record<FunctionKind, string>;
  const names: TpsNames = {
    team,
    env,
    tenantTable: name('CustomerConfig'),
    statusTable: name('TenantStatus'),
    eventsTopic: `${name('TenantEvents')}.fifo`,
    statusQueue: `${name('TenantStatus')}.fifo`,
    statusDlq: `${name('TenantStatusDlq')}.fifo`,
    streamFailureQueue: name('StreamFailures'),
    stateMachine: name('Onboarding'),
    functions,
    dataKeyAlias: `alias/${name('data')}`,
    stack: `${RESOURCE_PREFIX}-${team}-${env}`,
    stateMachineLogGroup: `/aws/vendedlogs/states/${name('Onboarding')}`,
    functionLogGroups: Object.fromEntries(FUNCTION_KINDS.map((kind) => [kind, `/aws/lambda/${functions[kind]}`])) as Record<
      FunctionKind,
      string
    >,
  };

  checkLength('table', names.tenantTable, MAX_TABLE_NAME);
  checkLength('table', names.statusTable, MAX_TABLE_NAME);
  checkLength('SNS topic', names.eventsTopic, MAX_TOPIC_NAME);
  checkLength('SQS queue', names.statusDlq, MAX_QUEUE_NAME);
  checkLength('SQS queue', names.streamFailureQueue, MAX_QUEUE_NAME);
  checkLength('state machine', names.stateMachine, MAX_STATE_MACHINE_NAME);
  checkLength('KMS alias', names.dataKeyAlias, MAX_ALIAS_NAME);
  for (const kind of FUNCTION_KINDS) {
    checkLength('Lambda function', functions[kind], MAX_FUNCTION_NAME);
  }
  return names;
}

function checkLabel(field: string, value: string): void {
  if (!LABEL_PATTERN.test(value)) {
    throw new Error(
      `invalid ${field} ${JSON.stringify(value)}: use letters, digits and hyphens, starting and ending with a letter or digit`,
    );
  }
}

function checkLength(resourceType: string, value: string, max: number): void {
  if (value.length > max) {
    throw new Error(
      `${resourceType} name ${JSON.stringify(value)} is ${value.length} characters, over the limit of ${max}: shorten the team or environment name in ddk.json`,
    );
  }
}
