// Builds the CDK app: one TPS stack per environment in ddk.json, plus the
// pipeline stack, with cdk-nag's AWS Solutions checks on all of them. An
// environment that only hosts the pipeline gets no TPS stack.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

import type { TpsConfig } from './config';
import { tpsNames } from './naming';
import { PipelineStack } from './pipeline-stack';
import { TpsStack } from './tps-stack';

/**
 * Returns the context of infra/cdk.json (feature flags). The CLI passes it
 * to `bin/app.ts` itself; tests and scripts pass it to {@link buildApp} so
 * that they build the same templates.
 */
export function cdkJsonContext(): Record<string, unknown> {
  const file = path.resolve(__dirname, '..', 'cdk.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')).context;
}

export interface TpsAppOptions {
  readonly config: TpsConfig;
  readonly lambdaAssetRoot: string;
  readonly appProps?: AppProps;
}

export interface TpsApp {
  readonly app: App;
  /** Directly deployable TPS stacks, in ddk.json order. */
  readonly stacks: readonly TpsStack[];
  readonly pipeline: PipelineStack;
}

export function buildApp(options: TpsAppOptions): TpsApp {
  const { config, lambdaAssetRoot } = options;
  const app = new App(options.appProps);
  // Synthesis fails on any finding that is not acknowledged with a reason.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  const { environment: pipelineHost, targetEnvironment } = config.pipelineConfig;
  const deployed = config.environments.filter((e) => e.key !== pipelineHost || e.key === targetEnvironment);
  const stacks = deployed.map((environment) => {
    const names = tpsNames(config.team, environment.name);
    return new TpsStack(app, names.stack, {
      stackName: names.stack,
      env: { account: environment.account, region: environment.region },
      names,
      environment,
      lambdaArchitecture: config.lambdaArchitecture,
      lambdaAssetRoot,
    });
  });

  const host = config.environments.find((e) => e.key === pipelineHost)!;
  const pipeline = new PipelineStack(app, `tps-${config.team}-${config.pipeline}-pipeline`, {
    env: { account: host.account, region: host.region },
    config,
    lambdaAssetRoot,
  });

  return { app, stacks, pipeline };
}
