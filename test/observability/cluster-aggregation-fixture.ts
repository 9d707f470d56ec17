/**
 * Run by cluster-metrics-aggregate-workers.test.ts as `node cluster-aggregation-fixture.ts N`: the primary
 * forks N cluster workers; each declares the gateway's metrics on its own registry, shares it with the
 * primary (as boot.ts does in a worker), counts one completed login of 0.3 s and one ACS request, and says
 * it is ready; the primary then prints the aggregated exposition and stops the workers.
 *
 * `node cluster-aggregation-fixture.ts N restarted`: each worker first boots a gateway's metrics that count one
 * login, then "restarts it in place" (a second registry, shared again, with its own operations app's
 * cluster-aware reader) that counts one login; it reports its IPC `message` listeners before and after the
 * restart, which the primary writes to stderr as JSON.
 */
import cluster from 'node:cluster';
import {
  ClusterMetrics,
  clusterAwareMetrics,
  shareWithClusterPrimary,
} from '../../gateway/observability/cluster-metrics.ts';
import { GatewayMetrics } from '../../gateway/observability/gateway-metrics.ts';
import { newRegistry } from '../../gateway/observability/metrics.ts';

if (cluster.isPrimary) {
  const workers = Number(process.argv[2] ?? 2);
  const aggregated = new ClusterMetrics();
  let ready = 0;
  const listeners: unknown[] = [];
  cluster.on('message', (_worker, message: { ready?: boolean; listeners?: unknown }) => {
    if (message.ready !== true) return;
    listeners.push(message.listeners);
    if (++ready < workers) return;
    void aggregated.metrics().then((text) => {
      process.stdout.write(text);
      process.stderr.write(JSON.stringify({ listeners }));
      for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
    });
  });
  for (let i = 0; i < workers; i += 1) cluster.fork();
} else {
  const boot = (): GatewayMetrics => {
    const metrics = new GatewayMetrics(newRegistry({ processMetrics: true }));
    if (!shareWithClusterPrimary(metrics.registry)) throw new Error('not shared in a worker');
    clusterAwareMetrics(metrics.registry); // what the operations app reads
    metrics.transition('COMPLETED');
    metrics.loginEnded('COMPLETED', 0.3);
    metrics.httpRequest('POST', '/saml/acs', 303, 0.02);
    metrics.watchIdps(() => [{ id: 'idp-a', availability: 'available' }]);
    return metrics;
  };
  boot();
  const afterFirstBoot = process.listenerCount('message');
  if (process.argv[3] === 'restarted') boot();
  process.send?.({ ready: true, listeners: { afterFirstBoot, now: process.listenerCount('message') } });
}
