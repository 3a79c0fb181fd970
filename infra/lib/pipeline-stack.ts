// CDK Pipelines pipeline whose `microservices` stage deploys the TPS stack.

import { Stack, Stage, type StackProps, type StageProps } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as pipelines from 'aws-cdk-lib/pipelines';
import type { Construct } from 'constructs';

import type { EnvironmentConfig, TpsConfig } from './config';
import { acknowledgeMatching, type FindingClass } from './nag';
import { RESOURCE_PREFIX, tpsNames } from './naming';
import { TpsStack } from './tps-stack';

/** Id of the pipeline stage that deploys the TPS stack. */
export const MICROSERVICES_STAGE = 'microservices';

export interface TpsStageProps extends StageProps {
  readonly config: TpsConfig;
  readonly environment: EnvironmentConfig;
  readonly lambdaAssetRoot: string;
}

/** Deploys the TPS stack of one environment, with the same stack name as a direct deployment. */
export class TpsStage extends Stage {
  readonly stack: TpsStack;

  constructor(scope: Construct, id: string, props: TpsStageProps) {
    super(scope, id, props);
    const names = tpsNames(props.config.team, props.environment.name);
    this.stack = new TpsStack(this, names.stack, {
      stackName: names.stack,
      names,
      environment: props.environment,
      lambdaArchitecture: props.config.lambdaArchitecture,
      lambdaAssetRoot: props.lambdaAssetRoot,
    });
  }
}

// Patterns of ARN parts in cdk-nag finding ids: a literal, or the pseudo parameter of an environment-agnostic stack.
const PARTITION = '(<AWS::Partition>|aws[a-z-]*)';
const REGION = '(<AWS::Region>|[a-z]{2}(-[a-z]+)+-\\d)';
const ACCOUNT = '(<AWS::AccountId>|\\d{12})';

/**
 * cdk-nag findings of the roles and bucket that CDK Pipelines generates. The
 * ids embed the partition, account, region and generated logical ids, so
 * they are matched by pattern.
 */
const PIPELINE_FINDINGS: readonly FindingClass[] = [
  {
    pattern: /^AwsSolutions-IAM5\[Action::(s3:(Abort|DeleteObject|GetBucket|GetObject|List)\*|kms:(GenerateDataKey|ReEncrypt)\*)\]$/,
    reason: "CDK Pipelines grants these wildcard actions on the pipeline's own artifact bucket and its key only.",
  },
  {
    pattern: /^AwsSolutions-IAM5\[Resource::<PipelineArtifactsBucket[0-9A-F]{8}\.Arn>\/\*\]$/,
    reason: "The objects of the pipeline's own artifact bucket.",
  },

  {
    pattern: new RegExp(
      `^AwsSolutions-IAM5\\[Resource::arn:${PARTITION}:(logs:${REGION}:${ACCOUNT}:log-group:/aws/codebuild/|codebuild:${REGION}:${ACCOUNT}:report-group/)[^\\]]*\\*\\]$`,
    ),
    reason: 'CodeBuild log groups and report groups of the pipeline projects, which CodeBuild names after each project.',
  },
  {
    pattern: new RegExp(`^AwsSolutions-IAM5\\[Resource::arn:\\*:iam::${ACCOUNT}:role/\\*\\]$`),
    reason:
      'The self-mutation project assumes the CDK bootstrap roles; an iam:ResourceTag/aws-cdk:bootstrap-role condition limits it to them.',
  },
  {
    pattern: /^AwsSolutions-IAM5\[Resource::\*\]$/,
    reason:
      'The asset and self-mutation projects call cloudformation:DescribeStacks, s3:ListBucket and CodeBuild build actions, ' +
      'which CDK Pipelines grants on Resource "*".',
  },
  {
    pattern: /^AwsSolutions-S1$/,
    reason:
      'Pipeline artifact and replication buckets hold transient build outputs encrypted with a pipeline key; server access ' +
      'logs would need another bucket that would itself have no access logs.',
  },
];

export interface PipelineStackProps extends StackProps {
  readonly config: TpsConfig;
  readonly lambdaAssetRoot: string;
}

export class PipelineStack extends Stack {
  readonly pipeline: pipelines.CodePipeline;
  readonly stage: TpsStage;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { config } = props;
    const target = config.environments.find((e) => e.key === config.pipelineConfig.targetEnvironment);
    if (!target) {
      throw new Error(`pipeline target environment ${config.pipelineConfig.targetEnvironment} is not defined in ddk.json`);
    }

    this.pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
      pipelineName: `${RESOURCE_PREFIX}-${config.team}-${config.pipeline}`,
      // A customer managed key for the artifact bucket, which cross-account deployment also needs.
      crossAccountKeys: true,
      enableKeyRotation: true,
      synth: new pipelines.ShellStep('Synth', {
        input: this.source(config),
        env: { CDK_DISABLE_CLI_TELEMETRY: 'true', LAMBDA_ARCH: config.lambdaArchitecture },
        installCommands: [
          // The CodeBuild standard image has no Rust toolchain.
          'curl --proto =https --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal',
          '. "$HOME/.cargo/env"',
        ],
        commands: [
          '. "$HOME/.cargo/env"',
          'make lambdas LAMBDA_ARCH="$LAMBDA_ARCH"',
          'cd infra',
          'npm ci --no-audit --no-fund',
          'npx cdk synth --no-notices',
        ],
        primaryOutputDirectory: 'infra/cdk.out',
      }),
      synthCodeBuildDefaults: {
        // A release build of the workspace takes 5 to 7 minutes on 2 vCPUs; LARGE has 8.
        buildEnvironment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0, computeType: codebuild.ComputeType.LARGE },
      },
    });

    this.stage = new TpsStage(this, MICROSERVICES_STAGE, {
      env: { account: target.account, region: target.region },
      config,
      environment: target,
      lambdaAssetRoot: props.lambdaAssetRoot,
    });
    this.pipeline.addStage(this.stage);

    // The pipeline's constructs exist only once it is built.
    this.pipeline.buildPipeline();
    acknowledgeMatching(this.pipeline, PIPELINE_FINDINGS);
    // A target in another region adds a support stack with a replication bucket.
    for (const support of Object.values(this.pipeline.pipeline.crossRegionSupport)) {
      acknowledgeMatching(support.stack, PIPELINE_FINDINGS);
      const bucketName = escapeRegExp(this.resolve(support.replicationBucket.bucketName) as string);
      acknowledgeMatching(this.pipeline, [
        {
          pattern: new RegExp(`^AwsSolutions-IAM5\\[Resource::arn:${PARTITION}:s3:::${bucketName}/\\*\\]$`),
          reason: 'The objects of the replication bucket that CodePipeline uses for a deployment to another region.',
        },
      ]);
    }
  }

  private source(config: TpsConfig): pipelines.CodePipelineSource {
    const source = config.pipelineConfig.source;
    if (source.kind === 'connection') {
      return pipelines.CodePipelineSource.connection(source.repository, source.branch, { connectionArn: source.connectionArn });
    }
    const repository = codecommit.Repository.fromRepositoryName(this, 'Repository', source.repository);
    return pipelines.CodePipelineSource.codeCommit(repository, source.branch);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
