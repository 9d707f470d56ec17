/**
 * The gateway's metrics registry is prom-client's (issue #11 item 7): counters, gauges and latency
 * histograms, the default process metrics, and the text exposition (format 0.0.4).
 *
 * - one `Registry` per gateway instance (never prom-client's global one: tests boot several gateways in
 *   one process, and a worker names its registry to the cluster aggregator, cluster-metrics.ts);
 * - every metric is declared once with its label names; prom-client refuses a sample with an unknown
 *   label, and the TypeScript label types refuse it at compile time;
 * - `declare*` return the already-declared metric of that name (so a component may declare lazily), and
 *   refuse one declared with another type or other label names;
 * - the latency buckets are in seconds and bracket the budgets the product brief and BENCHMARKS.md name.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

/** The Content-Type of the text exposition format. */
export const EXPOSITION_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** Buckets (s) for a whole login, a request, a token response: 5 ms to 10 s. */
export const REQUEST_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Buckets (s) for one HSM signature or one risk stage (budgets of a few to a few hundred ms). */
export const FAST_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/**
 * The default process metrics, made once per process: prom-client's collector enables an event-loop delay
 * histogram (a timer waking the loop every 10 ms) and a GC observer that nothing ever stops, so making them per
 * registry would leave one of each running for every gateway a process booted and closed (tests, a worker that
 * restarts its gateway in place). They describe the process, not one gateway: every registry shares them.
 */
let processMetrics: readonly Metric[] | undefined;

function theProcessMetrics(): readonly Metric[] {
  if (processMetrics) return processMetrics;
  const own = new Registry();
  collectDefaultMetrics({ register: own });
  const made = own.getMetricsAsArray().map(({ name }) => own.getSingleMetric(name)!);
  processMetrics = made;
  return made;
}

/**
 * A registry, with the default process metrics (`process_cpu_seconds_total`, `process_start_time_seconds`,
 * `nodejs_eventloop_lag_seconds`, heap, GC, handles, ...) when `processMetrics`: the same metric objects in
 * every registry of the process (made once, above).
 *
 * @example
 * const registry = newRegistry({ processMetrics: true });
 * await registry.metrics(); // the text exposition
 */
export function newRegistry(options: { processMetrics: boolean }): Registry {
  const registry = new Registry();
  if (options.processMetrics) for (const metric of theProcessMetrics()) registry.registerMetric(metric);
  return registry;
}

function existing<M extends Metric>(
  registry: Registry,
  name: string,
  kind: string,
  labelNames: readonly string[],
  is: (m: Metric) => m is M,
): M | undefined {
  const found = registry.getSingleMetric(name);
  if (found === undefined) return undefined;
  const declared = (found as unknown as { labelNames: readonly string[] }).labelNames;
  if (!is(found) || [...declared].sort().join(',') !== [...labelNames].sort().join(','))
    throw new TypeError(`metric ${name} already declared differently (not a ${kind} {${labelNames.join(',')}})`);
  return found;
}

/** Declares (or returns the already declared) counter `name` on `registry`. */
export function declareCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
): Counter<L> {
  return (
    existing(registry, name, 'counter', labelNames, (m): m is Counter<L> => m instanceof Counter) ??
    new Counter<L>({ name, help, labelNames, registers: [registry] })
  );
}

/**
 * Declares (or returns) gauge `name`; `aggregator` says how the cluster aggregator merges workers' values;
 * `collect`, when given, sets the gauge at each scrape (a value read from elsewhere, e.g. a queue's depth).
 */
export function declareGauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  aggregator: 'sum' | 'max' | 'min' | 'first',
  collect?: (gauge: Gauge<L>) => void,
): Gauge<L> {
  return (
    existing(registry, name, 'gauge', labelNames, (m): m is Gauge<L> => m instanceof Gauge) ??
    new Gauge<L>({
      name,
      help,
      labelNames,
      aggregator,
      registers: [registry],
      ...(collect === undefined
        ? {}
        : {
            collect(this: Gauge<L>) {
              collect(this);
            },
          }),
    })
  );
}

/** Declares (or returns) histogram `name` with `buckets` (seconds). */
export function declareHistogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  buckets: readonly number[],
): Histogram<L> {
  return (
    existing(registry, name, 'histogram', labelNames, (m): m is Histogram<L> => m instanceof Histogram) ??
    new Histogram<L>({ name, help, labelNames, buckets: [...buckets], registers: [registry] })
  );
}
