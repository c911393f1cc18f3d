/**
 * The daemon's side of the native front door (native/front.c): a connection that begins
 * with FRONT_MAGIC carries one command call (front-frames.ts). The daemon runs the
 * program's CommandMain (the ProgramTable `netplumb serve` gives it) on the relayed argv,
 * environment and stdin, sends back what it writes and its exit code, and lends it the
 * daemon's engine: each engine call is a request of the method table, admitted and
 * logged exactly as a JSON-RPC request (dispatch.ts), from a peer the listener allowed
 * (SO_PEERCRED) before a byte of it was read. What the daemon does not serve (--no-daemon,
 * another OVSDB or container engine, serve, pipework --wait …) is handed back: 'n', and
 * the caller runs it itself.
 *
 * Equivalent to: ovs-appctl CMD ARGS… (the command parsed and run by the daemon, its
 * output and status relayed), with Node.js started only when the daemon cannot serve it.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Engine, NetworkOps, UplinkOps } from '../engine/engine.js';
import type { EventsReader, EventsResult } from '../events/event.js';
import { servesOther, type OpenEngineOptions } from '../engine/open.js';
import { ErrorCode, EXIT_CODES, NetplumbError } from '../errors.js';
import { type CommandIo, type DaemonSide, type ProgramTable, RunInCaller } from '../cli/io.js';
import type { Attachment, AttachResult, DetachRequest, DetachResult } from '../plumb/plumber.js';
import type { GcOptions, GcResult } from '../plumb/gc.js';
import type { DeclaredAttachment } from '../plumb/declared.js';
import type { AttachSpec } from '../plumb/spec.js';
import { callerGuest } from './client.js';
import { CLOSE_GRACE_MS } from './connection.js';
import type { Dispatcher } from './dispatch.js';
import { CallerFrame, DaemonFrame, type Frame, FrameReader, frame } from './front-frames.js';
import type { Peer } from './listener.js';
import type { CallContext, Method } from './methods.js';
import type { ListFilter } from './params.js';
import type { DaemonIdentity } from './protocol.js';

export interface FrontDoorOptions {
  programs: ProgramTable;
  dispatcher: Dispatcher;
  identity: DaemonIdentity;
  /** The daemon's socket, for messages. */
  socketPath: string;
  /** Largest request (program, arguments, environment), and largest standard input. */
  maxRequestBytes: number;
  /** How long a request may stay unfinished, and standard input silent. */
  idleTimeoutMs: number;
  peer: Peer;
  /** Bound to the peer. */
  log?: Logger | undefined;
}

/** Serve the front-door call on `socket` (accepted, allowed), whose first bytes are `head`. Resolves once it is over. */
export function serveFrontCall(socket: Socket, head: Buffer, opts: FrontDoorOptions): Promise<void> {
  return new FrontCall(socket, opts).serve(head);
}

/** Standard input as the command asked for it: the chunks so far, and who waits for the end. */
interface StdinWait {
  parts: Buffer[];
  size: number;
  resolve: (b: Buffer) => void;
  reject: (e: NetplumbError) => void;
}

/** Receiving the request; running the call; over. */
type Phase = 'request' | 'taken' | 'over';

class FrontCall {
  readonly #socket: Socket;
  readonly #opts: FrontDoorOptions;
  readonly #reader: FrameReader;
  #phase: Phase = 'request';
  #program: string | undefined;
  readonly #argv: string[] = [];
  readonly #env: Record<string, string> = Object.create(null) as Record<string, string>;
  #requestBytes = 0;
  #stdin: Promise<Buffer> | undefined;
  #stdinWait: StdinWait | undefined;
  /** Standard input went over the bound: the rest of it is dropped. */
  #stdinDropped = false;
  /** The command wrote something: from then on it cannot be handed back. */
  #wrote = false;
  /** The caller closed its side. */
  #peerEnded = false;
  #timer: NodeJS.Timeout | undefined;
  #over!: () => void;

  constructor(socket: Socket, opts: FrontDoorOptions) {
    this.#socket = socket;
    this.#opts = opts;
    this.#reader = new FrameReader(opts.maxRequestBytes);
  }

  serve(head: Buffer): Promise<void> {
    const over = new Promise<void>((resolve) => {
      this.#over = resolve;
    });
    const socket = this.#socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onPeerEnd());
    socket.on('close', () => {
      this.#onPeerEnd();
      clearTimeout(this.#timer);
      this.#over();
    });
    this.#arm(() => this.#abandon('request not completed in time'));
    this.#onData(head);
    return over;
  }

  /** (Re)start the one timer: the request's deadline, then standard input's silence. */
  #arm(onTimeout: () => void): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(onTimeout, this.#opts.idleTimeoutMs);
    this.#timer.unref();
  }

  #onData(chunk: Buffer): void {
    if (this.#phase === 'over') return;
    const frames = this.#reader.push(chunk);
    if (frames === 'not-framing' || frames === 'overflow') {
      this.#abandon(frames === 'overflow' ? 'a frame larger than the bound' : 'not the front-door framing');
      return;
    }
    for (const f of frames) {
      const phase = this.#phase as Phase; // each frame may end the call
      if (phase === 'request') this.#onRequestFrame(f);
      else if (phase === 'taken') this.#onStdinFrame(f);
      else return;
    }
  }

