/**
 * One run at a time per key, the last request wins: a key kicked while its run is under
 * way runs once more after it (however many kicks came meanwhile), never twice at once.
 * A container restarted fifty times in a burst gets at most two reconciles in a row, each
 * reading the container's state as it is then.
 */
export class Coalescer {
  readonly #running = new Map<string, { again: boolean; done: Promise<void> }>();

  /** Run `work(key)` now, or once more after the run under way; resolves when the key is settled. */
  kick(key: string, work: (key: string) => Promise<void>): Promise<void> {
    const running = this.#running.get(key);
    if (running !== undefined) {
      running.again = true;
      return running.done;
    }
    const entry = { again: false, done: Promise.resolve() };
    entry.done = (async () => {
      try {
        do {
          entry.again = false;
          await work(key).catch(() => undefined);
        } while (entry.again);
      } finally {
        this.#running.delete(key);
      }
    })();
    this.#running.set(key, entry);
    return entry.done;
  }

  /** Keys with a run under way. */
  get busy(): number {
    return this.#running.size;
  }

  /** Resolves once every run under way (and the runs they owe) is done. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running.values()].map((r) => r.done));
  }
}
