/**
 * The daemon's JSON-RPC layer: one received line into a request, or into the error answer
 * it gets instead (too deep, not JSON, a batch, not a request); results and errors into
 * answer lines. Pure: no I/O. The framing and the error codes are in protocol.ts.
 */
import { JsonRpcError, error as rpcError, parseObject, success as rpcSuccess, type ID } from 'jsonrpc-lite';
import { ErrorCode, NetplumbError } from '../errors.js';
import { MAX_DEPTH, RPC_INVALID_REQUEST, RPC_PARSE_ERROR, jsonDepthExceeds, rpcCodeFor } from './protocol.js';

export interface RpcRequest {
  id: ID;
  method: string;
  params: unknown;
}

/** What a line asks for: a request to run, an answer to send at once, or nothing (a notification). */
export type ReceivedLine = { request: RpcRequest } | { answer: string } | { notification: true };

/** A JSON-RPC error answer carrying the NetplumbError as data. */
export function errorLine(id: ID, err: NetplumbError, rpcCode = rpcCodeFor(err.code)): string {
  return `${JSON.stringify(rpcError(id, new JsonRpcError(err.message, rpcCode, err.toJSON())))}\n`;
}

export function successLine(id: ID, result: unknown): string {
  return `${JSON.stringify(rpcSuccess(id, (result ?? null) as object | null))}\n`;
}

/** Anything thrown below a request, as the NetplumbError its answer carries. */
export function asNetplumbError(e: unknown): NetplumbError {
  if (e instanceof NetplumbError) return e;
  return new NetplumbError(
    ErrorCode.INTERNAL,
    `internal error in the daemon: ${e instanceof Error ? e.message : String(e)}`,
  );
}

export function receiveLine(line: string): ReceivedLine {
  if (jsonDepthExceeds(line, MAX_DEPTH)) {
    const err = new NetplumbError(ErrorCode.INVALID_ARGUMENT, `request nested deeper than ${MAX_DEPTH} levels`, {
      field: 'request',
      limit: MAX_DEPTH,
    });
    return { answer: errorLine(null, err, RPC_INVALID_REQUEST) };
  }
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    const err = new NetplumbError(ErrorCode.PROTOCOL, 'request is not valid JSON (one JSON-RPC 2.0 object per line)');
    return { answer: errorLine(null, err, RPC_PARSE_ERROR) };
  }
  if (Array.isArray(obj)) {
    const err = new NetplumbError(ErrorCode.UNSUPPORTED, 'JSON-RPC batches are not served; send one request per line');
    return { answer: errorLine(null, err, RPC_INVALID_REQUEST) };
  }
  const parsed = parseObject(obj);
  const type: string = parsed.type;
  if (type === 'notification') return { notification: true };
  if (type !== 'request') {
    const rawId = (obj as { id?: unknown } | null)?.id;
    const id = typeof rawId === 'string' || (typeof rawId === 'number' && Number.isSafeInteger(rawId)) ? rawId : null;
    const err = new NetplumbError(
      ErrorCode.PROTOCOL,
      'not a JSON-RPC 2.0 request ({"jsonrpc":"2.0","id":…,"method":…,"params":…})',
    );
    return { answer: errorLine(id, err, RPC_INVALID_REQUEST) };
  }
  const { id, method, params } = parsed.payload as { id: ID; method: string; params?: unknown };
  return { request: { id, method, params } };
}
