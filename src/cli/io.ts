/**
 * What a command sees of the world: its arguments, its environment, its standard input and
 * its two outputs. `netplumb`, `pipework` and `netplumb-cni` run against a CommandIo, so
 * the same code serves a process of its own (process.argv, process.env, fds 0–2) and a
 * call relayed to the daemon (argv, environment and stdin sent by the caller; stdout,
 * stderr and the exit code sent back).
 */
export interface CommandIo {
  /** The arguments after the program name. */
  readonly argv: readonly string[];
  /** The caller's environment (only the variables netplumb reads need be present). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The whole of standard input, read on first call (commands that take no input never call it). */
  readStdin(): Promise<Buffer>;
  stdout(chunk: string | Uint8Array): void;
  stderr(chunk: string | Uint8Array): void;
}

/** A command's entry point: resolves with its exit code. */
export type CommandMain = (io: CommandIo) => Promise<number>;
