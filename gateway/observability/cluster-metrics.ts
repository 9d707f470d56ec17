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
  // Each AggregatorRegistry made in a worker adds an IPC listener that answers with the shared registries:
  // one per process, so a gateway restarted in place does not answer twice (or leak a listener per boot).
  if (!answeringThePrimary) answeringThePrimary = new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]); // the latest gateway's: a closed one's no longer counts
  return true;
}

let answeringThePrimary: AggregatorRegistry<'text/plain; version=0.0.4; charset=utf-8'> | undefined;

/** The primary's view: the workers' registries merged into one exposition. */
export class ClusterMetrics {
  readonly #aggregator = new AggregatorRegistry();

  /** The aggregated text exposition (empty when no worker is connected); rejects after 5 s without an answer. */
  metrics(): Promise<string> {
    return this.#aggregator.clusterMetrics();
  }
}

const ASK = 'gateway:cluster-metrics?';
const ANSWER = 'gateway:cluster-metrics=';
type Answer = { type: typeof ANSWER; id: number; text?: string; error?: string };

// One listener per process for the primary's answers, however many operations apps the process made (a
// gateway restarted in place makes a new one): ids are unique across them.
let next = 0;
const waiting = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
let listening = false;

function listenForAnswers(): void {
  if (listening) return;
  listening = true;
  process.on('message', (message: Answer) => {
    if (message?.type !== ANSWER) return;
    const pending = waiting.get(message.id);
    if (!pending) return;
    waiting.delete(message.id);
    if (message.text !== undefined) pending.resolve(message.text);
    else pending.reject(new Error(message.error ?? 'no metrics from the cluster primary'));
  });
}

/**
 * What a /metrics route reads. In a cluster worker (whose operations listener shares its port with the
 * other workers, so any of them may receive a scrape): the primary's aggregation of every worker, asked
 * over IPC; elsewhere `registry` itself. Rejects after 6 s without an answer.
 */
export function clusterAwareMetrics(registry: Pick<Registry, 'metrics'>): Pick<Registry, 'metrics'> {
  if (!cluster.isWorker) return registry;
  listenForAnswers();
  return {
    metrics: () =>
      new Promise<string>((resolve, reject) => {
        const id = ++next;
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error('the cluster primary did not answer a metrics request within 6 s'));
        }, 6_000);
        waiting.set(id, {
          resolve: (t) => (clearTimeout(timer), resolve(t)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        process.send?.({ type: ASK, id });
      }),
  };
}

/** In the primary: answers every worker's {@link clusterAwareMetrics} request with the aggregated exposition. */
export function answerWorkersMetrics(metrics: ClusterMetrics): void {
  cluster.on('message', (worker, message: { type?: string; id?: number }) => {
    if (message?.type !== ASK || typeof message.id !== 'number') return;
    const id = message.id;
    metrics.metrics().then(
      (text) => worker.isConnected() && worker.send({ type: ANSWER, id, text } satisfies Answer),
      (error: unknown) =>
        worker.isConnected() && worker.send({ type: ANSWER, id, error: (error as Error).message } satisfies Answer),
    );
  });
}
