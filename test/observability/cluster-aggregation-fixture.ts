/**
 * Run by cluster-metrics-aggregate-workers.test.ts as `node cluster-aggregation-fixture.ts N`: the primary
 * forks N cluster workers; each declares the gateway's metrics on its own registry, shares it with the
 * primary (as boot.ts does in a worker), counts one completed login of 0.3 s and one ACS request, and says
 * it is ready; the primary then prints the aggregated exposition and stops the workers.
 */
import cluster from 'node:cluster';
import { ClusterMetrics, shareWithClusterPrimary } from '../../gateway/observability/cluster-metrics.ts';
import { GatewayMetrics } from '../../gateway/observability/gateway-metrics.ts';
import { newRegistry } from '../../gateway/observability/metrics.ts';

if (cluster.isPrimary) {
  const workers = Number(process.argv[2] ?? 2);
  const aggregated = new ClusterMetrics();
  let ready = 0;
  cluster.on('message', (_worker, message: { ready?: boolean }) => {
    if (message.ready !== true || ++ready < workers) return;
    void aggregated.metrics().then((text) => {
      process.stdout.write(text);
      for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
    });
  });
  for (let i = 0; i < workers; i += 1) cluster.fork();
} else {
  const metrics = new GatewayMetrics(newRegistry({ processMetrics: true }));
  if (!shareWithClusterPrimary(metrics.registry)) throw new Error('not shared in a worker');
  metrics.transition('COMPLETED');
  metrics.loginEnded('COMPLETED', 0.3);
  metrics.httpRequest('POST', '/saml/acs', 303, 0.02);
  metrics.watchIdps(() => [{ id: 'idp-a', availability: 'available' }]);
  process.send?.({ ready: true });
}
