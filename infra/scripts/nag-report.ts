// Prints every cdk-nag acknowledgment of the app as a Markdown table, for
// security review: `npm run nag-report`.

import { buildApp, cdkJsonContext } from '../lib/app';
import { loadConfig } from '../lib/config';
import { lambdaAssetRoot } from '../lib/lambda-assets';
import { listAcknowledgments } from '../lib/nag';

const { app } = buildApp({
  config: loadConfig(),
  lambdaAssetRoot: lambdaAssetRoot(),
  appProps: { context: cdkJsonContext() },
});

const rows = new Map<string, string[]>();
for (const record of listAcknowledgments(app)) {
  const key = `${record.id}\u0000${record.reason}`;
  rows.set(key, [...(rows.get(key) ?? []), record.path]);
}

console.log('| rule and finding | reason | acknowledged at |');
console.log('| --- | --- | --- |');
for (const [key, paths] of rows) {
  const [id, reason] = key.split('\u0000');
  console.log(`| \`${id}\` | ${reason} | ${paths.map((p) => `\`${p}\``).join(', ')} |`);
}
