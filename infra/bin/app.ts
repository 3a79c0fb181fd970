#!/usr/bin/env node
// Entry point of `cdk synth` and `cdk deploy` (see cdk.json).

import { buildApp } from '../lib/app';
import { loadConfig } from '../lib/config';
import { lambdaAssetRoot } from '../lib/lambda-assets';

buildApp({ config: loadConfig(), lambdaAssetRoot: lambdaAssetRoot() });
