/**
 * IP reputation: the device-trust stage's degraded mode. In process, no I/O, so it answers even when
 * Redis is what made device trust late. Learns from outcomes per network prefix: refused or flagged
 * logins count against a network, completed ones for it. Bounded (oldest networks forgotten first).
 */
export class IpReputation {
  readonly #max: number;
  readonly #seen = new Map<string, { good: number; bad: number }>();

  constructor(max = 100_000) {
    this.#max = max;
  }

  /** Records an outcome for a network prefix. */
  record(prefix: string, outcome: 'good' | 'bad'): void {
    const entry = this.#seen.get(prefix) ?? { good: 0, bad: 0 };
    entry[outcome] += 1;
    this.#seen.delete(prefix);
    this.#seen.set(prefix, entry);
    if (this.#seen.size > this.#max) this.#seen.delete(this.#seen.keys().next().value!);
  }

  /** 0 (good or unknown) … 1 (only bad outcomes seen). */
  score(prefix: string): number {
    const entry = this.#seen.get(prefix);
    if (!entry) return 0;
    return entry.bad / (entry.bad + entry.good + 3);
  }
}
