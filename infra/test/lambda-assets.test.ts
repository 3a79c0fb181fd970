import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { DEFAULT_LAMBDA_ASSET_DIR, LAMBDA_ASSET_DIR_ENV, lambdaAssetDir, lambdaAssetRoot } from '../lib/lambda-assets';
import { REPO_DIR, placeholderAssets } from './support';

/** Writes a 64-bit little-endian ELF header for `machine` (62 is x86-64, 183 is AArch64). */
function fakeElf(file: string, machine: number): void {
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2; // 64-bit
  header[5] = 1; // little-endian
  header.writeUInt16LE(machine, 18);
  fs.writeFileSync(file, header, { mode: 0o755 });
}

describe('lambda assets', () => {
  it('default to target/lambda and follow the override', () => {
    assert.equal(DEFAULT_LAMBDA_ASSET_DIR, path.join(REPO_DIR, 'target', 'lambda'));
    assert.equal(lambdaAssetRoot({}), DEFAULT_LAMBDA_ASSET_DIR);
    assert.equal(lambdaAssetRoot({ [LAMBDA_ASSET_DIR_ENV]: '/tmp/assets' }), '/tmp/assets');
  });

  it('accept placeholder directories', () => {
    const root = placeholderAssets();
    assert.equal(lambdaAssetDir(root, 'SponsoredAds', 'x86_64'), path.join(root, 'tps-sponsored-ads'));
  });

  it('name the missing bootstrap and the fix', () => {
    const root = placeholderAssets();
    fs.rmSync(path.join(root, 'tps-dsp', 'bootstrap'));
    assert.throws(
      () => lambdaAssetDir(root, 'Dsp', 'x86_64'),
      /tps-dsp\/bootstrap is missing: run `make lambdas` .* or set TPS_LAMBDA_ASSET_DIR/,
    );
  });

  it('check the ELF architecture', () => {
    const root = placeholderAssets();
    fakeElf(path.join(root, 'tps-amc', 'bootstrap'), 183);
    assert.equal(lambdaAssetDir(root, 'Amc', 'arm64'), path.join(root, 'tps-amc'));
    assert.throws(() => lambdaAssetDir(root, 'Amc', 'x86_64'), /built for arm64 but ddk.json configures x86_64/);

    fakeElf(path.join(root, 'tps-stream', 'bootstrap'), 62);
    assert.equal(lambdaAssetDir(root, 'Stream', 'x86_64'), path.join(root, 'tps-stream'));
    assert.throws(() => lambdaAssetDir(root, 'Stream', 'arm64'), /built for x86_64 but ddk.json configures arm64/);
  });
});
