/**
 * Two gateway instances of one deployment (one PostgreSQL database, one Redis, one HSM token), for the tests
 * that prove instances share nothing but those: A as a child process (`node gateway/main.ts`) or in this
 * test's process (to reach its services), B always as a child process, and, when asked, a round-robin
 * balancer on the issuer's port in front of both.
 *
 * @example
 * const pair = await startTwoGateways({ name: 'gw-two-', first: 'process', balanced: true });
 * pair.backends = [pair.a.url]; // the balancer now sends everything to A
 * await pair.stop();
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  prepareDeployment,
  startGatewayInProcess,
  startGatewayProcess,
  type Deployment,
} from '../harness/deployment.ts';
import { freePort } from '../harness/services/free-port.ts';
import { startRoundRobinProxy, type RoundRobinProxy } from '../harness/services/round-robin-proxy.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from './services.ts';

type InProcess = Awaited<ReturnType<typeof startGatewayInProcess>>;
type ChildGateway = Awaited<ReturnType<typeof startGatewayProcess>>;
type First = 'process' | 'in-process';

export interface TwoGatewayOptions<F extends First> {
  /** The prefix of the temporary folder (config, logs `a.log` and `b.log`), unless `dir` is given. */
  name: string;
  dir?: string;
  /** Where A runs: a child process like B, or this test's process. */
  first: F;
  /** A round-robin balancer on the issuer's port in front of A and B (`backends` says where it sends). */
  balanced: boolean;
  /** The Redis server and prefix (default: the harness's, under a fresh prefix). */
  redis?: { url: string; keyPrefix: string };
  rpRedirectUri: string;
  logLevel: 'warn' | 'silent';
}

export interface TwoGateways<F extends First> {
  dir: string;
  pgUrl: string;
  deployment: Deployment;
  a: F extends 'in-process' ? InProcess : ChildGateway;
  b: ChildGateway;
  /** The balancer, when `balanced`. */
  balancer: RoundRobinProxy | undefined;
  /** Where the balancer sends requests, in turn (A and B at first); a test changes it at will. */
  backends: string[];
  /** Stops the balancer, B, A and the deployment (B or A already stopped or killed is fine). */
  stop(): Promise<void>;
}

export async function startTwoGateways<F extends First>(options: TwoGatewayOptions<F>): Promise<TwoGateways<F>> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), options.name));
  const publicPort = options.balanced ? await freePort() : undefined;
  const pgUrl = await freshDatabase();
  const deployment = await prepareDeployment({
    dir,
    pgUrl,
    redisUrl: options.redis?.url ?? redisUrl(),
    redisKeyPrefix: options.redis?.keyPrefix ?? redisPrefix(),
    token: freshToken(),
    ...(publicPort === undefined ? {} : { gatewayPort: publicPort }),
    rpRedirectUri: options.rpRedirectUri,
    logLevel: options.logLevel,
  });
  const a = (
    options.first === 'in-process'
      ? await startGatewayInProcess(deployment)
      : await startGatewayProcess(deployment, await freePort(), join(dir, 'a.log'))
  ) as TwoGateways<F>['a'];
  const b = await startGatewayProcess(deployment, await freePort(), join(dir, 'b.log'));
  const pair: TwoGateways<F> = {
    dir,
    pgUrl,
    deployment,
    a,
    b,
    balancer: undefined,
    backends: [a.url, b.url],
    async stop() {
      await pair.balancer?.stop();
      await b.stop();
      await a.stop();
      await deployment.stop();
    },
  };
  if (publicPort !== undefined) pair.balancer = await startRoundRobinProxy(publicPort, () => pair.backends);
  return pair;
}
