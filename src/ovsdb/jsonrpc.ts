/**
 * JSON-RPC 1.0 messages as OVSDB uses them (RFC 7047 §4): requests `{id, method, params}`,
 * responses `{id, result, error}` and notifications (a request whose `id` is null).
 * No `"jsonrpc"` member: ovsdb-server drops a connection that sends one.
 */
import { ErrorCode, NetplumbError } from '../errors.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type RpcId = number | string;

export interface RpcRequest {
  kind: 'request';
  id: RpcId;
  method: string;
  params: Json[];
}
export interface RpcNotification {
  kind: 'notification';
  method: string;
  params: Json[];
}
export interface RpcResponse {
  kind: 'response';
  id: RpcId;
  result: Json;
  /** null on success. */
  error: Json;
}
export type RpcMessage = RpcRequest | RpcNotification | RpcResponse;

function invalid(reason: string, message: unknown): NetplumbError {
  let excerpt: string;
  try {
    excerpt = JSON.stringify(message).slice(0, 120);
  } catch {
    excerpt = String(message).slice(0, 120);
  }
  return new NetplumbError(ErrorCode.PROTOCOL, `invalid JSON-RPC 1.0 message from OVSDB peer: ${reason}`, { excerpt });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isId(v: unknown): v is RpcId {
  return (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string';
}

/** Validate a decoded JSON value as a JSON-RPC 1.0 message. Throws PROTOCOL, never anything else. */
export function parseRpcMessage(v: unknown): RpcMessage {
  if (!isRecord(v)) throw invalid('not a JSON object', v);
  if ('jsonrpc' in v) throw invalid('unexpected member "jsonrpc"', v);
  if ('method' in v) {
    if (typeof v.method !== 'string') throw invalid('"method" is not a string', v);
    if (!Array.isArray(v.params)) throw invalid('"params" is not an array', v);
    const params = v.params as Json[];
    if (v.id === null || v.id === undefined) return { kind: 'notification', method: v.method, params };
    if (!isId(v.id)) throw invalid('"id" is neither a number nor a string', v);
    return { kind: 'request', id: v.id, method: v.method, params };
  }
  // ovsdb-server omits "result" from some error replies (seen: {"id":404,"error":{…"duplicate monitor ID"…}}):
  // a missing member counts as null.
  if (!('result' in v) && !('error' in v))
    throw invalid('neither a request nor a response (needs "result" or "error")', v);
  if (!isId(v.id)) throw invalid('response "id" is neither a number nor a string', v);
  const result = (v.result ?? null) as Json;
  const error = (v.error ?? null) as Json;
  if (error !== null && result !== null) throw invalid('response has both "result" and "error"', v);
  return { kind: 'response', id: v.id, result, error };
}

export function encodeRequest(id: RpcId | null, method: string, params: readonly Json[]): string {
  return JSON.stringify({ id, method, params });
}

export function encodeResponse(id: RpcId, result: Json, error: Json = null): string {
  return JSON.stringify({ id, result, error });
}

/** Human-readable text of a JSON-RPC error value (`{"error": "...", "details": "..."}` or a string). */
export function describeRpcError(error: Json): string {
  if (typeof error === 'string') return error;
  if (isRecord(error)) {
    const e = typeof error.error === 'string' ? error.error : JSON.stringify(error);
    return typeof error.details === 'string' ? `${e}: ${error.details}` : e;
  }
  return JSON.stringify(error);
}
