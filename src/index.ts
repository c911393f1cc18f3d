/**
 * netplumb: network plumbing for containers.
 *
 * The library API. Layers: plumb → (rtnl | ovsdb | guest) → (netlink | native).
 */
export { NetplumbError, ErrorCode, EXIT_CODES } from './errors.js';
export { Netns, openNetns, hostNetnsIdentity, type NetnsSelector } from './netns/index.js';
export { openRouteTransport } from './netlink/native-transport.js';
