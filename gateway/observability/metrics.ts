/**
 * A tiny dependency-free metrics registry and its Prometheus text exposition (format 0.0.4).
 *
 * - counters and gauges, each with a fixed list of label names declared once; a sample with a missing or
 *   unknown label throws (a programming error, never silently a new series);
 * - metric and label names are checked against the Prometheus grammar at declaration;
 * - label values are escaped per the spec (`\\`, `"`, newline), HELP text too (`\\`, newline);
 * - `collect` hooks run before each exposition (gauges that mirror live state, e.g. IdP availability);
 * - other registries can be included, so one scrape shows every component's metrics.
 */

export type LabelValue = string | number | boolean;
export type Labels = Readonly<Record<string, LabelValue>>;

/** The Content-Type of the text exposition format. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Escapes HELP text: backslash and line feed. */
export function escapeHelp(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value as the format writes it (`+Inf`, `-Inf`, `NaN`, or a Go-style float). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

class Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly labelNames: readonly string[];
  readonly series = new Map<string, { labels: string[]; value: number }>();

  constructor(name: string, help: string, type: 'counter' | 'gauge', labelNames: readonly string[]) {
    if (!METRIC_NAME.test(name)) throw new TypeError(`invalid metric name: ${name}`);
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith('__')) throw new TypeError(`invalid label name: ${l}`);
    }
    if (new Set(labelNames).size !== labelNames.length) throw new TypeError(`duplicate label name in ${name}`);
    this.name = name;
    this.help = help;
    this.type = type;
    this.labelNames = labelNames;
  }

  entry(labels: Labels): { labels: string[]; value: number } {
    const keys = Object.keys(labels);
    if (keys.length !== this.labelNames.length || !keys.every((k) => this.labelNames.includes(k))) {
      throw new TypeError(`${this.name} takes labels {${this.labelNames.join(',')}}, got {${keys.join(',')}}`);
    }
    const values = this.labelNames.map((l) => String(labels[l]));
    const key = values.join('\u0000');
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels: values, value: 0 };
      this.series.set(key, entry);
    }
    return entry;
  }

  lines(): string[] {
    const out = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    for (const { labels, value } of this.series.values()) {
      const pairs = labels.map((v, i) => `${this.labelNames[i]}="${escapeLabelValue(v)}"`);
      out.push(`${this.name}${pairs.length ? `{${pairs.join(',')}}` : ''} ${formatValue(value)}`);
    }
    return out;
  }
}

/** A monotonically increasing count. */
export class Counter {
  readonly #family: Family;
  constructor(family: Family) {
    this.#family = family;
  }

  /** Adds `n` (default 1, never negative) to the series of these labels. */
  inc(labels: Labels = {}, n = 1): void {
    if (!(n >= 0)) throw new RangeError(`${this.#family.name}: a counter only goes up`);
    this.#family.entry(labels).value += n;
  }

  /** The current value of one series (0 when never incremented). */
  get(labels: Labels = {}): number {
    return this.#family.entry(labels).value;
  }
}

/** A value that goes up and down. */
export class Gauge {
  readonly #family: Family;
  constructor(family: Family) {
    this.#family = family;
  }

  set(labels: Labels, value: number): void {
    this.#family.entry(labels).value = value;
  }

  /** Forgets every series (before a collector re-sets the live ones). */
  reset(): void {
    this.#family.series.clear();
  }
}

export class MetricsRegistry {
  readonly #families = new Map<string, Family>();
  readonly #collectors: Array<() => void> = [];
  readonly #included: MetricsRegistry[] = [];

  #declare(name: string, help: string, type: 'counter' | 'gauge', labelNames: readonly string[]): Family {
    const existing = this.#families.get(name);
    if (existing) {
      if (existing.type !== type || [...existing.labelNames].sort().join(',') !== [...labelNames].sort().join(',')) throw new TypeError(`metric ${name} already declared differently`);
      return existing;
    }
    const family = new Family(name, help, type, labelNames);
    this.#families.set(name, family);
    return family;
  }

  /** Declares (or returns the already declared) counter `name`. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return new Counter(this.#declare(name, help, 'counter', labelNames));
  }

  /** Declares (or returns the already declared) gauge `name`. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return new Gauge(this.#declare(name, help, 'gauge', labelNames));
  }

  /** Runs `fn` before each exposition (to refresh gauges mirroring live state). */
  collect(fn: () => void): void {
    this.#collectors.push(fn);
  }

  /** Shows another registry's metrics in this one's exposition. */
  include(other: MetricsRegistry): void {
    if (other !== this && !this.#included.includes(other)) this.#included.push(other);
  }

  /** The text exposition of this registry and of the included ones. */
  text(): string {
    const lines: string[] = [];
    const seen = new Set<string>();
    for (const registry of [this, ...this.#included]) {
      for (const fn of registry.#collectors) fn();
      for (const family of registry.#families.values()) {
        if (seen.has(family.name)) continue; // one family per name in an exposition
        seen.add(family.name);
        lines.push(...family.lines());
      }
    }
    return lines.length ? `${lines.join('\n')}\n` : '';
  }
}
