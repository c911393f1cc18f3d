/** Public API of the OVSDB client (RFC 7047) and the vswitch verbs built on it. */
export { JsonStreamSplitter, type JsonSplitterOptions } from './stream.js';
export {
  parseRpcMessage,
  encodeRequest,
  encodeResponse,
  describeRpcError,
  type Json,
  type RpcId,
  type RpcMessage,
  type RpcRequest,
  type RpcResponse,
  type RpcNotification,
} from './jsonrpc.js';
export * from './notation.js';
export * as ops from './ops.js';
export type { Operation, Condition, Mutation, Mutator, ConditionFunction } from './ops.js';
export {
  checkTransactResult,
  codeForFailure,
  describeFailure,
  type OpFailure,
  type OpResult,
  type ExplainFailure,
} from './transact.js';
export { parseRemote, resolveRemote, DEFAULT_REMOTE, type Remote } from './remote.js';
export {
  OvsdbConnection,
  type ConnectionOptions,
  type ConnectionEvents,
  type ReconnectOptions,
  type RequestOptions,
} from './connection.js';
export { parseSchema, verifyColumns, type DatabaseSchema, type ColumnRequirements, type ColumnKind } from './schema.js';
export { OvsdbCache, applyColumnDiff, type RowDecoders, type CacheEvents } from './cache.js';
export {
  OvsdbClient,
  type ClientOptions,
  type ClientEvents,
  type MonitorSpec,
  type MonitorMethod,
  type TransactOptions,
} from './client.js';
export * from './vswitch-model.js';
export {
  Vswitch,
  DEFAULT_APPLY_TIMEOUT_MS,
  type AddBridgeOptions,
  type AddPortOptions,
  type AddPortsResult,
  type AddedPort,
  type DelPortOptions,
  type PortSpec,
  type WaitOption,
  type Written,
} from './vswitch.js';
