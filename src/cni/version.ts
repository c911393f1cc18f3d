/**
 * The CNI spec versions netplumb-cni speaks, and the answer to VERSION. Results are given
 * in the configuration's version; 1.0.0 and 1.1.0 results have the same shape here.
 */
import { CniCode, CniError } from './errors.js';

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];

/** The newest: what VERSION and errors before a configuration is read say. */
export const LATEST_VERSION: CniVersion = '1.1.0';

/** A configuration's `cniVersion`; code 1 when it is not one netplumb speaks. */
export function cniVersion(v: unknown): CniVersion {
  const found = SUPPORTED_VERSIONS.find((s) => s === v);
  if (found === undefined)
    throw new CniError(
      CniCode.INCOMPATIBLE_VERSION,
      `cniVersion: ${JSON.stringify(v)} is not supported (supported: ${SUPPORTED_VERSIONS.join(', ')})`,
      'cniVersion',
    );
  return found;
}

/** STATUS and GC are of 1.1.0: a configuration of an earlier version is code 1. */
export function requireStatusAndGc(command: 'STATUS' | 'GC', v: CniVersion): void {
  if (v !== '1.1.0')
    throw new CniError(CniCode.INCOMPATIBLE_VERSION, `${command} is a CNI 1.1.0 command, not of ${v}`, 'cniVersion');
}

/** VERSION's answer. */
export function versionJson(): string {
  return `${JSON.stringify({ cniVersion: LATEST_VERSION, supportedVersions: SUPPORTED_VERSIONS })}\n`;
}
