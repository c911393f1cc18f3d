/**
 * Apply a sequence of steps; on any failure undo every completed step in reverse.
 *
 * Each step says what it did (`describe`) so that a failed undo can name the residue.
 * A fault-injection hook lets tests fail the operation right after step k.
 */
import { ErrorCode, NetplumbError } from '../errors.js';
import type { Logger } from 'pino';

export interface Undo {
  /** What would be left behind if this undo fails (`veth "np1a2b…" in the host namespace`). */
  what: string;
  run(): Promise<void>;
}

/** Hook for tests: called after each completed step; throwing aborts the operation there. */
export type StepHook = (step: string, index: number) => void | Promise<void>;

export class Rollback {
  #undos: Undo[] = [];
  #steps = 0;

  constructor(
    private readonly log?: Logger,
    private readonly hook?: StepHook,
  ) {}

  /** Run a step; if it succeeds, remember how to undo it. */
  async step<T>(name: string, run: () => Promise<T>, undo?: (result: T) => Undo | undefined): Promise<T> {
    const result = await run();
    const u = undo?.(result);
    if (u) this.#undos.push(u);
    this.log?.debug({ step: name, index: this.#steps }, 'step done');
    await this.hook?.(name, this.#steps++);
    return result;
  }

  /** Remember an undo for work done outside `step` (e.g. a batch). */
  push(u: Undo): void {
    this.#undos.push(u);
  }

  /** Forget the undos: the operation succeeded. */
  commit(): void {
    this.#undos = [];
  }

  /**
   * Undo everything in reverse and rethrow `cause`. If an undo fails too, the error is
   * PARTIAL_CLEANUP_FAILED, listing the original cause and every residue.
   */
  async abort(cause: unknown): Promise<never> {
    const residue: { what: string; error: string }[] = [];
    for (const u of this.#undos.reverse()) {
      try {
        await u.run();
      } catch (e) {
        residue.push({ what: u.what, error: e instanceof Error ? e.message : String(e) });
      }
    }
    this.#undos = [];
    if (residue.length === 0) throw cause;
    const msg = cause instanceof Error ? cause.message : String(cause);
    throw new NetplumbError(
      ErrorCode.PARTIAL_CLEANUP_FAILED,
      `${msg}; rolling back also failed, left behind: ${residue.map((r) => `${r.what} (${r.error})`).join('; ')}. Run "netplumb gc" or "netplumb detach" to remove it`,
      { cause: cause instanceof NetplumbError ? cause.toJSON() : msg, residue },
      { cause },
    );
  }

  /** Run `body`; on failure roll back and rethrow. */
  static async run<T>(body: (rb: Rollback) => Promise<T>, log?: Logger, hook?: StepHook): Promise<T> {
    const rb = new Rollback(log, hook);
    try {
      const r = await body(rb);
      rb.commit();
      return r;
    } catch (e) {
      return rb.abort(e);
    }
  }
}
