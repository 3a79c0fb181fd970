// Creates placeholder Lambda assets and prints their directory, for working
// on the CDK app without the release build:
//
//   TPS_LAMBDA_ASSET_DIR=$(npx tsx scripts/placeholder-assets.ts) npm test
//
// Never deploy a stack synthesized from placeholders: its functions fail on every invocation.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { createPlaceholderAssets } from '../lib/lambda-assets';

const root = process.argv[2] ? path.resolve(process.argv[2]) : fs.mkdtempSync(path.join(os.tmpdir(), 'tps-assets-'));
console.log(createPlaceholderAssets(root));
