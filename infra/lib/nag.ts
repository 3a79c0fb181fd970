// cdk-nag acknowledgments. Each one names a single rule finding and the
// reason it is accepted; listAcknowledgments() reads them back for review.

import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

export interface AcknowledgmentRecord {
  /** Construct path the acknowledgment is attached to; it covers that construct and its children. */
  readonly path: string;
  /** Rule id, with the finding in brackets for rules that report several, such as `AwsSolutions-IAM5[Resource::*]`. */
  readonly id: string;
  readonly reason: string;
}

/** Acknowledges one cdk-nag finding on `scope` and everything below it. */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** Lists every acknowledgment in the construct tree under `root`, in tree order. */
export function listAcknowledgments(root: IConstruct): AcknowledgmentRecord[] {
  const records: AcknowledgmentRecord[] = [];
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) {
        continue;
      }
      for (const [qualifiedId, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        // aws-cdk-lib stores ids without a known namespace as annotation ids.
        const id = qualifiedId.replace(/^annotation::/i, '');
        records.push({ path: construct.node.path, id, reason: String(reason) });
      }
    }
  }
  return records;
}

/** A class of cdk-nag finding ids and the reason that every finding of the class is accepted. */
export interface FindingClass {
  readonly pattern: RegExp;
  readonly reason: string;
}

/**
 * Runs the AWS Solutions checks on `scope` and acknowledges there each
 * finding whose id matches one of `classes`. It is for constructs whose
 * finding ids embed generated names, such as CDK Pipelines' roles. Findings
 * that match no class stay unacknowledged, so synthesis still fails on them.
 */
export function acknowledgeMatching(scope: IConstruct, classes: readonly FindingClass[]): void {
  const report = new AwsSolutionsChecks().validateScope(scope);
  for (const violation of report.violations) {
    const match = classes.find((c) => c.pattern.test(violation.ruleName));
    if (match) {
      acknowledge(scope, violation.ruleName, match.reason);
    }
  }
}
