// Drift between the CDK stack and the Rust side: `tps local manifest` prints
// the names, function environments and mapping settings that the local
// runtime creates, and this test compares them with the synthesized template.

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, beforeEach, describe, it } from 'node:test';

import { Template } from 'aws-cdk-lib/assertions';

import { FUNCTION_KINDS, tpsNames, type FunctionKind } from '../lib/naming';
import { REPO_DIR, buildTestApp, placeholderAssets, resourceNamed, resourcesOfType, testConfig } from './support';

/** The `tps` CLI binary; TPS_BIN overrides the debug build of the workspace. */
const TPS_BIN = process.env.TPS_BIN ? path.resolve(process.env.TPS_BIN) : path.join(REPO_DIR, 'target', 'debug', 'tps');

// A team and environment other than the defaults, so that a name fixed on either side shows up.
const TEAM = 'acme';
const ENV = 'qa';
const names = tpsNames(TEAM, ENV);

interface Manifest {
  tables: { tenant: string; status: string };
  topics: { events: string };
  queues: { status: string; statusDlq: string; streamFailures: string };
  stateMachine: string;
  functions: Record<string, { kind: string; environment: Record<string, string> }>;
  eventSourceMapping: {
    batchSize: number;
    maximumRetryAttempts: number;
    bisectBatchOnFunctionError: boolean;
    maximumRecordAgeInSeconds: number;
    functionResponseTypes: string[];
  };
  stateMachineSubstitutions: string[];
}

/** Runs `tps local manifest`; throws with the next step when the binary is missing or fails. */
function readManifest(): Manifest {
  if (!fs.existsSync(TPS_BIN)) {
    throw new Error(
      `tps binary not found at ${TPS_BIN}: run \`cargo build -p tps-cli\` at the repository root, or set TPS_BIN to the binary`,
    );
  }
  const args = ['local', 'manifest', '--team', TEAM, '--env', ENV];
  const run = spawnSync(TPS_BIN, args, { encoding: 'utf8', timeout: 60_000 });
  if (run.error || run.status !== 0) {
    throw new Error(`${TPS_BIN} ${args.join(' ')} failed (exit ${run.status}): ${run.error ?? run.stderr}`);
  }
  try {
    return JSON.parse(run.stdout) as Manifest;
  } catch (error) {
    throw new Error(`${TPS_BIN} ${args.join(' ')} printed invalid JSON: ${(error as Error).message}\n${run.stdout}`);
  }
}

describe('drift between the stack and tps local manifest', () => {
  let manifest: Manifest;
  let manifestError: Error | undefined;
  let template: Template;

  before(() => {
    try {
      manifest = readManifest();
    } catch (error) {
      manifestError = error as Error;
    }
    const config = testConfig({
      tps_parameters: { team: TEAM },
      environments: { [ENV]: { account: '123456789012', region: 'us-east-1' } },
    });
    template = Template.fromStack(buildTestApp(config, placeholderAssets()).stacks[0]);
  });

  // Each test fails on its own with the reason, so a missing binary counts as failed tests, not cancelled ones.
  beforeEach(() => {
    if (manifestError) {
      throw manifestError;
    }
  });

  const nameOf = (type: string, property: string, logicalId: string) =>
    (resourcesOfType(template, type)[logicalId]?.Properties ?? {})[property] as string | undefined;

  it('names the tables', () => {
    resourceNamed(template, 'AWS::DynamoDB::Table', 'TableName', manifest.tables.tenant);
    resourceNamed(template, 'AWS::DynamoDB::Table', 'TableName', manifest.tables.status);
    assert.equal(manifest.tables.tenant, names.tenantTable);
    assert.equal(manifest.tables.status, names.statusTable);
  });

  it('names the topic and queues', () => {
    resourceNamed(template, 'AWS::SNS::Topic', 'TopicName', manifest.topics.events);
    for (const queue of [manifest.queues.status, manifest.queues.statusDlq, manifest.queues.streamFailures]) {
      resourceNamed(template, 'AWS::SQS::Queue', 'QueueName', queue);
    }
    assert.equal(manifest.queues.status, names.statusQueue);
    assert.equal(manifest.queues.statusDlq, names.statusDlq);
    assert.equal(manifest.queues.streamFailures, names.streamFailureQueue);
  });

  it('names the state machine', () => {
    resourceNamed(template, 'AWS::StepFunctions::StateMachine', 'StateMachineName', manifest.stateMachine);
  });

  it('names the same five functions with their kinds', () => {
    const templateNames = Object.values(resourcesOfType(template, 'AWS::Lambda::Function'))
      .map((fn) => fn.Properties!.FunctionName as string)
      .sort();
    assert.deepEqual(Object.keys(manifest.functions).sort(), templateNames);
    const kindByName = new Map(FUNCTION_KINDS.map((kind) => [names.functions[kind], kind]));
    for (const [name, fn] of Object.entries(manifest.functions)) {
      assert.equal(fn.kind, kindByName.get(name), name);
    }
  });

  for (const kind of FUNCTION_KINDS) {
    it(`gives ${kind} the same environment`, () => {
      const name = names.functions[kind as FunctionKind];
      const local = manifest.functions[name]?.environment;
      assert.ok(local, `manifest has no function ${name}`);
      const [, fn] = resourceNamed(template, 'AWS::Lambda::Function', 'FunctionName', name);
      const stack: Record<string, unknown> = fn.Properties!.Environment.Variables;
      assert.deepEqual(Object.keys(local).sort(), Object.keys(stack).sort(), `${name}: variable names`);

      for (const [variable, value] of Object.entries(stack)) {
        if (typeof value === 'string') {
          assert.equal(local[variable], value, `${name}: ${variable}`);
          continue;
        }
        // An ARN that CloudFormation resolves: the local ARN must end in the same resource name.
        const ref = (value as { Ref?: string }).Ref;
        const topic = ref && nameOf('AWS::SNS::Topic', 'TopicName', ref);
        const stateMachine = ref && nameOf('AWS::StepFunctions::StateMachine', 'StateMachineName', ref);
        if (topic) {
          assert.ok(local[variable].endsWith(`:${topic}`), `${name}: ${variable} ${local[variable]} is not topic ${topic}`);
        } else if (stateMachine) {
          assert.ok(
            local[variable].endsWith(`:stateMachine:${stateMachine}`),
            `${name}: ${variable} ${local[variable]} is not state machine ${stateMachine}`,
          );
        } else {
          assert.fail(`${name}: ${variable} has a template value this test cannot compare: ${JSON.stringify(value)}`);
        }
      }
    });
  }

  it('matches event source mapping settings', () => {
    const [mapping] = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping'));
    const properties = mapping.Properties!;
    assert.deepEqual(manifest.eventSourceMapping, {
      batchSize: properties.BatchSize,
      maximumRetryAttempts: properties.MaximumRetryAttempts,
      bisectBatchOnFunctionError: properties.BisectBatchOnFunctionError,
      maximumRecordAgeInSeconds: properties.MaximumRecordAgeInSeconds,
      functionResponseTypes: properties.FunctionResponseTypes,
    });
  });

  it('substitutes the same state machine keys', () => {
    const [, stateMachine] = resourceNamed(template, 'AWS::StepFunctions::StateMachine', 'StateMachineName', names.stateMachine);
    assert.deepEqual([...manifest.stateMachineSubstitutions].sort(), Object.keys(stateMachine.Properties!.DefinitionSubstitutions).sort());
  });
});
