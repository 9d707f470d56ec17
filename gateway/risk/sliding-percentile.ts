/**
 * A percentile over a sliding window of timed samples (`overload.ts`: the p99 of the last `windowSize` risk
 * assessments no older than `windowMs`), without sorting the window at every sample (issue #14: sorting 1,000
 * samples per login cost ~0.1 ms of a login's CPU; at the largest allowed window, 100,000, it would cost more than
 * the login). The samples are kept twice: in arrival order (a ring, to drop the oldest) and sorted (binary search,
 * and a native shift of the values after it), so that adding or dropping a sample is one `copyWithin`, and a
 * percentile is one index.
 */
export class SlidingPercentile {
  readonly #at: Float64Array;
  readonly #value: Float64Array;
  readonly #sorted: Float64Array;
  /** Index in the ring of the oldest sample. */
  #head = 0;
  #size = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer`);
    this.#at = new Float64Array(capacity);
    this.#value = new Float64Array(capacity);
    this.#sorted = new Float64Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Adds a sample taken at `at`; the oldest is dropped when the window is full. A non-finite value is refused. */
  add(at: number, value: number): void {
    if (!Number.isFinite(value)) throw new RangeError(`a sample must be a finite number (got ${value})`);
    const capacity = this.#value.length;
    if (this.#size === capacity) this.#dropOldest();
    const slot = (this.#head + this.#size) % capacity;
    this.#at[slot] = at;
    this.#value[slot] = value;
    const i = this.#upperBound(value);
    this.#sorted.copyWithin(i + 1, i, this.#size);
    this.#sorted[i] = value;
    this.#size += 1;
  }

  /** Drops the samples taken before `oldest`. */
  dropBefore(oldest: number): void {
    while (this.#size > 0 && this.#at[this.#head]! < oldest) this.#dropOldest();
  }

  clear(): void {
    this.#head = 0;
    this.#size = 0;
  }

  /**
   * The `q` quantile (0 < q ≤ 1) by the nearest-rank method: the smallest sample with at least q of the samples at
   * or below it (0 with no sample).
   */
  quantile(q: number): number {
    if (this.#size === 0) return 0;
    return this.#sorted[Math.min(this.#size - 1, Math.max(0, Math.ceil(this.#size * q) - 1))]!;
  }

  /** The `k`-th largest sample (1: the largest), or 0 with fewer than `k` samples. */
  largest(k: number): number {
    return k >= 1 && this.#size >= k ? this.#sorted[this.#size - k]! : 0;
  }

  #dropOldest(): void {
    const value = this.#value[this.#head]!;
    const i = this.#lowerBound(value); // a sample of that very value: whichever, they are equal
    this.#sorted.copyWithin(i, i + 1, this.#size);
    this.#head = (this.#head + 1) % this.#value.length;
    this.#size -= 1;
  }

  /** The first index whose value is ≥ `value`. */
  #lowerBound(value: number): number {
    let lo = 0;
    let hi = this.#size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#sorted[mid]! < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first index whose value is > `value`. */
  #upperBound(value: number): number {
    let lo = 0;
    let hi = this.#size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#sorted[mid]! <= value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
