/**
 * Metrics across worker processes (issue #11 item 7, for the performance work that runs several workers
 * with `node:cluster`): prom-client's AggregatorRegistry asks every worker for its registry over the
 * cluster IPC channel and merges the answers (counters and histograms summed per label set, gauges by their
 * declared aggregator, process metrics as prom-client declares them).
 *
 * - a worker calls {@link shareWithClusterPrimary} with its gateway registry (boot.ts does, when it runs in
 *   a cluster worker); outside a cluster it does nothing;
 * - the primary serves {@link ClusterMetrics.metrics} (e.g. on its own operations listener): one exposition
 *   for the whole machine.
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * In a cluster worker, answers the primary's metrics requests with `registry`. Returns whether it did.
 *
 * @example
 * shareWithClusterPrimary(metrics.registry);
 */
export function shareWithClusterPrimary(registry: Registry): boolean {
  if (!cluster.isWorker) return false;
  new AggregatorRegistry(); // installs the worker's IPC listener (once per process)
  AggregatorRegistry.setRegistries([registry]);
  return true;
}

/** The primary's view: the workers' registries merged into one exposition. */
export class ClusterMetrics {
  readonly #aggregator = new AggregatorRegistry();

  /** The aggregated text exposition (empty when no worker is connected); rejects after 5 s without an answer. */
  metrics(): Promise<string> {
    return this.#aggregator.clusterMetrics();
  }
}
