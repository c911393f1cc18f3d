/**
 * What a command sees of the world: its arguments, its environment, its standard input and
 * its two outputs. `netplumb`, `pipework` and `netplumb-cni` run against a CommandIo, so
 * the same code serves a process of its own (process.argv, process.env, fds 0–2:
 * process-io.ts) and a call relayed to the daemon by the native front door (argv,
 * environment and stdin sent by the caller; stdout, stderr and the exit code sent back:
 * ../daemon/front-door.ts).
 */
import type { Engine } from '../engine/engine.js';
import type { EventsReader } from '../events/event.js';
import type { OpenEngineOptions } from '../engine/open.js';

/** Variables of the environment as a command reads them. */
export type Env = Readonly<Record<string, string | undefined>>;

export interface CommandIo {
  /** The arguments after the program name. */
  readonly argv: readonly string[];
  /** The caller's environment (only the variables netplumb reads need be present). */
  readonly env: Env;
  /** The whole of standard input, read on first call (commands that take no input never call it). */
  readStdin(): Promise<Buffer>;
  stdout(chunk: string | Uint8Array): void;
  stderr(chunk: string | Uint8Array): void;
  /**
   * Present when the call runs inside the daemon (relayed by the front door): what the
   * daemon lends the command. Absent: the command runs in its own process.
   */
  readonly daemon?: DaemonSide;
}

/** What the daemon lends a command it runs for a caller. */
export interface DaemonSide {
  /**
   * The daemon's own engine (closing it does nothing), when the daemon serves what `opts`
   * asks for; otherwise it throws RunInCaller: `daemon: false`, another OVSDB or container
   * engine than the daemon's, or test hooks.
   */
  engine(opts: OpenEngineOptions): Engine;
  /** The daemon's history, read as a request of the caller's. */
  events(): EventsReader;
  /** Who called (SO_PEERCRED of the front door's connection): what the command starts runs as them, not as the daemon. */
  readonly caller: { readonly uid: number; readonly gid: number };
}

/** A command's entry point: resolves with its exit code. */
export type CommandMain = (io: CommandIo) => Promise<number>;

/** Program name (the basename the front door was called by) → its CommandMain, loaded on first use. */
export type ProgramTable = Readonly<Record<string, () => CommandMain>>;

/**
 * The call cannot be served by the daemon and must run in the caller's own process: the
 * front door then runs the Node.js command itself (with the same argv, environment and
 * stdin). Thrown before the command has written anything or changed anything.
 */
export class RunInCaller extends Error {
  constructor(readonly why: string) {
    super(`not served by the daemon: ${why}`);
    this.name = 'RunInCaller';
  }
}

/**
 * What runs only in the caller's own process (`netplumb serve`, `pipework --wait` inside a
 * container, `pipework route …` in a guest: nothing the daemon's API offers its clients).
 */
export function ownProcessOnly(io: CommandIo, what: string): void {
  if (io.daemon !== undefined) throw new RunInCaller(`${what} runs in the caller's own process`);
}

/**
 * The command's engine: inside the daemon, the daemon's; in a process of its own,
 * openEngine() (the daemon over its socket when it serves this caller, else this process),
 * with `io.env` as the environment.
 */
export async function openCommandEngine(io: CommandIo, opts: OpenEngineOptions): Promise<Engine> {
  if (io.daemon !== undefined) return io.daemon.engine(opts);
  // Loaded only now: --help, --version and argument errors never load it.
  const { openEngine } = require('../engine/open.js') as typeof import('../engine/open.js');
  return openEngine({ ...opts, env: io.env });
}
