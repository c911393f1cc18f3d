/**
 * netplumb: network plumbing for containers.
 *
 * The library API. Layers: plumb → (rtnl | ovsdb | guest) → (netlink | native).
 */
export { NetplumbError, ErrorCode, EXIT_CODES } from './errors.js';
export {
  Plumber,
  type PlumberOptions,
  type AttachResult,
  type DetachRequest,
  type DetachResult,
  type Attachment,
} from './plumb/plumber.js';
export type { AttachSpec, AttachMode, IpConfig, MacvlanMode } from './plumb/spec.js';
export type { AttachmentRecord } from './plumb/record.js';
export type { DeclaredAttachment, DeclaredState } from './plumb/declared.js';
export { Netns, openNetns, hostNetnsIdentity, type NetnsSelector } from './netns/index.js';
export { openRouteTransport } from './netlink/native-transport.js';
export { Rtnl, type Link, type Address, type Route, type Rule } from './rtnl/index.js';
export { Vswitch, OvsdbClient } from './ovsdb/index.js';
export { resolveGuest, type Guest } from './guest/resolve.js';
export { openEngine, type OpenEngineOptions } from './engine/open.js';
export type { Engine, ListFilter } from './engine/engine.js';
export { DaemonClient, type DaemonClientOptions } from './daemon/client.js';
export { startDaemon, type Daemon, type DaemonOptions } from './daemon/server.js';
export type { DaemonIdentity } from './daemon/protocol.js';
