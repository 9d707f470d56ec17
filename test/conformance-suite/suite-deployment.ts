/**
 * A local gateway enrolled with the conformance suite's parties, as an operator would do it: the suite
 * IdP (started first, so its metadata file exists) registered as `conformance-idp`, the suite RP as
 * `conformance-rp`. `issuerPort` lets a test put something (a deliberately broken proxy) in front of the
 * gateway: the gateway's issuer, SP metadata and ACS then all name the proxy.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSuiteIdp, type SuiteIdp } from '../../conformance/suite/parties/idp.ts';
import type { RpClient } from '../../conformance/suite/parties/rp.ts';
import { prepareDeployment, startGatewayInProcess } from '../harness/deployment.ts';
import { freePort } from '../harness/services/free-port.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../helpers/services.ts';

/** The enrolled deployment. */
export interface SuiteDeployment {
  /** The issuer (the proxy when `issuerPort` was given). */
  target: string;
  /** Where the gateway really listens. */
  gatewayUrl: string;
  idp: SuiteIdp;
  client: RpClient;
  stop(): Promise<void>;
}

/**
 * Starts PostgreSQL-backed gateway in this process with the suite IdP and RP enrolled.
 *
 * @example const d = await startSuiteDeployment(); await runSuite({ target: d.target, client: d.client, idp: d.idp, plans });
 */
export async function startSuiteDeployment(options: { issuerPort?: number } = {}): Promise<SuiteDeployment> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-conformance-'));
  const issuerPort = options.issuerPort ?? (await freePort());
  const listenPort = options.issuerPort === undefined ? issuerPort : await freePort();
  const target = `http://127.0.0.1:${issuerPort}`;
  const rpPort = await freePort();
  const redirectUri = `http://127.0.0.1:${rpPort}/callback`;
  const postLogoutRedirectUri = `http://127.0.0.1:${rpPort}/`;
  const suiteIdp = await startSuiteIdp({ idpId: 'conformance-idp', port: 0, spMetadataUrl: `${target}/saml/metadata`, keysDir: join(dir, 'suite-idp') });
  const metadataFile = join(dir, 'conformance-idp.metadata.xml');
  writeFileSync(metadataFile, await (await fetch(suiteIdp.idp.metadataUrl)).text());
  const deployment = await prepareDeployment({
    dir,
    pgUrl: await freshDatabase(),
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token: freshToken(),
    gatewayPort: issuerPort,
    rpRedirectUri: 'http://127.0.0.1:9/callback',
    logLevel: process.env.GW_TEST_LOG_LEVEL ?? 'silent',
    extraIdps: [{ id: 'conformance-idp', displayName: 'Conformance IdP', metadataFile, maxLoa: 'http://eidas.europa.eu/LoA/high' }],
    extraClients: [
      { client_id: 'conformance-rp', client_name: 'Conformance suite', client_secret: { env: 'GW_DEMO_RP_SECRET' }, redirect_uris: [redirectUri], post_logout_redirect_uris: [postLogoutRedirectUri] },
    ],
  });
  const gateway = await startGatewayInProcess(deployment, listenPort);
  return {
    target,
    gatewayUrl: gateway.url,
    idp: suiteIdp.idp,
    client: { clientId: 'conformance-rp', clientSecret: deployment.client.client_secret, redirectUri, postLogoutRedirectUri, scope: 'openid profile email' },
    async stop() {
      await gateway.stop();
      await deployment.stop();
      await suiteIdp.stop();
    },
  };
}
