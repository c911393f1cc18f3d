/**
 * Group commit: requests submitted while a batch is being applied wait and go together
 * in the next one. A lone request is applied at once (after the current I/O phase), so
 * batching never delays it; under load, N concurrent attaches cost one OVSDB transaction
 * and one datapath wait instead of N.
 *
 * The apply function settles each member separately: a member that fails, fails alone.
 */

export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface BatcherOptions {
  /** At most this many members per batch. */
  maxBatch?: number;
}

interface Member<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export class Batcher<T, R> {
  #queue: Member<T, R>[] = [];
  #running = false;
  #scheduled = false;
  readonly #maxBatch: number;

  constructor(
    private readonly apply: (items: T[]) => Promise<Settled<R>[]>,
    opts: BatcherOptions = {},
  ) {
    this.#maxBatch = opts.maxBatch ?? 256;
  }

  /** Queue one item; resolves or rejects with that item's own outcome. */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#running || this.#scheduled) return;
    this.#scheduled = true;
    // setImmediate: every request issued in this turn of the event loop joins the batch.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    if (this.#running || this.#queue.length === 0) return;
    this.#running = true;
    const batch = this.#queue.splice(0, this.#maxBatch);
    try {
      const results = await this.apply(batch.map((m) => m.item));
      batch.forEach((m, i) => {
        const r = results[i];
        if (r === undefined) m.reject(new Error('batch apply returned no result for a member'));
        else if (r.ok) m.resolve(r.value);
        else m.reject(r.error);
      });
    } catch (e) {
      for (const m of batch) m.reject(e);
    } finally {
      this.#running = false;
      if (this.#queue.length > 0) this.#schedule();
    }
  }
}
