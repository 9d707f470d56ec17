/**
 * Counters of the fraud pipeline and policy, by label (exposed on the admin API as JSON and in the
 * Prometheus text format). Every stage outcome, every degradation and every decision is counted.
 */
export class RiskMetrics {
  readonly #counters = new Map<string, number>();

  /** Adds one (or `n`) to a counter named with labels, e.g. `inc('risk_stage_total', { stage: 'device', outcome: 'late' })`. */
  inc(name: string, labels: Record<string, string | boolean> = {}, n = 1): void {
    const key = `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${String(v)}"`).join(',')}}`;
    this.#counters.set(key, (this.#counters.get(key) ?? 0) + n);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#counters);
  }

  /** Prometheus text exposition. */
  text(): string {
    return [...this.#counters].map(([k, v]) => `${k} ${v}`).join('\n') + '\n';
  }
}
