/**
 * CNI errors (CNI spec, "Error"): what a plugin prints on stdout when it fails, with a
 * code the runtime acts on — 1 incompatible version, 4 a missing or invalid CNI_*
 * variable, 7 an invalid network configuration (the message names the field), 11 try again
 * later, 50/51 the plugin is not available (STATUS); netplumb's own failures are
 * 100 + the exit code netplumb gives them (108: the interface already exists…).
 */
import { ErrorCode, EXIT_CODES, NetplumbError } from '../errors.js';

export const CniCode = {
  INCOMPATIBLE_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  UNKNOWN_CONTAINER: 3,
  INVALID_ENV: 4,
  IO_FAILURE: 5,
  DECODE_FAILURE: 6,
  INVALID_CONFIG: 7,
  TRY_AGAIN_LATER: 11,
  NOT_AVAILABLE: 50,
  LIMITED_CONNECTIVITY: 51,
} as const;

/** netplumb's own failures: 100 + netplumb's exit code for them. */
export const NETPLUMB_CODE_BASE = 100;

export class CniError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details?: string,
  ) {
    super(message);
    this.name = 'CniError';
  }
}

/** A configuration field that is wrong: code 7, the field named first. */
export function invalidConfig(field: string, why: string): CniError {
  return new CniError(CniCode.INVALID_CONFIG, `${field}: ${why}`, field);
}

/** A CNI_* variable missing or wrong: code 4, the variable named first. */
export function invalidEnv(variable: string, why: string): CniError {
  return new CniError(CniCode.INVALID_ENV, `${variable}: ${why}`, variable);
}

/** Any failure as the CNI error a runtime is given. */
export function cniErrorOf(e: unknown): CniError {
  if (e instanceof CniError) return e;
  if (!(e instanceof NetplumbError))
    return new CniError(NETPLUMB_CODE_BASE + EXIT_CODES.INTERNAL, e instanceof Error ? e.message : String(e));
  const field = typeof e.details.field === 'string' ? e.details.field : undefined;
  switch (e.code) {
    case ErrorCode.INVALID_ARGUMENT:
      return new CniError(CniCode.INVALID_CONFIG, e.message, field);
    case ErrorCode.NAMESPACE_GONE:
      return new CniError(CniCode.UNKNOWN_CONTAINER, e.message, 'CNI_NETNS');
    case ErrorCode.UNAVAILABLE:
    case ErrorCode.OUTCOME_UNKNOWN:
      return new CniError(CniCode.TRY_AGAIN_LATER, e.message, field);
    default:
      return new CniError(NETPLUMB_CODE_BASE + e.exitCode, e.message, field ?? e.code);
  }
}

/** The error as the spec prints it: `{ cniVersion, code, msg, details }`. */
export function errorJson(cniVersion: string, e: CniError): string {
  return `${JSON.stringify({ cniVersion, code: e.code, msg: e.message, ...(e.details !== undefined ? { details: e.details } : {}) })}\n`;
}
