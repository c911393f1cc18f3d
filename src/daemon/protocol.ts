/**
 * The daemon's wire protocol, shared by the server and the client.
 *
 * Framing: newline-delimited JSON. Each message is one JSON-RPC 2.0 object serialised on a
 * single line (JSON.stringify never emits a raw newline; newlines inside strings are
 * escaped) and terminated by `\n` (0x0A). A connection carries any number of requests;
 * responses come back in completion order, matched by `id`. Batches (a JSON array) and
 * notifications (no `id`) are not served: a batch is answered with an Invalid Request
 * error, a notification is ignored (every method has a result worth waiting for).
 *
 * Limits (server side): a message longer than `maxRequestBytes` (1 MiB by default) is
 * answered with an error (id null) and the connection is closed, since the framing can no
 * longer be trusted; a message nested deeper than MAX_DEPTH arrays/objects is answered
 * with an error before it is parsed and the connection stays usable.
 *
 * Methods, their params (by name, an object) and results: methods.ts.
 *
 * Hang-up notice: before the daemon closes a connection of its own accord (the client was
 * idle for the idle timeout, or the daemon is shutting down) it sends the notification
 * `{"jsonrpc":"2.0","method":"closing","params":{"reason":"idle"|"shutdown"}}`, after the
 * answer of every request it has read. Whatever the client sent that has no answer by then
 * was not read and was not run: the client may send it again on a new connection.
 *
 * Errors: every error object's `data` is `NetplumbError.toJSON()` ({ code, message,
 * field?, errno?, … }), from which the client rebuilds the same NetplumbError. Its numeric
 * `code` is fixed per taxonomy code: -(32000 + the CLI exit code), all in JSON-RPC's
 * "server error" range -32000..-32099 (see ERROR_CODE_TABLE). Faults of the JSON-RPC
 * layer itself keep the standard codes (-32700 parse error, -32600 invalid request,
 * -32601 method not found) and carry a NetplumbError in `data` too (PROTOCOL for a message
 * that is not JSON or not a request, INVALID_ARGUMENT for an oversized or too deep one,
 * UNSUPPORTED for a batch or an unknown method). Params of the wrong shape are an
 * INVALID_ARGUMENT from the taxonomy (-32002), like a bad value, so that the daemon and
 * the library report them alike.
 */
import { ErrorCode, EXIT_CODES, NetplumbError, type ErrorDetails } from '../errors.js';

/** Where the daemon listens unless told otherwise (systemd's RuntimeDirectory=netplumb). */
export const DEFAULT_SOCKET_PATH = '/run/netplumb/netplumb.sock';

/** The daemon's socket for clients: $NETPLUMB_SOCKET, else DEFAULT_SOCKET_PATH. */
export function defaultDaemonSocket(env: NodeJS.ProcessEnv = process.env): string {
  const path = env.NETPLUMB_SOCKET;
  return path !== undefined && path !== '' ? path : DEFAULT_SOCKET_PATH;
}
export const PROTOCOL_VERSION = 1;
/** package.json's version (the CLI prints the same). */
export { NETPLUMB_VERSION } from '../version.js';

/**
 * Who answers on the socket, and what it acts on: a client uses the daemon only when its
 * OVSDB remote and container-engine socket are the ones the client would use itself.
 */
export interface DaemonIdentity {
  name: 'netplumb';
  version: string;
  protocol: number;
  pid: number;
  /** The OVSDB remote the daemon's engine talks to (`unix:/run/openvswitch/db.sock`). */
  ovsdb: string;
  /** The container engine's API socket the daemon resolves containers with. */
  dockerSocket: string;
  /** The OVN northbound database its OVN network attachments use (absent: a daemon of an older version). */
  ovnNb?: string;
  /** The state directory its declared attachments are kept in (absent: a daemon of an older version). */
  stateDir?: string;
}

export const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;
/** Deepest array/object nesting accepted in a request (an AttachSpec needs 3). */
export const MAX_DEPTH = 32;

/** The notification announcing the daemon's hang-up (see the header). */
export const CLOSING_NOTICE = 'closing';
export type ClosingReason = 'idle' | 'shutdown';

/** The `closing` notification line. */
export function closingLine(reason: ClosingReason): string {
  return `${JSON.stringify({ jsonrpc: '2.0', method: CLOSING_NOTICE, params: { reason } })}\n`;
}

/** Standard JSON-RPC 2.0 error codes. */
export const RPC_PARSE_ERROR = -32700;
export const RPC_INVALID_REQUEST = -32600;
export const RPC_METHOD_NOT_FOUND = -32601;

/** The fixed JSON-RPC error code of each taxonomy code: -(32000 + exit code). */
export const ERROR_CODE_TABLE: Readonly<Record<ErrorCode, number>> = Object.fromEntries(
  (Object.keys(EXIT_CODES) as ErrorCode[]).map((c) => [c, -(32000 + EXIT_CODES[c])]),
) as Record<ErrorCode, number>;

export function rpcCodeFor(code: ErrorCode): number {
  return ERROR_CODE_TABLE[code];
}

function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && Object.hasOwn(ErrorCode, v);
}

/**
 * Rebuild the NetplumbError a JSON-RPC error object carries in `data`; an error without
 * usable data (another server, a corrupted reply) becomes PROTOCOL.
 */
export function errorFromRpc(err: { code?: unknown; message?: unknown; data?: unknown }): NetplumbError {
  const data = err.data;
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
    const { code, message, ...details } = data as Record<string, unknown>;
    if (isErrorCode(code) && typeof message === 'string')
      return new NetplumbError(code, message, details as ErrorDetails);
  }
  const text = typeof err.message === 'string' ? err.message : 'unknown error';
  return new NetplumbError(
    ErrorCode.PROTOCOL,
    `the netplumb daemon answered with an error netplumb does not know: ${text} (${typeof err.code === 'number' || typeof err.code === 'string' ? err.code : typeof err.code})`,
  );
}

/**
 * Deepest nesting of arrays/objects in a JSON text, without parsing it: brackets inside
 * strings (and escaped quotes) are skipped. Stops counting once `limit` is exceeded.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
