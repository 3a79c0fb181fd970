import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { DEFAULT_DDK_PATH, loadConfig, parseConfig } from '../lib/config';
import { REPO_DIR, ddkDocument, tempDir } from './support';

describe('loadConfig', () => {
  it('reads ddk.json at the repository root by default', () => {
    assert.equal(DEFAULT_DDK_PATH, path.join(REPO_DIR, 'ddk.json'));
  });

  it('defaults when the file is absent', () => {
    const config = loadConfig(path.join(tempDir('ddk-'), 'ddk.json'));
    assert.equal(config.team, 'demoteam');
    assert.equal(config.pipeline, 'cmpl');
    assert.equal(config.lambdaArchitecture, 'x86_64');
    assert.equal(config.environments.length, 1);
    assert.equal(config.environments[0].name, 'dev');
    assert.equal(config.environments[0].account, undefined);
    assert.equal(config.environments[0].region, undefined);
    assert.equal(config.environments[0].lambdaMemoryMb, 256);
    assert.equal(config.environments[0].retainData, true);
  });

  it('reads the documented shape', () => {
    const file = path.join(tempDir('ddk-'), 'ddk.json');
    fs.writeFileSync(file, JSON.stringify(ddkDocument()));
    const config = loadConfig(file);
    assert.equal(config.team, 'demoteam');
    assert.deepEqual(
      { ...config.environments[0] },
      {
        key: 'dev',
        name: 'dev',
        account: '123456789012',
        region: 'us-east-1',
        lambdaMemoryMb: 256,
        retainData: true,
        alarmTopicArn: undefined,
      },
    );
  });

  it('names the file on invalid JSON', () => {
    const file = path.join(tempDir('ddk-'), 'ddk.json');
    fs.writeFileSync(file, '{"tps_parameters": ');
    assert.throws(() => loadConfig(file), new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: invalid JSON`));
  });
});

describe('parseConfig', () => {
  it('defaults an empty team and pipeline', () => {
    const config = parseConfig(ddkDocument({ team: '', pipeline: null }), 'ddk.json');
    assert.equal(config.team, 'demoteam');
    assert.equal(config.pipeline, 'cmpl');
  });

  it('reads architecture and memory', () => {
    const document = ddkDocument({ lambda_architecture: 'arm64', lambda_memory_mb: 512 });
    (document.environments as any).dev.lambda_memory_mb = 1024;
    const config = parseConfig(document, 'ddk.json');
    assert.equal(config.lambdaArchitecture, 'arm64');
    assert.equal(config.environments[0].lambdaMemoryMb, 1024);
  });

  it('rejects invalid values with the field path', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ tps_parameters: { team: 7 } }, /tps_parameters\.team: must be a string/],
      [{ tps_parameters: { lambda_architecture: 'x86' } }, /tps_parameters\.lambda_architecture: must be "x86_64" or "arm64"/],
      [{ environments: { dev: { account: '1234' } } }, /environments\.dev\.account: must be 12 digits/],
      [{ environments: { dev: { region: 'Virginia' } } }, /environments\.dev\.region: must be an AWS region/],
      [{ environments: { dev: { resource_prefix: 'acme' } } }, /environments\.dev\.resource_prefix: must be "tps"/],
      [{ environments: { dev: { lambda_memory_mb: 64 } } }, /environments\.dev\.lambda_memory_mb: must be an integer from 128/],
      [{ environments: { dev: { lambda_architecture: 'arm64' } } }, /set tps_parameters\.lambda_architecture instead/],
      [{ environments: { dev: { retain_data: 'no' } } }, /environments\.dev\.retain_data: must be true or false/],
      [{ environments: { dev: { alarm_topic_arn: 'alarms' } } }, /environments\.dev\.alarm_topic_arn: must be an SNS topic ARN/],
      [{ environments: {} }, /define at least one environment/],
      [{ environments: { a: { name: 'dev' }, b: { name: 'dev' } } }, /environments\.b\.name: "dev" is used twice/],
      [{ tps_parameters: { pipeline_environment: 'cicd' } }, /tps_parameters\.pipeline_environment: no environment "cicd"/],
      [
        { tps_parameters: { pipeline_source: { connection_arn: 'arn:aws:codeconnections:us-east-1:123456789012:connection/x' } } },
        /pipeline_source\.repository: a connection source needs "owner\/name"/,
      ],
    ];
    for (const [document, message] of cases) {
      assert.throws(() => parseConfig(document, 'ddk.json'), message, JSON.stringify(document));
    }
  });

  it('defaults pipeline to CodeCommit and dev', () => {
    const config = parseConfig(ddkDocument(), 'ddk.json');
    assert.deepEqual(config.pipelineConfig, {
      environment: 'dev',
      targetEnvironment: 'dev',
      source: { kind: 'codecommit', repository: 'tps-demoteam-cmpl', branch: 'main' },
    });
  });

  it('reads a connection source and separate pipeline account', () => {
    const document = ddkDocument({
      pipeline_source: {
        connection_arn: 'arn:aws:codeconnections:us-east-1:111111111111:connection/abc',
        repository: 'acme/tps',
        branch: 'release',
      },
    });
    (document.environments as any).cicd = { account: '111111111111', region: 'us-east-1' };
    const config = parseConfig(document, 'ddk.json');
    assert.deepEqual(config.pipelineConfig, {
      environment: 'cicd',
      targetEnvironment: 'dev',
      source: {
        kind: 'connection',
        connectionArn: 'arn:aws:codeconnections:us-east-1:111111111111:connection/abc',
        repository: 'acme/tps',
        branch: 'release',
      },
    });
  });
});