  #onRequestFrame({ type, payload }: Frame): void {
    this.#requestBytes += payload.length + 5;
    if (this.#requestBytes > this.#opts.maxRequestBytes) {
      this.#notHere(`request larger than ${this.#opts.maxRequestBytes} bytes`);
      return;
    }
    const first = this.#program === undefined;
    if (type === CallerFrame.PROGRAM && first) this.#program = payload.toString();
    else if (type === CallerFrame.ARG && !first) this.#argv.push(payload.toString());
    else if (type === CallerFrame.VAR && !first) {
      const text = payload.toString();
      const eq = text.indexOf('=');
      if (eq > 0) this.#env[text.slice(0, eq)] = text.slice(eq + 1);
    } else if (type === CallerFrame.GO && !first) this.#take();
    else this.#abandon(`unexpected frame ${type} in the request`);
  }

  #onStdinFrame({ type, payload }: Frame): void {
    const wait = this.#stdinWait;
    if (wait === undefined && !this.#stdinDropped) {
      this.#abandon(`frame ${type} while no standard input was asked for`);
      return;
    }
    if (type === CallerFrame.STDIN) {
      if (wait === undefined) return; // dropped
      this.#arm(() => this.#stdinFailed(`no standard input for ${this.#opts.idleTimeoutMs} ms`));
      wait.size += payload.length;
      if (wait.size > this.#opts.maxRequestBytes) {
        this.#stdinFailed(`standard input larger than ${this.#opts.maxRequestBytes} bytes`, ErrorCode.INVALID_ARGUMENT);
        this.#stdinDropped = true;
      } else wait.parts.push(Buffer.from(payload));
    } else if (type === CallerFrame.STDIN_END) {
      clearTimeout(this.#timer);
      this.#stdinWait = undefined;
      this.#stdinDropped = false;
      wait?.resolve(Buffer.concat(wait.parts));
    } else this.#abandon(`unexpected frame ${type} during the call`);
  }

  /** The request is complete: take the call (or hand it back while the daemon shuts down). */
  #take(): void {
    clearTimeout(this.#timer);
    if (this.#opts.dispatcher.draining) {
      this.#notHere('the daemon is shutting down');
      return;
    }
    this.#phase = 'taken';
    this.#send(DaemonFrame.TAKEN);
    // Run on the next turn: a caller that gave up before the call was taken (its hang-up
    // read with the request) must not have it run behind its back.
    setImmediate(() => {
      if (this.#peerEnded) this.#end();
      else this.#opts.dispatcher.track(this.#run());
    });
  }

  async #run(): Promise<void> {
    const { programs, log } = this.#opts;
    const name = this.#program as string;
    const load = Object.hasOwn(programs, name) ? programs[name] : undefined;
    if (load === undefined) {
      this.#notHere(`no program ${JSON.stringify(name)} in this daemon`);
      return;
    }
    log?.debug({ program: name, argv: this.#argv }, 'front-door call');
    try {
      this.#exit(await load()(this.#io()));
    } catch (e) {
      if (e instanceof RunInCaller && !this.#wrote) {
        this.#notHere(e.why);
        return;
      }
      log?.error({ program: name, err: e }, 'front-door call failed');
      this.#send(
        DaemonFrame.STDERR,
        `${name}: internal error in the daemon: ${e instanceof Error ? e.message : String(e)}\n`,
      );
      this.#exit(EXIT_CODES.INTERNAL);
    }
  }

  #io(): CommandIo {
    const write = (type: number) => (chunk: string | Uint8Array) => {
      this.#wrote = true;
      this.#send(type, typeof chunk === 'string' ? chunk : Buffer.from(chunk));
    };
    return {
      argv: this.#argv,
      env: this.#env,
      readStdin: () => {
        this.#stdin ??= this.#askStdin();
        return this.#stdin;
      },
      stdout: write(DaemonFrame.STDOUT),
      stderr: write(DaemonFrame.STDERR),
      daemon: this.#daemonSide(),
    };
  }

  #askStdin(): Promise<Buffer> {
    if (this.#peerEnded || this.#phase !== 'taken')
      return Promise.reject(new NetplumbError(ErrorCode.UNAVAILABLE, 'the caller hung up before sending its input'));
    return new Promise((resolve, reject) => {
      this.#stdinWait = { parts: [], size: 0, resolve, reject };
      this.#arm(() => this.#stdinFailed(`no standard input for ${this.#opts.idleTimeoutMs} ms`));
      this.#send(DaemonFrame.READ_STDIN);
    });
  }

  #stdinFailed(why: string, code: ErrorCode = ErrorCode.UNAVAILABLE): void {
    const wait = this.#stdinWait;
    this.#stdinWait = undefined;
    wait?.reject(new NetplumbError(code, `standard input: ${why}`));
  }

  #daemonSide(): DaemonSide {
    const { socketPath, identity } = this.#opts;
    return {
      engine: (opts: OpenEngineOptions): Engine => {
        if (opts.daemon === false) throw new RunInCaller('asked to act without the daemon');
        const own = opts.plumberOptions ?? {};
        if (own.stepHook !== undefined || own.detachStepHook !== undefined) throw new RunInCaller('test hooks');
        const other = servesOther(socketPath, identity, own, this.#env, opts);
        if (other !== undefined) throw new RunInCaller(other.message);
        return new RelayedEngine(this.#opts, this.#call());
      },
      events: (): EventsReader => {
        const relay = new Relay(this.#opts, this.#call());
        return {
          events: (since) => relay.call('events', since === undefined ? {} : { since }) as Promise<EventsResult>,
        };
      },
      caller: { uid: this.#opts.peer.uid, gid: this.#opts.peer.gid },
    };
  }

  /** Who makes the engine calls of this command: the caller, through its program. */
  #call(): CallContext {
    const { uid, pid } = this.#opts.peer;
    return { origin: { via: 'front-door', program: this.#program as string, uid, pid } };
  }

  #onPeerEnd(): void {
    this.#peerEnded = true;
    this.#stdinFailed('the caller hung up');
  }

  #send(type: number, payload?: Buffer | string): void {
    const s = this.#socket;
    if (!s.destroyed && s.writable) s.write(frame(type, payload));
  }

  #exit(code: number): void {
    this.#send(DaemonFrame.EXIT, Buffer.of(code & 0xff));
    this.#end();
  }

  /** Hand the call back: the caller runs it itself; nothing was done. */
  #notHere(why: string): void {
    this.#opts.log?.debug({ program: this.#program, why }, 'front-door call handed back');
    this.#send(DaemonFrame.NOT_HERE, why);
    this.#end();
  }

  /** Not a call that can be answered: hang up without a word. */
  #abandon(why: string): void {
    this.#opts.log?.warn({ why }, 'front-door connection dropped');
    this.#phase = 'over';
    this.#socket.destroy();
  }

  #end(): void {
    if (this.#phase === 'over') return;
    this.#phase = 'over';
    clearTimeout(this.#timer);
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), CLOSE_GRACE_MS).unref();
  }
}

