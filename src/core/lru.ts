/**
 * A small least-recently-used map bounded by entries and by a caller-defined weight (an embedding's count of
 * numbers), so a few large values (SD's 77×1024 prompt states) cannot crowd memory the way a count bound alone
 * would let them. A Map keeps insertion order: re-inserting on every hit makes the first key the oldest.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, { value: V; weight: number }>();
  private total = 0;

  constructor(private readonly limits: { maxEntries: number; maxWeight?: number; weigh?: (value: V) => number }) {}

  get size(): number {
    return this.entries.size;
  }

  /** The summed weight of what is kept. */
  get weight(): number {
    return this.total;
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** Keeps the value unless it alone weighs more than the whole cache may (then it is not kept at all). */
  set(key: K, value: V): void {
    this.delete(key);
    const weight = this.limits.weigh?.(value) ?? 1;
    if (this.limits.maxWeight !== undefined && weight > this.limits.maxWeight) return;
    this.entries.set(key, { value, weight });
    this.total += weight;
    while (this.entries.size > this.limits.maxEntries || (this.limits.maxWeight !== undefined && this.total > this.limits.maxWeight)) {
      const oldest = this.entries.keys().next().value as K;
      this.delete(oldest);
    }
  }

  delete(key: K): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.total -= entry.weight;
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }
}
