/**
 * `node gateway/main.ts [--config FILE]` (or GW_CONFIG): validates the configuration, boots the gateway,
 * listens on the configured loopback/host address (and, when `ops.enabled`, the operations listener on
 * `ops.listen`: admin API, /metrics, /ready), and shuts down gracefully on SIGINT/SIGTERM/SIGHUP
 * (stops accepting, finishes in-flight requests, then releases PostgreSQL, Redis and the HSM).
 *
 * With `workers` > 1 (default: the number of cores) this process is the cluster primary (cluster/primary.ts):
 * it forks that many workers, each of which runs this file again and does the above on the shared ports.
 */
import cluster from 'node:cluster';
import { createServer, type Server } from 'node:http';
import { createOpsServer, opsScheme, SERVER_TIMEOUTS } from './http/ops-server.ts';
import { answerClientErrors } from './http/client-error.ts';
import { attachUpgrade } from './interaction/signals-websocket.ts';
import { bootGateway } from './boot.ts';
import { loadConfigFile } from './config/load.ts';
import { GatewayError } from './errors.ts';
import { runClusterPrimary } from './cluster/primary.ts';
import { CONFIG_CHANGED_EXIT, configFingerprint, FINGERPRINT_ENV } from './cluster/config-fingerprint.ts';
import type { GatewayConfig } from './config/types.ts';

const flag = process.argv.indexOf('--config');
const file = flag !== -1 ? process.argv[flag + 1] : process.env.GW_CONFIG;
if (!file) {
  console.error('gateway: no configuration: pass --config FILE or set GW_CONFIG');
  process.exit(2);
}

let config;
try {
  config = loadConfigFile(file);
} catch (error) {
  if (error instanceof GatewayError) {
    console.error(`gateway: ${error.message}`);
    process.exit(2);
  }
  throw error;
}

// a worker serves the configuration its primary started with, or nothing (cluster/config-fingerprint.ts)
const primaryFingerprint = cluster.isWorker ? process.env[FINGERPRINT_ENV] : undefined;
if (primaryFingerprint !== undefined && primaryFingerprint !== configFingerprint(config)) {
  console.error(
    'gateway: the configuration (its file or a secret it names) changed since the cluster started: this worker does not serve it; restart the gateway to apply it',
  );
  process.exit(CONFIG_CHANGED_EXIT);
}

if (config.workers > 1 && cluster.isPrimary) {
  runClusterPrimary({
    workers: config.workers,
    logLevel: config.logging.level,
    configFingerprint: configFingerprint(config),
  });
} else {
  await serveGateway(config);
}

async function serveGateway(config: GatewayConfig): Promise<void> {
  const gateway = await bootGateway(config).catch((error: unknown) => {
    console.error(`gateway: cannot start: ${(error as Error).message}`);
    process.exit(1);
  });
  // a client that sends its headers slowly holds a socket 15 s, its whole request 60 s (an ACS post of 512 KiB over
  // a slow mobile uplink fits), checked every 5 s (Node's default check, every 30 s, would let each last 30 s more)
  const server = createServer(
    SERVER_TIMEOUTS,
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's handler settles each request itself (ctx.onerror): its promise never rejects
    gateway.app.callback(),
  );
  const sideChannel = attachUpgrade(server, gateway.services);
  answerClientErrors(server, gateway.services.logger);
  server.keepAliveTimeout = 5_000;
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's handler settles each request itself (ctx.onerror): its promise never rejects
  const opsServer = config.ops.enabled ? createOpsServer(config.ops, gateway.opsApp.callback()) : undefined;
  if (opsServer) answerClientErrors(opsServer, gateway.services.logger);
  const listening = (target: Server, port: number, host: string) =>
    new Promise<void>((resolve, reject) => {
      target.once('error', reject);
      target.listen(port, host, () => resolve());
    });
  try {
    await listening(server, config.listen.port, config.listen.host);
    if (opsServer) await listening(opsServer, config.ops.listen.port, config.ops.listen.host);
  } catch (error) {
    console.error(`gateway: cannot listen: ${(error as Error).message}`);
    process.exit(1);
  }
  gateway.services.logger.info(
    {
      issuer: config.issuer,
      host: config.listen.host,
      port: config.listen.port,
      ops: opsServer ? { ...config.ops.listen, scheme: opsScheme(config.ops) } : 'off',
    },
    'gateway listening',
  );
  process.send?.({ ready: true });

  /** How long in-flight requests have before their connections are cut (the force exit comes at 10 s). */
  const SHUTDOWN_GRACE_MS = 5_000;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    gateway.services.logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    // both listeners closed (their requests finished: an operator's revocation writes its audit record) before
    // the gateway's parts close
    const opsClosed = new Promise<void>((resolve) => (opsServer ? opsServer.close(() => resolve()) : resolve()));
    opsServer?.closeIdleConnections();
    sideChannel.closeAll(); // the login pages' sockets: server.close() would wait minutes for them
    server.close(() => {
      void opsClosed
        .then(() => gateway.close())
        .then(
          () => process.exit(0),
          (err: unknown) => {
            gateway.services.logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
    });
    server.closeIdleConnections();
    // a connection whose request began and never ends (a client that sent half its headers): server.close() stops the
    // timeouts' checks, so it held the close for ever and the 10 s force skipped gateway.close() — no drain of the
    // deliveries, no audit spool or HSM closed. After the grace, every connection left is cut
    const grace = setTimeout(() => {
      gateway.services.logger.warn({ signal }, 'shutting down: connections still open after the grace are closed');
      server.closeAllConnections();
      opsServer?.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    grace.unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // a closed terminal or a service manager's reload: the same drain, never Node's default (an exit, no drain)
  process.on('SIGHUP', () => stop('SIGHUP'));
}
