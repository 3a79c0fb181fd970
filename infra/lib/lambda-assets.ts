// Location and sanity checks of the prebuilt Lambda bootstrap binaries.

import * as fs from 'node:fs';
import * as path from 'node:path';

import type { LambdaArchitectureName } from './config';
import { FUNCTION_BINARIES, type FunctionKind } from './naming';

/** Environment variable that replaces the asset root, for example with placeholder directories. */
export const LAMBDA_ASSET_DIR_ENV = 'TPS_LAMBDA_ASSET_DIR';

/** Directory of the `<bin>/bootstrap` files that `make lambdas` (`cargo lambda build --release`) writes. */
export const DEFAULT_LAMBDA_ASSET_DIR = path.resolve(__dirname, '..', '..', 'target', 'lambda');

/** ELF `e_machine` values (System V ABI) of the two Lambda architectures. */
const ELF_MACHINE: Readonly<Record<LambdaArchitectureName, number>> = { x86_64: 0x3e, arm64: 0xb7 };

/** Returns the asset root: `$TPS_LAMBDA_ASSET_DIR` when set, else `target/lambda` of the workspace. */
export function lambdaAssetRoot(env: NodeJS.ProcessEnv = process.env): string {
  const override = env[LAMBDA_ASSET_DIR_ENV];
  return override ? path.resolve(override) : DEFAULT_LAMBDA_ASSET_DIR;
}

/**
 * Returns the asset directory of one function after checking that it contains
 * a `bootstrap` file and, when that file is an ELF binary, that it was built
 * for `architecture`. Non-ELF files pass unchecked so that tests can run on
 * placeholder directories.
 */
export function lambdaAssetDir(root: string, kind: FunctionKind, architecture: LambdaArchitectureName): string {
  const dir = path.join(root, FUNCTION_BINARIES[kind]);
  const bootstrap = path.join(dir, 'bootstrap');
  if (!fs.existsSync(bootstrap)) {
    throw new Error(
      `Lambda asset ${bootstrap} is missing: run \`make lambdas\` at the repository root, ` +
        `or set ${LAMBDA_ASSET_DIR_ENV} to a directory that has ${FUNCTION_BINARIES[kind]}/bootstrap`,
    );
  }

  const machine = elfMachine(bootstrap);
  if (machine !== undefined && machine !== ELF_MACHINE[architecture]) {
    const built = Object.entries(ELF_MACHINE).find(([, value]) => value === machine)?.[0] ?? `ELF machine 0x${machine.toString(16)}`;
    throw new Error(
      `${bootstrap} is built for ${built} but ddk.json configures ${architecture}: ` +
        `rebuild with \`make lambdas LAMBDA_ARCH=${architecture}\` or change lambda_architecture`,
    );
  }
  return dir;
}

/** Reads `e_machine` of a little-endian ELF file, or returns undefined for any other file. */
function elfMachine(file: string): number | undefined {
  const header = Buffer.alloc(20);
  const fd = fs.openSync(file, 'r');
  try {
    const read = fs.readSync(fd, header, 0, header.length, 0);
    const isElf = read === header.length && header.readUInt32BE(0) === 0x7f454c46;
    const littleEndian = header[5] === 1;
    return isElf && littleEndian ? header.readUInt16LE(18) : undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Creates `<bin>/bootstrap` placeholder scripts under `root` for every
 * function, for synthesis and tests without the release build. The scripts
 * exit with an error if Lambda ever runs them.
 */
export function createPlaceholderAssets(root: string): string {
  for (const bin of Object.values(FUNCTION_BINARIES)) {
    fs.mkdirSync(path.join(root, bin), { recursive: true });
    fs.writeFileSync(path.join(root, bin, 'bootstrap'), `#!/bin/sh\necho "placeholder for ${bin}: deploy the build of make lambdas" >&2\nexit 1\n`, {
      mode: 0o755,
    });
  }
  return root;
}
