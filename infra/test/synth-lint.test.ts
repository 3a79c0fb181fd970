// `cdk synth` through the CLI, offline, and cfn-lint on every template it writes.

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import { INFRA_DIR, tempDir } from './support';

/** cfn-lint's W3005 flags DependsOn entries that CDK adds next to Ref/GetAtt; they are redundant, not wrong. */
const CFN_LINT_IGNORED = ['W3005'];

/** The CLI's environment: no telemetry, no credential lookups on the network, and CDK's built-in template validation on. */
const OFFLINE_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  CDK_DISABLE_CLI_TELEMETRY: 'true',
  AWS_EC2_METADATA_DISABLED: 'true',
};
delete OFFLINE_ENV.CDK_VALIDATION;

function templatesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.template.json'))
    .map((file) => path.join(dir, file))
    .sort();
}

describe('cdk synth', () => {
  const outdir = tempDir('cdk-synth-');
  let synth: ReturnType<typeof spawnSync>;
  let seconds: number;

  before(() => {
    const started = process.hrtime.bigint();
    synth = spawnSync(path.join(INFRA_DIR, 'node_modules', '.bin', 'cdk'), ['synth', '--no-notices', '--output', outdir], {
      cwd: INFRA_DIR,
      env: OFFLINE_ENV,
      encoding: 'utf8',
      timeout: 300_000,
    });
    seconds = Number(process.hrtime.bigint() - started) / 1e9;
  });

  it('succeeds offline', (t) => {
    assert.equal(synth.error, undefined, String(synth.error));
    assert.equal(synth.status, 0, `cdk synth failed:\n${synth.stdout}\n${synth.stderr}`);
    t.diagnostic(`cdk synth took ${seconds.toFixed(1)} s`);
  });

  it('writes the TPS, pipeline and stage templates', () => {
    const templates = templatesUnder(outdir).map((file) => path.relative(outdir, file));
    assert.ok(templates.includes('tps-demoteam-dev.template.json'), templates.join(', '));
    assert.ok(templates.includes('tps-demoteam-cmpl-pipeline.template.json'), templates.join(', '));
    const stage = templates.filter((file) => file.startsWith(`assembly-tps-demoteam-cmpl-pipeline-microservices${path.sep}`));
    assert.equal(stage.length, 1, templates.join(', '));
  });

  it('passes cfn-lint', (t) => {
    const templates = templatesUnder(outdir);
    assert.ok(templates.length > 0, 'no templates to lint');
    const lint = spawnSync('cfn-lint', ['--ignore-checks', ...CFN_LINT_IGNORED, '--', ...templates], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    if ((lint.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      assert.fail('cfn-lint not found on PATH: run `make venv` at the repository root and put .venv/bin on PATH (make test-infra does both)');
    }
    assert.equal(lint.error, undefined, String(lint.error));
    assert.equal(lint.status, 0, `cfn-lint found problems:\n${lint.stdout}\n${lint.stderr}`);
    t.diagnostic(`cfn-lint checked ${templates.length} templates`);
  });
});
