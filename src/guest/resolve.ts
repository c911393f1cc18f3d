/**
 * Resolve a guest reference to an open, verified network namespace.
 *
 * Which words mean what (precedence) is documented in ./ref.ts: explicit `netns:NAME`,
 * `pid:N` and absolute paths first, anything else is a container name, full ID or
 * unique ID prefix looked up through the Docker Engine API (DOCKER_HOST).
 *
 * A container is resolved in three steps, so that a PID reused between the lookup and
 * the open cannot redirect us into someone else's namespace:
 *   1. inspect: the container's PID (retried while it is starting);
 *   2. open /proc/PID/ns/net through a /proc/PID directory fd (start time recorded);
 *   3. inspect again: same container, same PID, same start, still running; otherwise
 *      the fd is closed and NAMESPACE_GONE / IDENTITY_MISMATCH is thrown.
 * Whatever the reference, the caller's own namespace and init's are refused
 * (HOST_NAMESPACE_REFUSED) unless `allowHostNetns` is set; all of this happens before
 * anything is changed. The returned Guest holds the namespace fd: call release().
 */
import { ErrorCode, NetplumbError } from '../errors.js';
import { openNetns, type Netns, type NetnsIdentity } from '../netns/index.js';
import { DockerClient, type ContainerState, type DockerClientOptions } from './docker-api.js';
import { refuseHostNamespace } from './host-namespace.js';
import { parseGuestRef, type GuestKind, type GuestRef, type ParsedGuestRef } from './ref.js';

export interface Guest {
  readonly kind: GuestKind;
  /** The reference as given, for messages (`container "con1"`, `netns:blue`, `pid:42`). */
  readonly ref: string;
  readonly containerId?: string;
  readonly containerName?: string;
  /** The process the namespace was opened through (containers and pid:N). */
  readonly pid?: number;
  /** Held open until release(): the namespace stays alive even if the guest exits. */
  readonly netns: Netns;
  readonly identity: NetnsIdentity;
  /** Close the namespace fd. Idempotent. */
  release(): void;
}

/** The part of the engine client the resolver needs (tests substitute their own). */
export type ContainerInspector = Pick<DockerClient, 'inspect' | 'inspectContainer'>;

export interface ResolveGuestOptions {
  /** Let the guest be the host's own namespace (B7 override). Default false. */
  allowHostNetns?: boolean;
  /** Engine client for container references; default: a DockerClient built from dockerOptions. */
  docker?: ContainerInspector;
  dockerOptions?: DockerClientOptions;
  /**
   * The container as the caller inspected it a moment ago (running, with its pid): not asked
   * for again. The namespace opened is still confirmed to be that run's.
   */
  inspected?: ContainerState;
}

export async function resolveGuest(ref: GuestRef, opts: ResolveGuestOptions = {}): Promise<Guest> {
  return resolveParsedGuest(parseGuestRef(ref), opts);
}

/** `resolveGuest` for a reference already parsed (an attach plan's). */
export async function resolveParsedGuest(parsed: ParsedGuestRef, opts: ResolveGuestOptions = {}): Promise<Guest> {
  const allowHost = opts.allowHostNetns === true;
  if (parsed.kind === 'container') {
    const docker = opts.docker ?? new DockerClient(opts.dockerOptions);
    return resolveContainer(docker, parsed.container, parsed.label, allowHost, opts.inspected);
  }
  const netns = openNetns(parsed.selector);
  const pid = 'pid' in parsed.selector ? parsed.selector.pid : undefined;
  await closeOnFailure(netns, async () => {
    if (!allowHost) refuseHostNamespace(netns, parsed.label);
  });
  return guestOf(netns, { kind: parsed.kind, ref: parsed.label, pid });
}

async function resolveContainer(
  docker: ContainerInspector,
  ref: string,
  label: string,
  allowHost: boolean,
  inspected: ContainerState | undefined,
): Promise<Guest> {
  const container = inspected?.running && inspected.pid > 0 ? inspected : await docker.inspectContainer(ref);
  const netns = openContainerNetns(container, label);
  await closeOnFailure(netns, async () => {
    await confirmSameProcess(docker, container, label);
    if (!allowHost) refuseHostNamespace(netns, label);
  });
  return guestOf(netns, {
    kind: 'container',
    ref: label,
    containerId: container.id,
    containerName: container.name,
    pid: container.pid,
  });
}

function openContainerNetns(container: ContainerState, label: string): Netns {
  try {
    return openNetns({ pid: container.pid });
  } catch (e) {
    if (e instanceof NetplumbError && e.code === ErrorCode.NAMESPACE_GONE) {
      throw new NetplumbError(
        ErrorCode.NAMESPACE_GONE,
        `${label} (pid ${container.pid}) exited before its network namespace could be opened; nothing was changed`,
        { ...e.details, containerId: container.id },
        { cause: e },
      );
    }
    throw e;
  }
}

/** Step 3: the namespace we hold is the one of the container we inspected. */
async function confirmSameProcess(docker: ContainerInspector, before: ContainerState, label: string): Promise<void> {
  const details = { field: 'container', containerId: before.id, pid: before.pid };
  let now: ContainerState;
  try {
    now = await docker.inspect(before.id);
  } catch (e) {
    if (e instanceof NetplumbError && e.code === ErrorCode.NOT_FOUND) {
      throw new NetplumbError(
        ErrorCode.NAMESPACE_GONE,
        `${label} was removed while its network namespace was being opened; nothing was changed`,
        details,
        { cause: e },
      );
    }
    throw e;
  }
  if (!now.running || now.pid === 0) {
    throw new NetplumbError(
      ErrorCode.NAMESPACE_GONE,
      `${label} stopped while its network namespace was being opened (status: ${now.status || 'unknown'}); nothing was changed`,
      details,
    );
  }
  if (now.id !== before.id || now.pid !== before.pid || now.startedAt !== before.startedAt) {
    throw new NetplumbError(
      ErrorCode.IDENTITY_MISMATCH,
      `${label} changed while its network namespace was being opened (pid ${before.pid} started ${before.startedAt}, now pid ${now.pid} started ${now.startedAt}): the namespace opened may not be the container's; nothing was changed, retry`,
      details,
    );
  }
}

async function closeOnFailure(netns: Netns, check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (e) {
    netns.close();
    throw e;
  }
}

function guestOf(netns: Netns, fields: Omit<Guest, 'netns' | 'identity' | 'release'>): Guest {
  return {
    ...dropUndefined(fields),
    netns,
    identity: { dev: netns.dev, ino: netns.ino },
    release: () => netns.close(),
  };
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
