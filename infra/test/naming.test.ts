import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FUNCTION_BINARIES, FUNCTION_KINDS, substitutionKey, tpsNames } from '../lib/naming';

describe('tpsNames', () => {
  it('builds every stack name for demoteam/dev', () => {
    const names = tpsNames('demoteam', 'dev');
    assert.equal(names.tenantTable, 'tps-demoteam-CustomerConfig-dev');
    assert.equal(names.statusTable, 'tps-demoteam-TenantStatus-dev');
    assert.equal(names.eventsTopic, 'tps-demoteam-TenantEvents-dev.fifo');
    assert.equal(names.statusQueue, 'tps-demoteam-TenantStatus-dev.fifo');
    assert.equal(names.statusDlq, 'tps-demoteam-TenantStatusDlq-dev.fifo');
    assert.equal(names.streamFailureQueue, 'tps-demoteam-StreamFailures-dev');
    assert.equal(names.stateMachine, 'tps-demoteam-Onboarding-dev');
    assert.equal(names.dataKeyAlias, 'alias/tps-demoteam-data-dev');
    assert.deepEqual(names.functions, {
      Stream: 'tps-demoteam-Stream-dev',
      Amc: 'tps-demoteam-Amc-dev',
      SponsoredAds: 'tps-demoteam-SponsoredAds-dev',
      Dsp: 'tps-demoteam-Dsp-dev',
      Status: 'tps-demoteam-Status-dev',
    });
    assert.equal(names.stack, 'tps-demoteam-dev');
    assert.equal(names.functionLogGroups.Stream, '/aws/lambda/tps-demoteam-Stream-dev');
    assert.equal(names.stateMachineLogGroup, '/aws/vendedlogs/states/tps-demoteam-Onboarding-dev');
  });

  it('uses the team and environment given', () => {
    const names = tpsNames('acme', 'prod-eu');
    assert.equal(names.tenantTable, 'tps-acme-CustomerConfig-prod-eu');
    assert.equal(names.functions.SponsoredAds, 'tps-acme-SponsoredAds-prod-eu');
  });

  it('rejects labels with invalid characters', () => {
    for (const [team, env] of [
      ['demo team', 'dev'],
      ['demoteam', 'dev_1'],
      ['-demo', 'dev'],
      ['demoteam', 'dev-'],
      ['', 'dev'],
    ]) {
      assert.throws(() => tpsNames(team, env), /invalid (team|environment name)/, `${team}/${env}`);
    }
  });

  it('rejects names over a service limit', () => {
    // tps-{team}-SponsoredAds-{env} must fit Lambda's 64 characters.
    assert.throws(() => tpsNames('a'.repeat(45), 'dev'), /Lambda function name .* over the limit of 64/);
    assert.doesNotThrow(() => tpsNames('a'.repeat(30), 'prod'));
  });
});

describe('function kinds', () => {
  it('map to the cargo binaries', () => {
    assert.deepEqual(Object.keys(FUNCTION_BINARIES).sort(), [...FUNCTION_KINDS].sort());
    assert.deepEqual(Object.values(FUNCTION_BINARIES).sort(), ['tps-amc', 'tps-dsp', 'tps-sponsored-ads', 'tps-status', 'tps-stream']);
  });

  it('name their substitution keys', () => {
    assert.equal(substitutionKey('Status'), 'StatusFunctionArn');
    assert.equal(substitutionKey('SponsoredAds'), 'SponsoredAdsFunctionArn');
  });
});
