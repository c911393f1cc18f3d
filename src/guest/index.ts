export {
  resolveGuest,
  resolveParsedGuest,
  type Guest,
  type ResolveGuestOptions,
  type ContainerInspector,
} from './resolve.js';
export {
  parseGuestRef,
  guestRefOf,
  validateContainerRef,
  type GuestRef,
  type GuestKind,
  type ParsedGuestRef,
} from './ref.js';
export {
  DockerClient,
  dockerSocketPath,
  DEFAULT_DOCKER_SOCKET,
  DOCKER_API_VERSION,
  type ContainerState,
  type DockerClientOptions,
} from './docker-api.js';
export { refuseHostNamespace, hostNamespaces } from './host-namespace.js';
