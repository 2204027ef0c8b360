/** A bound on work in flight: so many run at once, so many wait, and the rest are refused at once. */

export class WorkLimitFull extends Error {
  override name = "WorkLimitFull";
}

export class WorkLimit {
  #running = 0;
  #waiting: (() => void)[] = [];

  constructor(readonly slots: number, readonly queue: number) {}

  /** How many run now and how many wait (for metrics and tests). */
  get load(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#waiting.length };
  }

  /** True when a call to `run` now would be refused. */
  get full(): boolean {
    return this.#running >= this.slots && this.#waiting.length >= this.queue;
  }

  /** Runs `fn` when a slot is free; throws WorkLimitFull when every slot and queue place is taken. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#running < this.slots) {
      this.#running++;
    } else if (this.#waiting.length < this.queue) {
      // The finishing task hands its slot over directly, so #running stays counted.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      throw new WorkLimitFull(`All ${this.slots} slots and ${this.queue} queue places are taken`);
    }
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
