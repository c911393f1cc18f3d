/**
 * A minimal Docker Engine API client: `GET /v1.41/containers/<ref>/json` over a unix
 * socket, nothing else. Works against dockerd and against podman's compatible service
 * (`podman system service --time=0 unix:///run/podman/podman.sock`).
 *
 * The socket comes from `DOCKER_HOST` (`unix:///path`; default /var/run/docker.sock),
 * as for the docker CLI. `node:http` is loaded on the first request only, so a CLI run
 * that never looks up a container does not pay for it.
 */
import type * as Http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, NetplumbError, describeErrno, invalidArgument } from '../errors.js';
import { validateContainerRef } from './ref.js';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
export const DOCKER_API_VERSION = 'v1.41';
export const DEFAULT_DOCKER_TIMEOUT_MS = 10_000;
/** pipework retried a container without a PID three times, a second apart. */
export const DEFAULT_NOT_RUNNING_RETRIES = 3;
export const DEFAULT_RETRY_DELAY_MS = 1000;
/** An inspect document is a few KB; anything this large is not one. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** sun_path is 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;
/** An ambiguous ID prefix: "multiple IDs found with provided prefix" (dockerd), "more than one result" (podman, 404). */
const AMBIGUOUS = /multiple IDs|more than one result|ambiguous/i;

/** What netplumb needs to know about a container. */
export interface ContainerState {
  /** Full 64-hex ID. */
  id: string;
  /** Name without Docker's leading "/". */
  name: string;
  /** PID of the container's init process as seen from the host; 0 when not running. */
  pid: number;
  running: boolean;
  /** The engine's status word (`running`, `exited`, `created`…). */
  status: string;
  /** RFC 3339 start time of the current run; changes on every restart. */
  startedAt: string;
}

export interface DockerClientOptions {
  /** `unix:///path`. Default: $DOCKER_HOST, else unix:///var/run/docker.sock. */
  host?: string;
  /** Deadline of one request, connect to last byte. */
  timeoutMs?: number;
  /** How many more times to ask while a container has no PID (it may be starting). */
  notRunningRetries?: number;
  retryDelayMs?: number;
}

/** The socket path `DOCKER_HOST` names; only unix sockets are supported. */
export function dockerSocketPath(host: string | undefined = process.env.DOCKER_HOST): string {
  if (host === undefined || host === '') return DEFAULT_DOCKER_SOCKET;
  if (!host.startsWith('unix://')) {
    throw new NetplumbError(
      ErrorCode.UNSUPPORTED,
      `DOCKER_HOST "${host}" is not supported: netplumb talks to the container engine over a local unix socket only; set DOCKER_HOST=unix:///path/to/docker.sock`,
      { field: 'dockerHost' },
    );
  }
  const path = host.slice('unix://'.length);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to refuse control characters in DOCKER_HOST
  if (!path.startsWith('/') || /[\u0000-\u001f]/.test(path))
    throw invalidArgument(
      'dockerHost',
      `"${JSON.stringify(host).slice(1, -1)}" does not name an absolute socket path (unix:///path)`,
    );
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES)
    throw invalidArgument('dockerHost', `socket path ${path} is longer than ${MAX_SOCKET_PATH_BYTES} bytes`);
  return path;
}

export class DockerClient {
  readonly socketPath: string;
  readonly #timeoutMs: number;
  readonly #notRunningRetries: number;
  readonly #retryDelayMs: number;

