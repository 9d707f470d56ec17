/**
 * IP reputation: the device-trust stage's degraded mode. In process, no I/O, so it answers even when Redis is what
 * made device trust late. Learns from outcomes per network prefix: refused or flagged logins count against a
 * network, completed ones for it. Built so that no one can turn it against a network's other people:
 *
 * - it counts distinct identities refused, not refusals: one person (or one attacker with a handful of identities)
 *   refused again and again, `prompt=none` after `prompt=none`, counts once per identity ({@link KEPT_IDENTITIES}
 *   at most); completed logins count each (a network's many people outweigh a few identities refused);
 * - what it learned lasts {@link WINDOW_MS}, then the network starts afresh;
 * - its score stays under {@link MAX_SCORE}, below the default step-up threshold: alone it never reviews or denies
 *   a network's logins (a login scored by it has its device stage degraded, which the policy meets with its
 *   `degradedLevel` step-up anyway);
 * - bounded: {@link IpReputation} keeps at most `max` networks (the oldest forgotten first).
 */

/** Distinct identities kept per network and outcome. */
export const KEPT_IDENTITIES = 32;
/** How long a network's outcomes count. */
export const WINDOW_MS = 24 * 3_600_000;
/** The highest score it gives. */
export const MAX_SCORE = 0.45;

interface Outcomes {
  since: number;
  good: number;
  bad: Set<string>;
}

export class IpReputation {
  readonly #max: number;
  readonly #now: () => number;
  readonly #seen = new Map<string, Outcomes>();

  constructor(max = 100_000, now: () => number = Date.now) {
    this.#max = max;
    this.#now = now;
  }

  /** Records an outcome of `identity` (an account id, or a login's when none is known) for a network prefix. */
  record(prefix: string, outcome: 'good' | 'bad', identity: string): void {
    let entry = this.#current(prefix);
    if (!entry) entry = { since: this.#now(), good: 0, bad: new Set() };
    if (outcome === 'good') entry.good += 1;
    else if (entry.bad.size < KEPT_IDENTITIES) entry.bad.add(identity);
    this.#seen.delete(prefix);
    this.#seen.set(prefix, entry);
    if (this.#seen.size > this.#max) this.#seen.delete(this.#seen.keys().next().value!);
  }

  /** 0 (good or unknown) … {@link MAX_SCORE} (only refused identities seen). */
  score(prefix: string): number {
    const entry = this.#current(prefix);
    if (!entry) return 0;
    const bad = entry.bad.size;
    return Math.min(MAX_SCORE, bad / (bad + entry.good + 3));
  }

  #current(prefix: string): Outcomes | undefined {
    const entry = this.#seen.get(prefix);
    if (entry && this.#now() - entry.since > WINDOW_MS) {
      this.#seen.delete(prefix);
      return undefined;
    }
    return entry;
  }
}
