/**
 * The cluster primary (issue #14 item 4): `workers` processes (node:cluster) serve the one public port and the
 * one operations port; they share only PostgreSQL, Redis and the HSM token (each opens its own PKCS#11
 * sessions). The primary boots nothing of the gateway itself:
 *
 * - forks `workers` workers (each runs gateway/main.ts, which boots the gateway and listens);
 * - tells its own parent it is ready (`process.send({ ready: true })`) once every first worker is;
 * - a worker that dies before the first round is ready stops the whole process with its exit code (a boot
 *   failure — bad configuration, PostgreSQL unreachable — is not retried forever);
 * - later, a worker that dies is replaced after a backoff (0.5 s doubling to 30 s; back to 0.5 s once a
 *   worker has lived 60 s), each death and restart logged; a worker whose configuration is not the one the cluster
 *   started with (the file or a secret changed meanwhile: config-fingerprint.ts) refuses to serve and is not replaced,
 *   and with no worker left the primary exits with that code (78) for its supervisor to start it on the new one;
 * - SIGTERM/SIGINT/SIGHUP are forwarded as SIGTERM to every worker, which drains (stops accepting, finishes
 *   in-flight requests, releases its resources); the primary exits when all have, 1 if one failed;
 * - answers the workers' /metrics requests with every worker's registry aggregated (cluster-metrics.ts).
 */
import cluster, { type Worker } from 'node:cluster';
import { createLogger } from '../observability/logger.ts';
import { CONFIG_CHANGED_EXIT, FINGERPRINT_ENV } from './config-fingerprint.ts';
import { answerWorkersMetrics, ClusterMetrics } from '../observability/cluster-metrics.ts';

const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
const HEALTHY_AFTER_MS = 60_000;
const DRAIN_LIMIT_MS = 15_000;

/** Runs the primary of `workers` gateway workers; never returns (the process exits when they have drained). */
export function runClusterPrimary(options: { workers: number; logLevel: string; configFingerprint: string }): void {
  const logger = createLogger(options.logLevel, 'gateway-primary');
  answerWorkersMetrics(new ClusterMetrics());
  const started = new Map<number, number>(); // worker id → fork time
  let readyCount = 0;
  let allReady = false;
  let stopping = false;
  let failures = 0;
  let failedExit = false;

  const fork = (): Worker => {
    const worker = cluster.fork({ [FINGERPRINT_ENV]: options.configFingerprint });
    started.set(worker.id, Date.now());
    worker.on('message', (message: { ready?: boolean }) => {
      if (message?.ready !== true || allReady) return;
      readyCount += 1;
      if (readyCount === options.workers) {
        allReady = true;
        logger.info({ workers: options.workers }, 'gateway cluster ready');
        process.send?.({ ready: true });
      }
    });
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (started.get(worker.id) ?? Date.now());
    started.delete(worker.id);
    if (code !== 0) failedExit = true;
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(failedExit ? 1 : 0);
      return;
    }
    if (!allReady) {
      logger.error(
        { worker: worker.id, workerPid: worker.process.pid, code, signal },
        'a worker died before the gateway was ready: stopping',
      );
      stopAll();
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(code || 1);
      return;
    }
    if (code === CONFIG_CHANGED_EXIT) {
      // its configuration is no longer the one this cluster serves: restarting it would only fail again
      logger.error(
        { worker: worker.id, workerPid: worker.process.pid, workersLeft: Object.keys(cluster.workers ?? {}).length },
        'a worker read a configuration other than the one the cluster started with: not restarted; restart the gateway to apply the new one',
      );
      // none left: the gateway stops, so that its supervisor starts it again on the new configuration
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        logger.error('no worker left to serve the configuration the cluster started with: stopping');
        process.exit(CONFIG_CHANGED_EXIT);
      }
      return;
    }
    failures = lived >= HEALTHY_AFTER_MS ? 0 : failures + 1;
    const delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** Math.max(0, failures - 1));
    logger.error(
      { worker: worker.id, workerPid: worker.process.pid, code, signal, livedMs: lived, restartInMs: delay },
      'worker died: restarting it',
    );
    setTimeout(() => {
      if (stopping) return;
      const replacement = fork();
      logger.warn(
        { worker: replacement.id, workerPid: replacement.process.pid, replaces: worker.id },
        'worker restarted',
      );
    }, delay);
  });

  const stopAll = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  const stop = (signal: string) => {
    if (stopping) return;
    logger.info({ signal }, 'shutting down: draining every worker');
    stopAll();
    setTimeout(() => process.exit(1), DRAIN_LIMIT_MS).unref();
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // a closed terminal or a service manager's reload: the same drain, never Node's default (an exit, no drain)
  process.on('SIGHUP', () => stop('SIGHUP'));

  for (let i = 0; i < options.workers; i += 1) fork();
  logger.info({ workers: options.workers }, 'gateway cluster primary: forking workers');
}
