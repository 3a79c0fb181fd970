// The onboarding state machine definition: valid ASL once its placeholders
// are filled, and consistent with the substitutions and function timeouts of
// the stack.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import { Template } from 'aws-cdk-lib/assertions';
import validateAsl = require('asl-validator');

import { STATE_MACHINE_FUNCTION_KINDS, substitutionKey, tpsNames, type FunctionKind } from '../lib/naming';
import { MODULE_FUNCTION_TIMEOUT, OTHER_FUNCTION_TIMEOUT } from '../lib/stack/functions';
import { DEFINITION_FILE } from '../lib/stack/orchestration';
import { INFRA_DIR, buildTestApp, resourceNamed } from './support';

const names = tpsNames('demoteam', 'dev');
const definitionText = fs.readFileSync(DEFINITION_FILE, 'utf8');

/** Substitution keys that the definition references, such as `AmcFunctionArn`. */
function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]))].sort();
}

function substituted(text: string): unknown {
  const arns = Object.fromEntries(
    STATE_MACHINE_FUNCTION_KINDS.map((kind) => [
      substitutionKey(kind),
      `arn:aws:lambda:us-east-1:123456789012:function:${names.functions[kind]}`,
    ]),
  );
  return JSON.parse(text.replace(/\$\{([A-Za-z0-9]+)\}/g, (_, key: string) => arns[key] ?? `unknown substitution ${key}`));
}

/** Collects every Task state of the definition, including those inside Map and Parallel states. */
function taskStates(node: any, found: Array<[string, any]> = []): Array<[string, any]> {
  for (const [name, state] of Object.entries<any>(node.States ?? {})) {
    if (state.Type === 'Task') {
      found.push([name, state]);
    }
    if (state.ItemProcessor) {
      taskStates(state.ItemProcessor, found);
    }
    if (state.Iterator) {
      taskStates(state.Iterator, found);
    }
    for (const branch of state.Branches ?? []) {
      taskStates(branch, found);
    }
  }
  return found;
}

describe('onboarding state machine definition', () => {
  it('is the file in infra/statemachine', () => {
    assert.equal(DEFINITION_FILE, path.join(INFRA_DIR, 'statemachine', 'onboarding.asl.json'));
  });

  it('references exactly the substitution keys of the stack', () => {
    assert.deepEqual(placeholders(definitionText), STATE_MACHINE_FUNCTION_KINDS.map(substitutionKey).sort());
  });

  it('is valid ASL after substitution', () => {
    const result = validateAsl(substituted(definitionText), { checkArn: true, checkPaths: true });
    assert.ok(result.isValid, result.errorsText('\n'));
  });

  it('fails validation when a state is missing', () => {
    const broken = substituted(definitionText) as any;
    delete broken.States.RecordStatus;
    assert.equal(validateAsl(broken, { checkArn: true, checkPaths: true }).isValid, false);
  });

  it('task timeouts cover function timeouts', () => {
    const kindByArn = new Map(
      STATE_MACHINE_FUNCTION_KINDS.map((kind) => [`arn:aws:lambda:us-east-1:123456789012:function:${names.functions[kind]}`, kind]),
    );
    const tasks = taskStates(substituted(definitionText));
    assert.ok(tasks.length >= 4);
    for (const [name, state] of tasks) {
      const kind = kindByArn.get(state.Resource) as FunctionKind | undefined;
      assert.ok(kind, `${name} invokes ${state.Resource}, which is no stack function`);
      const timeout = kind === 'Status' ? OTHER_FUNCTION_TIMEOUT : MODULE_FUNCTION_TIMEOUT;
      assert.ok(
        state.TimeoutSeconds >= timeout.toSeconds(),
        `${name}: TimeoutSeconds ${state.TimeoutSeconds} is below the ${kind} function timeout of ${timeout.toSeconds()} s`,
      );
    }
  });

  describe('in the synthesized stack', () => {
    let template: Template;
    let outdir: string;

    before(() => {
      const { app, stacks } = buildTestApp();
      template = Template.fromStack(stacks[0]);
      outdir = app.outdir;
    });

    it('is stored unchanged as the definition asset', () => {
      const [, stateMachine] = resourceNamed(template, 'AWS::StepFunctions::StateMachine', 'StateMachineName', names.stateMachine);
      const key: string = stateMachine.Properties!.DefinitionS3Location.Key;
      const asset = path.join(outdir, `asset.${key}`);
      assert.ok(fs.existsSync(asset), `definition asset ${asset} is missing`);
      assert.deepEqual(JSON.parse(fs.readFileSync(asset, 'utf8')), JSON.parse(definitionText));
    });

    it('gets every placeholder substituted', () => {
      const [, stateMachine] = resourceNamed(template, 'AWS::StepFunctions::StateMachine', 'StateMachineName', names.stateMachine);
      assert.deepEqual(Object.keys(stateMachine.Properties!.DefinitionSubstitutions).sort(), placeholders(definitionText));
    });
  });
});
