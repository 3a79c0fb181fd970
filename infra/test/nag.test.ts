// cdk-nag AWS Solutions checks: no unacknowledged finding, and every
// acknowledgment names one rule and gives a reason.

import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';

import { listAcknowledgments } from '../lib/nag';
import { buildTestApp, ddkDocument, placeholderAssets, testConfig } from './support';

function findings(app: import('aws-cdk-lib').App): string[] {
  const report = new AwsSolutionsChecks().validateScope(app);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
}

describe('cdk-nag', () => {
  it('finds nothing unacknowledged in the app', () => {
    const { app } = buildTestApp();
    assert.deepEqual(findings(app), []);
  });

  it('finds nothing unacknowledged without account or region', () => {
    const { app } = buildTestApp(testConfig({ tps_parameters: { team: 'acme' } }), placeholderAssets());
    assert.deepEqual(findings(app), []);
  });

  it('finds nothing unacknowledged for a cross-account pipeline', () => {
    const document = ddkDocument({
      lambda_architecture: 'arm64',
      pipeline_source: {
        connection_arn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/abc',
        repository: 'acme/tps',
      },
    });
    (document.environments as any).cicd = { account: '111111111111', region: 'eu-west-1' };
    const { app } = buildTestApp(testConfig(document), placeholderAssets());
    assert.deepEqual(findings(app), []);
  });

  it('reports a wildcard action that nobody acknowledged', () => {
    const { app, stacks } = buildTestApp(testConfig(), placeholderAssets());
    stacks[0].functions.roles.Status.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:*'], resources: [stacks[0].data.statusTable.tableArn] }),
    );
    assert.ok(findings(app).some((f) => f.startsWith('AwsSolutions-IAM5[Action::dynamodb:*] at tps-demoteam-dev/Functions/StatusRole')));
    assert.throws(() => app.synth(), /Validation failed/);
  });

  it('gives every acknowledgment one rule and a reason', (t) => {
    const { app } = buildTestApp();
    const records = listAcknowledgments(app);
    assert.ok(records.length > 0);
    for (const record of records) {
      assert.match(record.id, /^AwsSolutions-[A-Z]+\d+(\[.+\])?$/, `${record.path}: ${record.id}`);
      assert.ok(record.reason.length >= 40, `${record.path}: ${record.id} has a short reason: ${record.reason}`);
    }

    // The distinct acknowledgments, for review in the test output.
    const distinct = new Map<string, number>();
    for (const record of records) {
      const key = `${record.id} -- ${record.reason}`;
      distinct.set(key, (distinct.get(key) ?? 0) + 1);
    }
    for (const [key, count] of distinct) {
      t.diagnostic(`${count}x ${key}`);
    }
  });
});
