// The CDK Pipelines pipeline and its microservices stage.

import * as assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { Match, Template } from 'aws-cdk-lib/assertions';

import { MICROSERVICES_STAGE, type PipelineStack } from '../lib/pipeline-stack';
import { buildTestApp, ddkDocument, placeholderAssets, resourcesOfType, testConfig } from './support';

describe('pipeline stack', () => {
  let pipeline: PipelineStack;
  let template: Template;

  before(() => {
    pipeline = buildTestApp(testConfig(), placeholderAssets()).pipeline;
    template = Template.fromStack(pipeline);
  });

  it('deploys the TPS stack in its microservices stage', () => {
    assert.equal(pipeline.stackName, 'tps-demoteam-cmpl-pipeline');
    assert.equal(pipeline.stage.node.id, MICROSERVICES_STAGE);
    assert.equal(pipeline.stage.stack.stackName, 'tps-demoteam-dev');
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Name: 'tps-demoteam-cmpl',
      Stages: Match.arrayWith([
        Match.objectLike({
          Name: MICROSERVICES_STAGE,
          Actions: Match.arrayWith([
            Match.objectLike({
              ActionTypeId: Match.objectLike({ Category: 'Deploy', Provider: 'CloudFormation' }),
              Configuration: Match.objectLike({ StackName: 'tps-demoteam-dev' }),
            }),
          ]),
        }),
      ]),
    });
  });

  it('synth step builds and synthesizes', () => {
    const projects = Object.values(resourcesOfType(template, 'AWS::CodeBuild::Project'));
    const synth = projects.find((p) => String(p.Properties!.Source.BuildSpec).includes('cdk synth'));
    assert.ok(synth, 'a CodeBuild project runs cdk synth');
    const buildSpec = JSON.parse(synth.Properties!.Source.BuildSpec);
    const commands: string[] = buildSpec.phases.build.commands;
    assert.ok(commands.includes('make lambdas LAMBDA_ARCH="$LAMBDA_ARCH"'), commands.join('; '));
    assert.ok(commands.includes('npx cdk synth --no-notices'), commands.join('; '));
    assert.deepEqual(buildSpec.artifacts['base-directory'], 'infra/cdk.out');
    assert.equal(synth.Properties!.Environment.ComputeType, 'BUILD_GENERAL1_LARGE');
    assert.ok(
      (synth.Properties!.Environment.EnvironmentVariables as any[]).some((v) => v.Name === 'LAMBDA_ARCH' && v.Value === 'x86_64'),
    );
  });

  it('reads a CodeCommit repository by default', () => {
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Stages: Match.arrayWith([
        Match.objectLike({
          Name: 'Source',
          Actions: [
            Match.objectLike({
              ActionTypeId: Match.objectLike({ Provider: 'CodeCommit' }),
              Configuration: Match.objectLike({ RepositoryName: 'tps-demoteam-cmpl', BranchName: 'main' }),
            }),
          ],
        }),
      ]),
    });
  });

  it('reads a connection source when configured', () => {
    const connectionArn = 'arn:aws:codeconnections:us-east-1:123456789012:connection/abc';
    const document = ddkDocument({ pipeline_source: { connection_arn: connectionArn, repository: 'acme/tps', branch: 'release' } });
    const template = Template.fromStack(buildTestApp(testConfig(document), placeholderAssets()).pipeline);
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Stages: Match.arrayWith([
        Match.objectLike({
          Name: 'Source',
          Actions: [
            Match.objectLike({
              ActionTypeId: Match.objectLike({ Provider: 'CodeStarSourceConnection' }),
              Configuration: Match.objectLike({ ConnectionArn: connectionArn, FullRepositoryId: 'acme/tps', BranchName: 'release' }),
            }),
          ],
        }),
      ]),
    });
  });

  it('encrypts artifacts with a rotating key', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('keeps a pipeline-only environment out of direct deployment', () => {
    const document = ddkDocument();
    (document.environments as any).cicd = { account: '111111111111', region: 'us-east-1' };
    const { stacks, pipeline } = buildTestApp(testConfig(document), placeholderAssets());
    assert.deepEqual(
      stacks.map((s) => s.stackName),
      ['tps-demoteam-dev'],
    );
    assert.equal(pipeline.account, '111111111111');
    assert.equal(pipeline.stage.stack.account, '123456789012');
  });
});
