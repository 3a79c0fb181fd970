// The operations dashboard shows every metric the functions emit and every alarm.

import * as assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { Template } from 'aws-cdk-lib/assertions';

import { METRICS_NAMESPACE, MODULES } from '../lib/stack/dashboard';
import { buildTestApp, resourcesOfType } from './support';

/** Metric names the functions write in EMF; see crates/tps-functions/src/metrics.rs. */
const EMF_METRICS = ['TenantsOnboarded', 'ValidationFailures', 'ModulesProvisioned', 'ModulesFailed', 'ProvisioningDuration'];

describe('operations dashboard', () => {
  let template: Template;
  let body: string;

  before(() => {
    const { stacks } = buildTestApp();
    template = Template.fromStack(stacks[0]);
    const dashboards = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'));
    assert.equal(dashboards.length, 1);
    assert.equal(dashboards[0].Properties!.DashboardName, 'tps-demoteam-dev');
    body = JSON.stringify(dashboards[0].Properties!.DashboardBody);
  });

  it('graphs every EMF metric with the stack dimensions', () => {
    for (const metric of EMF_METRICS) {
      assert.ok(body.includes(`\\"${METRICS_NAMESPACE}\\",\\"${metric}\\"`), `${metric} is not on the dashboard`);
    }
    assert.ok(body.includes('\\"Team\\",\\"demoteam\\"'), 'Team dimension');
    assert.ok(body.includes('\\"Environment\\",\\"dev\\"'), 'Environment dimension');
    for (const module of MODULES) {
      assert.ok(body.includes(`\\"Module\\",\\"${module}\\"`), `${module} dimension`);
    }
  });

  it('shows every alarm', () => {
    const alarmIds = Object.keys(resourcesOfType(template, 'AWS::CloudWatch::Alarm'));
    assert.equal(alarmIds.length, 4);
    for (const id of alarmIds) {
      assert.ok(body.includes(`"${id}"`), `alarm ${id} is not on the dashboard`);
    }
  });
});
