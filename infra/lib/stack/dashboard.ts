// The operations dashboard: the functions' EMF metrics (namespace TPS,
// written by crates/tps-functions/src/metrics.rs) next to the alarms.

import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

import type { TpsNames } from '../naming';

/** Namespace and dimension names of the functions' metrics. */
export const METRICS_NAMESPACE = 'TPS';
export const MODULES = ['AMC', 'SponsoredAds', 'DSP'] as const;

const PERIOD = Duration.minutes(5);

export interface DashboardProps {
  readonly names: TpsNames;
  readonly alarms: cloudwatch.IAlarm[];
  readonly stateMachine: sfn.IStateMachine;
}

export class OperationsDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const { names } = props;
    const stackDimensions = { Team: names.team, Environment: names.env };
    const metric = (metricName: string, statistic: string, dimensions: Record<string, string> = {}) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        statistic,
        period: PERIOD,
        dimensionsMap: { ...stackDimensions, ...dimensions },
        label: dimensions.Module ? `${metricName} ${dimensions.Module}` : metricName,
      });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `tps-${names.team}-${names.env}`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: props.alarms, width: 24, height: 3 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Tenants onboarded and rows rejected',
        left: [metric('TenantsOnboarded', 'Sum'), metric('ValidationFailures', 'Sum')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Modules provisioned and failed',
        left: MODULES.map((module) => metric('ModulesProvisioned', 'Sum', { Module: module })),
        right: MODULES.map((module) => metric('ModulesFailed', 'Sum', { Module: module })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Provisioning duration p95 (ms)',
        left: MODULES.map((module) => metric('ProvisioningDuration', 'p95', { Module: module })),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `Executions of ${names.stateMachine}`,
        left: [
          props.stateMachine.metricStarted({ period: PERIOD, statistic: 'Sum' }),
          props.stateMachine.metricSucceeded({ period: PERIOD, statistic: 'Sum' }),
          props.stateMachine.metricFailed({ period: PERIOD, statistic: 'Sum' }),
        ],
        width: 24,
      }),
    );
  }
}