/** A relayed command's calls: requests of the method table (admission, logging, history), made for its caller. */
class Relay {
  constructor(
    readonly opts: FrontDoorOptions,
    private readonly context: CallContext,
  ) {}

  call(method: Method, params: unknown): Promise<unknown> {
    const running = this.opts.dispatcher.call(method, params, this.context, this.opts.log);
    return running instanceof NetplumbError ? Promise.reject(running) : running;
  }
}

/**
 * The engine a relayed call gets: the daemon's, each call a request of the method table
 * (admission, logging, history) exactly as over JSON-RPC; `/proc/self/ns/net` means the caller.
 * Closing it does nothing: the engine is the daemon's.
 */
class RelayedEngine implements Engine {
  readonly via = 'daemon' as const;
  readonly #relay: Relay;
  readonly uplinks: UplinkOps;
  readonly networks: NetworkOps;

  constructor(
    private readonly opts: FrontDoorOptions,
    context: CallContext,
  ) {
    const relay = new Relay(opts, context);
    this.#relay = relay;
    this.uplinks = {
      add: (spec) => relay.call('uplink.add', spec) as ReturnType<UplinkOps['add']>,
      del: (req) => relay.call('uplink.del', req) as ReturnType<UplinkOps['del']>,
      list: () => relay.call('uplink.list', undefined) as ReturnType<UplinkOps['list']>,
    };
    this.networks = {
      create: (spec) => relay.call('network.create', spec) as ReturnType<NetworkOps['create']>,
      delete: (name, o = {}) =>
        relay.call('network.delete', { name, force: o.force === true }) as ReturnType<NetworkOps['delete']>,
      list: () => relay.call('network.list', undefined) as ReturnType<NetworkOps['list']>,
    };
  }

  attach(spec: AttachSpec): Promise<AttachResult> {
    return this.#relay.call('attach', this.#own(spec)) as Promise<AttachResult>;
  }

  detach(req: DetachRequest): Promise<DetachResult> {
    return this.#relay.call('detach', this.#own(req)) as Promise<DetachResult>;
  }

  list(filter: ListFilter = {}): Promise<Attachment[]> {
    const guest = filter.guest;
    return this.#relay.call('list', guest === undefined ? filter : this.#own({ guest })) as Promise<Attachment[]>;
  }

  gc(opts: GcOptions = {}): Promise<GcResult> {
    return this.#relay.call('gc', opts) as Promise<GcResult>;
  }

  declared(): Promise<DeclaredAttachment[]> {
    return this.#relay.call('declared', undefined) as Promise<DeclaredAttachment[]>;
  }

  async close(): Promise<void> {}

  /** `o` with its guest as the caller means it (only rebuilt when it names /proc/self). */
  #own<T extends { guest: AttachSpec['guest'] }>(o: T): T {
    const guest = callerGuest(o.guest, this.opts.peer.pid);
    return guest === o.guest ? o : { ...o, guest };
  }
}