  constructor(opts: DockerClientOptions = {}) {
    this.socketPath = dockerSocketPath(opts.host);
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_DOCKER_TIMEOUT_MS;
    this.#notRunningRetries = opts.notRunningRetries ?? DEFAULT_NOT_RUNNING_RETRIES;
    this.#retryDelayMs = opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  }

  /**
   * A running container by name, full ID or unique ID prefix. While it has no PID yet,
   * ask again a few times; then NAMESPACE_GONE ("container X is not running").
   * Equivalent to: docker inspect --format '{{.State.Pid}}' REF
   */
  async inspectContainer(ref: string): Promise<ContainerState> {
    for (let attempt = 0; ; attempt++) {
      const state = await this.inspect(ref);
      if (state.running && state.pid > 0) return state;
      if (attempt >= this.#notRunningRetries) {
        throw new NetplumbError(
          ErrorCode.NAMESPACE_GONE,
          `container "${ref}" is not running (status: ${state.status || 'unknown'}); start it first (docker start ${state.name || ref})`,
          {
            field: 'container',
            containerId: state.id,
            status: state.status,
          },
        );
      }
      await sleep(this.#retryDelayMs);
    }
  }

  /** One `GET /containers/<ref>/json`, whatever the container's state. */
  async inspect(ref: string): Promise<ContainerState> {
    validateContainerRef(ref);
    const { status, body } = await this.#get(`/${DOCKER_API_VERSION}/containers/${encodeURIComponent(ref)}/json`);
    if (status === 200) return containerStateFrom(body, ref, this.socketPath);
    throw this.#apiError(status, body, `container "${ref}"`);
  }

  #apiError(status: number, body: unknown, what: string): NetplumbError {
    const message = apiMessage(body) ?? `HTTP ${status}`;
    const details = { field: 'container', httpStatus: status, socketPath: this.socketPath };
    if (AMBIGUOUS.test(message)) {
      return new NetplumbError(
        ErrorCode.NOT_FOUND,
        `${what} is ambiguous, the engine at ${this.socketPath} says: ${message}; give more of the ID, or the name`,
        details,
      );
    }
    if (status === 404)
      return new NetplumbError(
        ErrorCode.NOT_FOUND,
        `${what} not found by the engine at ${this.socketPath}: ${message}`,
        details,
      );
    if (status >= 500)
      return new NetplumbError(
        ErrorCode.UNAVAILABLE,
        `the engine at ${this.socketPath} failed to inspect ${what}: ${message}; retry, or check the engine's log`,
        details,
      );
    return new NetplumbError(
      ErrorCode.PROTOCOL,
      `the engine at ${this.socketPath} refused to inspect ${what}: HTTP ${status}: ${message}`,
      details,
    );
  }

  /** GET a JSON document; every failure becomes a NetplumbError naming the socket. */
  async #get(path: string): Promise<{ status: number; body: unknown }> {
    const http = await loadHttp();
    const socketPath = this.socketPath;
    const timeoutMs = this.#timeoutMs;
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err: NetplumbError | null, value?: { status: number; body: unknown }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          req.destroy();
          reject(err);
        } else if (value) resolve(value);
      };
      const req = http.request(
        { socketPath, path, method: 'GET', agent: false, headers: { Host: 'docker', Accept: 'application/json' } },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES)
              finish(
                new NetplumbError(
                  ErrorCode.PROTOCOL,
                  `the engine at ${socketPath} answered GET ${path} with more than ${MAX_RESPONSE_BYTES} bytes`,
                  { socketPath },
                ),
              );
            else chunks.push(chunk);
          });
          res.on('error', (e: NodeJS.ErrnoException) => finish(connectionError(e, socketPath)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              finish(null, { status: res.statusCode ?? 0, body: text === '' ? null : (JSON.parse(text) as unknown) });
            } catch {
              finish(
                new NetplumbError(
                  ErrorCode.PROTOCOL,
                  `the engine at ${socketPath} answered GET ${path} (HTTP ${res.statusCode ?? 0}) with something that is not JSON: ${JSON.stringify(text.slice(0, 120))}`,
                  { socketPath },
                ),
              );
            }
          });
        },
      );
      const timer = setTimeout(() => {
        finish(
          new NetplumbError(
            ErrorCode.UNAVAILABLE,
            `the container engine at ${socketPath} did not answer GET ${path} within ${timeoutMs} ms; check that it is healthy, or raise the timeout`,
            { socketPath, timeoutMs },
          ),
        );
      }, timeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) => finish(connectionError(e, socketPath)));
      req.end();
    });
  }
}

let httpModule: typeof Http | undefined;

export async function loadHttp(): Promise<typeof Http> {
  httpModule ??= require('node:http') as typeof import('node:http');
  return httpModule;
}

const START_ENGINE =
  'start the container engine (dockerd, or: podman system service --time=0 unix:///run/podman/podman.sock) or point DOCKER_HOST at its socket (DOCKER_HOST=unix:///path/to/socket)';

/** Socket-level failures: absent, refused, forbidden, reset. */
export function connectionError(e: NodeJS.ErrnoException, socketPath: string): NetplumbError {
  const code = e.code ?? 'EIO';
  const details = {
    errno: typeof e.errno === 'number' ? e.errno : undefined,
    errnoCode: code,
    syscall: e.syscall ?? 'connect',
    socketPath,
  };
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new NetplumbError(
        ErrorCode.UNAVAILABLE,
        `no container engine API socket at ${socketPath}: ${START_ENGINE}`,
        details,
      );
    case 'ECONNREFUSED':
      return new NetplumbError(
        ErrorCode.UNAVAILABLE,
        `nothing is listening on the container engine API socket ${socketPath} (connection refused): ${START_ENGINE}`,
        details,
      );
    case 'EACCES':
    case 'EPERM':
      return new NetplumbError(
        ErrorCode.PRIVILEGE,
        `permission denied connecting to the container engine API socket ${socketPath}: run as root or as a member of the socket's group (docker)`,
        details,
      );
    default:
      return new NetplumbError(
        ErrorCode.UNAVAILABLE,
        `talking to the container engine at ${socketPath} failed: ${code} (${describeErrno(code)}); retry, or check that the engine is healthy`,
        details,
      );
  }
}

function apiMessage(body: unknown): string | undefined {
  if (isRecord(body) && typeof body.message === 'string') return body.message;
  return undefined;
}

/** Pick the fields netplumb uses out of an inspect document, checking their types. */
function containerStateFrom(body: unknown, ref: string, socketPath: string): ContainerState {
  const state = isRecord(body) ? body.State : undefined;
  if (
    !isRecord(body) ||
    typeof body.Id !== 'string' ||
    !isRecord(state) ||
    typeof state.Pid !== 'number' ||
    typeof state.Running !== 'boolean'
  ) {
    throw new NetplumbError(
      ErrorCode.PROTOCOL,
      `the engine at ${socketPath} answered the inspect of container "${ref}" without Id, State.Pid or State.Running; is it a Docker Engine API?`,
      { socketPath },
    );
  }
  return {
    id: body.Id,
    name: typeof body.Name === 'string' ? body.Name.replace(/^\//, '') : '',
    pid: state.Pid,
    running: state.Running,
    status: typeof state.Status === 'string' ? state.Status : '',
    startedAt: typeof state.StartedAt === 'string' ? state.StartedAt : '',
  };
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
