// Deployment configuration from `ddk.json` at the repository root. The Rust
// local runtime reads the same file for the team and environment names.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { RESOURCE_PREFIX } from './naming';

/** `ddk.json` at the repository root. */
export const DEFAULT_DDK_PATH = path.resolve(__dirname, '..', '..', 'ddk.json');

export const DEFAULT_TEAM = 'demoteam';
export const DEFAULT_PIPELINE = 'cmpl';
export const DEFAULT_LAMBDA_ARCHITECTURE: LambdaArchitectureName = 'x86_64';
/** A starting point, not a measured need; Lambda allocates CPU in proportion to memory. */
export const DEFAULT_LAMBDA_MEMORY_MB = 256;
const MIN_LAMBDA_MEMORY_MB = 128;
const MAX_LAMBDA_MEMORY_MB = 10240;

export type LambdaArchitectureName = 'x86_64' | 'arm64';

export interface EnvironmentConfig {
  /** Key of this environment under `environments` in ddk.json. */
  readonly key: string;
  /** Environment label in resource names, such as `dev`. */
  readonly name: string;
  /** Target account; the stack is environment-agnostic when unset. */
  readonly account?: string;
  readonly region?: string;
  readonly lambdaMemoryMb: number;
  /**
   * Whether the tables and the data key survive a stack deletion. When true
   * (the default), they are retained and the tables have deletion protection.
   */
  readonly retainData: boolean;
  /** SNS topic that receives the stack's CloudWatch alarms, if any. */
  readonly alarmTopicArn?: string;
}

export type PipelineSource =
  | { readonly kind: 'connection'; readonly connectionArn: string; readonly repository: string; readonly branch: string }
  | { readonly kind: 'codecommit'; readonly repository: string; readonly branch: string };

export interface PipelineConfig {
  /** Key of the environment that hosts the pipeline. */
  readonly environment: string;
  /** Key of the environment that the `microservices` stage deploys to. */
  readonly targetEnvironment: string;
  readonly source: PipelineSource;
}

export interface TpsConfig {
  readonly team: string;
  readonly pipeline: string;
  /**
   * Architecture of every function. It is one setting for all environments
   * because they share one build of the bootstrap binaries.
   */
  readonly lambdaArchitecture: LambdaArchitectureName;
  readonly environments: readonly EnvironmentConfig[];
  readonly pipelineConfig: PipelineConfig;
}

/**
 * Reads and validates `file`, or returns the defaults when it does not exist.
 * Throws with the file name and field on any invalid value.
 */
