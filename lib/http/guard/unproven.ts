/**
 * Connections that have not yet sent a whole first request head, grouped by client address bucket,
 * with the bucket that holds the most of them found in O(1). When the guard must shed one, it takes
 * the oldest of the heaviest bucket: a flood from some addresses loses its own sockets, not the
 * lone connection of a real client whose head is still waiting to be read (under a flood that can
 * take the event loop hundreds of ms). When no address holds more than one, the oldest of all goes.
 */
export class UnprovenIndex<T extends { bucket: string }> {
  /** Oldest first (a Set keeps insertion order). */
  readonly #all = new Set<T>();
  /** The same, by bucket. */
  readonly #byBucket = new Map<string, Set<T>>();
  /** `#byWeight[n]`: the buckets holding exactly n, the one that got there first first. */
  readonly #byWeight: Set<string>[] = [];
  #max = 0;

  get size(): number {
    return this.#all.size;
  }

  add(t: T): void {
    let mine = this.#byBucket.get(t.bucket);
    if (!mine) this.#byBucket.set(t.bucket, mine = new Set());
    if (mine.has(t)) return;
    mine.add(t);
    this.#all.add(t);
    this.#move(t.bucket, mine.size - 1, mine.size);
    if (mine.size > this.#max) this.#max = mine.size;
  }

  /** Whether it was here. */
  delete(t: T): boolean {
    const mine = this.#byBucket.get(t.bucket);
    if (!mine?.delete(t)) return false;
    this.#all.delete(t);
    this.#move(t.bucket, mine.size + 1, mine.size);
    if (!mine.size) this.#byBucket.delete(t.bucket);
    while (this.#max > 0 && !this.#byWeight[this.#max]?.size) this.#max--;
    return true;
  }

  /** How many `bucket` holds. */
  count(bucket: string): number {
    return this.#byBucket.get(bucket)?.size ?? 0;
  }

  /**
   * The oldest of `bucket`'s; with `bucket` null, the oldest of the bucket that holds the most, or
   * the oldest of all when none holds more than one.
   */
  oldest(bucket: string | null): T | undefined {
    if (bucket !== null) return first(this.#byBucket.get(bucket));
    if (this.#max < 2) return first(this.#all);
    return first(this.#byBucket.get(first(this.#byWeight[this.#max])!));
  }

  #move(bucket: string, from: number, to: number): void {
    if (from > 0) this.#byWeight[from].delete(bucket);
    if (to > 0) (this.#byWeight[to] ??= new Set()).add(bucket);
  }
}

function first<V>(set: Set<V> | undefined): V | undefined {
  if (!set) return undefined;
  for (const v of set) return v;
  return undefined;
}
