/**
 * Adaptive shedding (issue #15): this process's load lowers its rates.
 *
 * - Every `checkIntervalMs` it reads three signals over the period just ended: the event loop's delay (p99,
 *   `perf_hooks.monitorEventLoopDelay`, or the check's own lateness if larger), this process's CPU time (% of one core) and the V8 heap in use (% of
 *   its limit). Any one above its threshold raises the overload level by one.
 * - Level n multiplies the rates of new logins (authorize, chooser: the cheapest to refuse, nothing spent on
 *   them yet) by `factor`ⁿ, and those of logins already in flight (ACS, token, WebAuthn) by `factor`ⁿ⁻¹: a
 *   login already under way is shed last. Never below `minFactor`.
 * - Once every signal stayed below its threshold for `recoverAfterMs`, the level returns to 0.
 * - Entering (0 → 1: `NORMAL` → `SHEDDING`, code `LOAD_SHEDDING`) and leaving (→ `NORMAL`) are logged and
 *   audited on the session `ratelimit:<pid>`; a deeper level is logged; the
 *   factors are gauges (`gateway_ratelimit_shed_factor{class}`), the signals too (`gateway_load_signal{signal}`).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AuditRecord } from '../audit/audit-log.ts';
import type { AdaptiveConfig } from '../config/ratelimit-adaptive.ts';
import { declareGauge } from '../observability/metrics.ts';

/** Who is shed first: new logins, then logins in flight. */
export type ShedClass = 'new_login' | 'in_flight';
export const SHED_CLASSES: readonly ShedClass[] = ['new_login', 'in_flight'];

export interface LoadSample {
  lagMs: number;
  cpuPercent: number;
  memoryPercent: number;
}

export interface LoadShedderDeps {
  logger: Logger;
  registry: Registry;
  /** Where entering and leaving are recorded (absent: logged only). */
  audit?: { append(record: AuditRecord): Promise<unknown> };
}

export class LoadShedder {
  readonly #config: AdaptiveConfig;
  readonly #deps: LoadShedderDeps;
  readonly #delay: ReturnType<typeof monitorEventLoopDelay>;
  /** The audit of the last change while it is written (awaited by `stop`). */
  #auditing: Promise<void> | undefined;
  readonly #instance = `ratelimit:${process.pid}`;
  #timer: NodeJS.Timeout | undefined;
  #cpu = process.cpuUsage();
  #at = performance.now();
  #level = 0;
  #calmSince: number | undefined;
  #last: LoadSample = { lagMs: 0, cpuPercent: 0, memoryPercent: 0 };
  readonly #listeners = new Set<(level: number, sample: LoadSample) => void>();

  constructor(config: AdaptiveConfig, deps: LoadShedderDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#delay = monitorEventLoopDelay({ resolution: 10 });
    declareGauge(
      deps.registry,
      'gateway_ratelimit_shed_factor',
      'Share of the configured rates this process admits now (1 = no shedding), by class',
      ['class'],
      'min',
      (g) => SHED_CLASSES.forEach((c) => g.set({ class: c }, this.factor(c))),
    );
    declareGauge(
      deps.registry,
      'gateway_load_signal',
      'Load signals of the last check: event-loop lag p99 (ms), CPU (% of one core), heap (% of its limit)',
      ['signal'],
      'max',
      (g) => {
        g.set({ signal: 'event_loop_lag_ms' }, this.#last.lagMs);
        g.set({ signal: 'cpu_percent' }, this.#last.cpuPercent);
        g.set({ signal: 'memory_percent' }, this.#last.memoryPercent);
      },
    );
  }

  /** Starts the periodic check (unref'd: it never keeps the process alive). */
  start(): void {
    if (!this.#config.enabled || this.#timer) return;
    this.#delay.enable();
    this.#cpu = process.cpuUsage();
    this.#at = performance.now();
    this.#timer = setInterval(() => this.#check(), this.#config.checkIntervalMs);
    this.#timer.unref();
  }

  /** Stops the check; resolves once the audit of its last change, if one is still being written, is done. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#delay.disable();
    await this.#auditing;
  }

  get level(): number {
    return this.#level;
  }

  /** The share of the configured rates admitted now for this class of request (1 = no shedding). */
  factor(shedClass: ShedClass): number {
    const steps = shedClass === 'new_login' ? this.#level : Math.max(0, this.#level - 1);
    return steps === 0 ? 1 : Math.max(this.#config.minFactor, this.#config.factor ** steps);
  }

  /** Told of every check's level and signals (logs, tests). */
  onCheck(listener: (level: number, sample: LoadSample) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #sample(): LoadSample {
    const now = performance.now();
    const cpu = process.cpuUsage(this.#cpu);
    const elapsedMs = Math.max(1, now - this.#at);
    this.#cpu = process.cpuUsage();
    this.#at = now;
    // the histogram's p99 over the period, or this check's own lateness (a stall the histogram has not yet
    // recorded when the check runs first after it)
    const p99 = this.#delay.count > 0 ? this.#delay.percentile(99) / 1e6 : 0;
    const lagMs = Math.max(p99, elapsedMs - this.#config.checkIntervalMs);
    this.#delay.reset();
    const heap = getHeapStatistics();
    return {
      lagMs: Math.round(lagMs * 10) / 10,
      cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 1000) / 10,
      memoryPercent: Math.round((heap.used_heap_size / heap.heap_size_limit) * 1000) / 10,
    };
  }

  #check(): void {
    const sample = this.#sample();
    this.#last = sample;
    const c = this.#config;
    const over: string[] = [];
    if (sample.lagMs > c.eventLoopLagMs) over.push('event_loop_lag');
    if (sample.cpuPercent > c.cpuPercent) over.push('cpu');
    if (sample.memoryPercent > c.memoryPercent) over.push('memory');
    const now = performance.now();
    const before = this.#level;
    if (over.length > 0) {
      this.#calmSince = undefined;
      if (this.factor('in_flight') > c.minFactor) this.#level += 1;
    } else if (this.#level > 0) {
      this.#calmSince ??= now;
      if (now - this.#calmSince >= c.recoverAfterMs) this.#level = 0;
    }
    if (this.#level !== before) this.#changed(before, sample, over);
    for (const listener of this.#listeners) listener(this.#level, sample);
  }

  #changed(before: number, sample: LoadSample, over: string[]): void {
    const details = {
      level: this.#level,
      from: before,
      over,
      ...sample,
      newLoginFactor: this.factor('new_login'),
      inFlightFactor: this.factor('in_flight'),
    };
    const entering = before === 0;
    const leaving = this.#level === 0;
    this.#deps.logger[leaving ? 'info' : 'warn'](
      { code: leaving ? undefined : 'LOAD_SHEDDING', ...details },
      leaving ? 'load shedding ended' : entering ? 'load shedding started' : 'load shedding deepened',
    );
    if (!entering && !leaving) return;
    this.#auditing = this.#deps.audit
      ?.append({
        sessionId: this.#instance,
        from: entering ? 'NORMAL' : 'SHEDDING',
        to: entering ? 'SHEDDING' : 'NORMAL',
        component: 'ratelimit',
        ...(entering ? { errorCode: 'LOAD_SHEDDING' } : {}),
        details,
      })
      .then(() => undefined)
      .catch((err: unknown) => this.#deps.logger.error({ err }, 'audit of a load-shedding change failed'));
  }
}