export function loadConfig(file: string = DEFAULT_DDK_PATH): TpsConfig {
  if (!fs.existsSync(file)) {
    return parseConfig({}, file);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: invalid JSON: ${(error as Error).message}`);
  }
  return parseConfig(raw, file);
}

/** Validates a parsed ddk.json document; `source` names it in error messages. */
export function parseConfig(raw: unknown, source: string): TpsConfig {
  const root = asObject(raw, source, '(root)');
  const parameters = asObject(root.tps_parameters ?? {}, source, 'tps_parameters');
  const team = optionalString(parameters.team, source, 'tps_parameters.team') || DEFAULT_TEAM;
  const pipeline = optionalString(parameters.pipeline, source, 'tps_parameters.pipeline') || DEFAULT_PIPELINE;

  const environmentsRaw = asObject(root.environments ?? { dev: { name: 'dev' } }, source, 'environments');
  const environments = Object.entries(environmentsRaw).map(([key, value]) =>
    parseEnvironment(key, asObject(value, source, `environments.${key}`), parameters, source),
  );
  if (environments.length === 0) {
    throw new Error(`${source}: environments: define at least one environment, such as "dev"`);
  }
  const labels = new Set<string>();
  for (const environment of environments) {
    if (labels.has(environment.name)) {
      throw new Error(`${source}: environments.${environment.key}.name: ${JSON.stringify(environment.name)} is used twice`);
    }
    labels.add(environment.name);
  }

  const architecture =
    optionalString(parameters.lambda_architecture, source, 'tps_parameters.lambda_architecture') || DEFAULT_LAMBDA_ARCHITECTURE;
  if (architecture !== 'x86_64' && architecture !== 'arm64') {
    throw new Error(
      `${source}: tps_parameters.lambda_architecture: must be "x86_64" or "arm64", got ${JSON.stringify(architecture)}`,
    );
  }

  return {
    team,
    pipeline,
    lambdaArchitecture: architecture,
    environments,
    pipelineConfig: parsePipeline(parameters, environments, team, pipeline, source),
  };
}

function parseEnvironment(
  key: string,
  entry: Record<string, unknown>,
  parameters: Record<string, unknown>,
  source: string,
): EnvironmentConfig {
  const field = (name: string) => `environments.${key}.${name}`;
  const name = optionalString(entry.name, source, field('name')) || key;

  const account = optionalString(entry.account, source, field('account')) || undefined;
  if (account !== undefined && !/^\d{12}$/.test(account)) {
    throw new Error(`${source}: ${field('account')}: must be 12 digits, got ${JSON.stringify(account)}`);
  }
  const region = optionalString(entry.region, source, field('region')) || undefined;
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
    throw new Error(`${source}: ${field('region')}: must be an AWS region such as us-east-1, got ${JSON.stringify(region)}`);
  }

  const prefix = optionalString(entry.resource_prefix, source, field('resource_prefix'));
  if (prefix && prefix !== RESOURCE_PREFIX) {
    throw new Error(
      `${source}: ${field('resource_prefix')}: must be "${RESOURCE_PREFIX}", got ${JSON.stringify(prefix)}; ` +
        'the functions and the IAM policies scope every resource to that prefix',
    );
  }

  if (entry.lambda_architecture !== undefined) {
    throw new Error(
      `${source}: ${field('lambda_architecture')}: set tps_parameters.lambda_architecture instead; ` +
        'all environments share one build of the functions',
    );
  }

  const memory = entry.lambda_memory_mb ?? parameters.lambda_memory_mb ?? DEFAULT_LAMBDA_MEMORY_MB;
  if (!Number.isInteger(memory) || (memory as number) < MIN_LAMBDA_MEMORY_MB || (memory as number) > MAX_LAMBDA_MEMORY_MB) {
    throw new Error(
      `${source}: ${field('lambda_memory_mb')}: must be an integer from ${MIN_LAMBDA_MEMORY_MB} to ${MAX_LAMBDA_MEMORY_MB}, got ${JSON.stringify(memory)}`,
    );
  }

  const retainData = entry.retain_data ?? true;
  if (typeof retainData !== 'boolean') {
    throw new Error(`${source}: ${field('retain_data')}: must be true or false, got ${JSON.stringify(retainData)}`);
  }

  const alarmTopicArn = optionalString(entry.alarm_topic_arn, source, field('alarm_topic_arn')) || undefined;
  if (alarmTopicArn !== undefined && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$/.test(alarmTopicArn)) {
    throw new Error(`${source}: ${field('alarm_topic_arn')}: must be an SNS topic ARN, got ${JSON.stringify(alarmTopicArn)}`);
  }

  return {
    key,
    name,
    account,
    region,
    lambdaMemoryMb: memory as number,
    retainData,
    alarmTopicArn,
  };
}

function parsePipeline(
  parameters: Record<string, unknown>,
  environments: readonly EnvironmentConfig[],
  team: string,
  pipeline: string,
  source: string,
): PipelineConfig {
  const keys = environments.map((e) => e.key);
  const pick = (field: string, preferred: string, fallback: string) => {
    const value = optionalString(parameters[field], source, `tps_parameters.${field}`);
    if (value) {
      if (!keys.includes(value)) {
        throw new Error(`${source}: tps_parameters.${field}: no environment ${JSON.stringify(value)}; defined: ${keys.join(', ')}`);
      }
      return value;
    }
    return keys.includes(preferred) ? preferred : fallback;
  };
  const environment = pick('pipeline_environment', 'cicd', keys[0]);
  const targetEnvironment = pick('pipeline_target_environment', 'dev', keys.find((k) => k !== environment) ?? keys[0]);

  const sourceEntry = asObject(parameters.pipeline_source ?? {}, source, 'tps_parameters.pipeline_source');
  const branch = optionalString(sourceEntry.branch, source, 'tps_parameters.pipeline_source.branch') || 'main';
  const connectionArn = optionalString(sourceEntry.connection_arn, source, 'tps_parameters.pipeline_source.connection_arn');
  const repository = optionalString(sourceEntry.repository, source, 'tps_parameters.pipeline_source.repository');
  if (connectionArn) {
    if (!repository || !/^[^/\s]+\/[^/\s]+$/.test(repository)) {
      throw new Error(
        `${source}: tps_parameters.pipeline_source.repository: a connection source needs "owner/name", got ${JSON.stringify(repository)}`,
      );
    }
    return { environment, targetEnvironment, source: { kind: 'connection', connectionArn, repository, branch } };
  }
  return {
    environment,
    targetEnvironment,
    source: { kind: 'codecommit', repository: repository || `${RESOURCE_PREFIX}-${team}-${pipeline}`, branch },
  };
}

function asObject(value: unknown, source: string, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${source}: ${field}: must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Returns the string at `field`, or '' when it is absent or null. */
function optionalString(value: unknown, source: string, field: string): string {
  if (value === undefined || value === null) {
    return '';
  }
  if (typeof value !== 'string') {
    throw new Error(`${source}: ${field}: must be a string, got ${JSON.stringify(value)}`);
  }
  return value.trim();
}
