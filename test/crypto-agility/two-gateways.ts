/**
 * Two gateway instances in this process on one PostgreSQL database, one Redis prefix and one SoftHSM2
 * token (same issuer, two ports), plus an `agile-rp` client whose ID-token algorithm the tests switch at
 * run time. Used by the rotation proof test and its benchmark.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BootOptions } from '../../gateway/boot.ts';
import { prepareDeployment, startGatewayInProcess, type Deployment } from '../harness/deployment.ts';
import { freePort } from '../harness/services/free-port.ts';
import { startRoundRobinProxy } from '../harness/services/round-robin-proxy.ts';
import { RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../helpers/services.ts';

export type RunningGateway = Awaited<ReturnType<typeof startGatewayInProcess>>;

export interface TwoGateways {
  deployment: Deployment;
  a: RunningGateway;
  b: RunningGateway;
  agile: { client_id: string; client_secret: string };
  stop(): Promise<void>;
}

export const AGILE_CLIENT = 'agile-rp';

export async function startTwoGateways(boot: BootOptions): Promise<TwoGateways> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-agility-'));
  const portA = await freePort();
  const deployment = await prepareDeployment({
    dir,
    pgUrl: await freshDatabase(),
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token: freshToken(),
    gatewayPort: portA,
    rpRedirectUri: RP_REDIRECT,
    logLevel: process.env.GW_TEST_LOG_LEVEL ?? 'silent',
    extraClients: [
      {
        client_id: AGILE_CLIENT,
        client_secret: { env: 'GW_DEMO_RP_SECRET' },
        redirect_uris: [RP_REDIRECT],
        id_token_signed_response_alg: 'ES256',
      },
    ],
  });
  const a = await startGatewayInProcess(deployment, portA, boot);
  const direct = await startGatewayInProcess(deployment, await freePort(), boot);
  // B is reached as through a load balancer: requests carry the issuer's host, as the gateway requires.
  const front = await startRoundRobinProxy(await freePort(), () => [direct.url], {
    publicHost: new URL(deployment.gatewayUrl).host,
  });
  const b: RunningGateway = {
    ...direct,
    url: front.url,
    stop: async () => {
      await front.stop();
      await direct.stop();
    },
  };
  return {
    deployment,
    a,
    b,
    agile: { client_id: AGILE_CLIENT, client_secret: deployment.env.GW_DEMO_RP_SECRET! },
    async stop() {
      await a.stop();
      await b.stop();
      await deployment.stop();
    },
  };
}
