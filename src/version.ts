/**
 * netplumb's version, read from package.json: the one place it is written (`npm version`
 * changes it there). Both the compiled modules (dist/src) and the one-file bundles
 * (dist/bundle, whose modules keep their own __dirname) find it two levels up.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ErrorCode, NetplumbError } from './errors.js';

function packageVersion(): string {
  const file = path.join(__dirname, '..', '..', 'package.json');
  const { version } = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
  if (typeof version !== 'string')
    throw new NetplumbError(ErrorCode.INTERNAL, `${file} has no version: reinstall netplumb`, { file });
  return version;
}

export const NETPLUMB_VERSION: string = packageVersion();
