// Shared helpers of the infra tests: configuration, app building and template queries.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Template } from 'aws-cdk-lib/assertions';

import { buildApp, cdkJsonContext, type TpsApp } from '../lib/app';
import { parseConfig, type TpsConfig } from '../lib/config';
import { createPlaceholderAssets, lambdaAssetRoot } from '../lib/lambda-assets';

export const INFRA_DIR = path.resolve(__dirname, '..');
export const REPO_DIR = path.resolve(INFRA_DIR, '..');


/** Returns a ddk.json document like the repository's, with `overrides` merged into `tps_parameters`. */
export function ddkDocument(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tps_parameters: { team: 'demoteam', pipeline: 'cmpl', ...overrides },
    environments: {
      dev: { account: '123456789012', region: 'us-east-1', name: 'dev', resource_prefix: 'tps' },
    },
  };
}

export function testConfig(document: Record<string, unknown> = ddkDocument()): TpsConfig {
  return parseConfig(document, 'test ddk.json');
}

/**
 * Builds the app for `config` on the Lambda assets of `make lambdas`, or on
 * the directory that TPS_LAMBDA_ASSET_DIR names.
 *
 * CDK's built-in CloudFormation validation takes about 5 s per synthesis, so
 * these apps skip it; synth-lint.test.ts runs it once through the CLI.
 */
export function buildTestApp(config: TpsConfig = testConfig(), assetRoot: string = lambdaAssetRoot()): TpsApp {
  return buildApp({
    config,
    lambdaAssetRoot: assetRoot,
    appProps: { context: cdkJsonContext(), outdir: tempDir('cdk-out-'), builtinCloudFormationValidation: false },
  });
}

/** Creates placeholder asset directories in a new temporary directory, for tests that need no real binaries. */
export function placeholderAssets(): string {
  return createPlaceholderAssets(tempDir('tps-assets-'));
}

const tempDirs: string[] = [];

/** Creates a temporary directory that is removed when the test process exits. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

// Synthesis copies every Lambda asset into its output directory, about 65 MB per app with the release build.
process.on('exit', () => {
  for (const dir of tempDirs) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

type Resource = { Type: string; Properties?: Record<string, any>; DependsOn?: string[] };

/** Returns the resources of `type` in `template`, by logical id. */
export function resourcesOfType(template: Template, type: string): Record<string, Resource> {
  return template.findResources(type) as Record<string, Resource>;
}

/** Returns the one resource of `type` whose properties contain `name` at `property`. */
export function resourceNamed(template: Template, type: string, property: string, name: string): [string, Resource] {
  const matches = Object.entries(resourcesOfType(template, type)).filter(([, r]) => r.Properties?.[property] === name);
  if (matches.length !== 1) {
    throw new Error(`expected one ${type} with ${property} ${name}, found ${matches.length}`);
  }
  return matches[0];
}

/** Returns the statements of every AWS::IAM::Policy attached to the role with logical id `roleId`. */
export function statementsOfRole(template: Template, roleId: string): Array<Record<string, any>> {
  return Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties!.Roles as unknown[]).some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId })))
    .flatMap((policy) => policy.Properties!.PolicyDocument.Statement as Array<Record<string, any>>);
}

export function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) {
    return [];
  }
  return Array.isArray(value) ? value : [value];
}
