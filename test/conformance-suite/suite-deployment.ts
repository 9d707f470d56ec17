/**
 * A local gateway enrolled with the conformance suite's parties, as an operator would do it: the suite
 * IdP (started first, so its metadata file exists) registered as `conformance-idp`, the suite eIDAS node
 * as the eIDAS IdP `conformance-eidas` (metadata by URL, its trust anchor; the gateway gets a PS256 `saml`
 * key and a `saml_decryption` key for it), the suite RP as `conformance-rp`; and, as an operator stages a
 * rotation (`node hsm/cli.ts generate id_token RS256`), a next ID-token key published ahead of use. `issuerPort` lets a test put something (a deliberately broken proxy) in front of the
 * gateway: the gateway's issuer, SP metadata and ACS then all name the proxy.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSuiteEidasNode, type SuiteEidasNode } from '../../conformance/suite/parties/eidas-node.ts';
import { startSuiteIdp, type SuiteIdp } from '../../conformance/suite/parties/idp.ts';
import type { RpClient } from '../../conformance/suite/parties/rp.ts';
import { prepareDeployment, startGatewayInProcess } from '../harness/deployment.ts';
import { freePort, PortInUseError } from '../harness/services/free-port.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../helpers/services.ts';
import { startHttpsDocumentServer } from '../helpers/https-document-server.ts';

/** The enrolled deployment. */
export interface SuiteDeployment {
  /** The issuer (the proxy when `issuerPort` was given). */
  target: string;
  /** Where the gateway really listens. */
  gatewayUrl: string;
  idp: SuiteIdp;
  /** The suite eIDAS node (absent when started with `eidas: false`). */
  eidasNode?: SuiteEidasNode;
  client: RpClient;
  stop(): Promise<void>;
}

/**
 * Starts PostgreSQL-backed gateway in this process with the suite IdP and RP enrolled.
 *
 * @example const d = await startSuiteDeployment(); await runSuite({ target: d.target, client: d.client, idp: d.idp, plans });
 */
export async function startSuiteDeployment(options: SuiteDeploymentOptions = {}): Promise<SuiteDeployment> {
  // a port freePort() handed out may be taken meanwhile (by one of this deployment's own parties, listening on port
  // 0): start again on other ports, everything the attempt started stopped first
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (!(error instanceof PortInUseError) || options.issuerPort !== undefined || attempt >= 3) throw error;
    }
  }
}

interface SuiteDeploymentOptions {
  issuerPort?: number;
  eidas?: boolean;
  /**
   * An https issuer on the same address: what is in front of it (the test's TLS-terminating `fetch`,
   * tls-terminated-fetch.ts) sends its requests on to the plain-http listener.
   */
  https?: boolean;
}

/** One start; whatever it started is stopped when a later step fails (a server left listening keeps the worker alive). */
async function startOnce(options: SuiteDeploymentOptions): Promise<SuiteDeployment> {
  const stops: Array<() => Promise<unknown>> = [];
  try {
    return await startParts(options, stops);
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw error;
  }
}

async function startParts(
  options: SuiteDeploymentOptions,
  stops: Array<() => Promise<unknown>>,
): Promise<SuiteDeployment> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-conformance-'));
  const issuerPort = options.issuerPort ?? (await freePort());
  const listenPort = options.issuerPort === undefined ? issuerPort : await freePort();
  const target = `${options.https === true ? 'https' : 'http'}://127.0.0.1:${issuerPort}`;
  const rpPort = await freePort();
  const redirectUri = `http://127.0.0.1:${rpPort}/callback`;
  const postLogoutRedirectUri = `http://127.0.0.1:${rpPort}/`;
  // a second redirect host (another port) under a sector_identifier_uri served over https (OIDC-RPI-01)
  const alternateRedirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  const sectorDocs = await startHttpsDocumentServer();
  stops.push(() => sectorDocs.stop());
  sectorDocs.serve('/conformance-rp.sector.json', JSON.stringify([redirectUri, alternateRedirectUri]));
  const suiteIdp = await startSuiteIdp({
    idpId: 'conformance-idp',
    port: 0,
    spMetadataUrl: `${target}/saml/metadata`,
    keysDir: join(dir, 'suite-idp'),
  });
  stops.push(() => suiteIdp.stop());
  const metadataFile = join(dir, 'conformance-idp.metadata.xml');
  writeFileSync(metadataFile, await (await fetch(suiteIdp.idp.metadataUrl)).text());
  const node =
    options.eidas === false
      ? undefined
      : await startSuiteEidasNode({
          idpId: 'conformance-eidas',
          port: 0,
          spMetadataUrl: `${target}/saml/metadata`,
          keysDir: join(dir, 'suite-eidas'),
        });
  if (node !== undefined) stops.push(() => node.stop());
  const anchor = join(dir, 'conformance-eidas.trust-anchor.pem');
  if (node !== undefined) writeFileSync(anchor, node.node.trustAnchorPem);
  const eidasIdp =
    node === undefined
      ? []
      : [
          {
            id: 'conformance-eidas',
            kind: 'eidas',
            displayName: 'Conformance eIDAS node',
            metadataUrl: node.node.metadataUrl,
            entityId: node.node.entityId,
            maxLoa: 'http://eidas.europa.eu/LoA/high',
            metadata: { trustAnchorFiles: [anchor] },
            eidas: { country: 'DE' },
          },
        ];
  const deployment = await prepareDeployment({
    dir,
    pgUrl: await freshDatabase(),
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token: freshToken(),
    gatewayPort: issuerPort,
    rpRedirectUri: 'http://127.0.0.1:9/callback',
    logLevel: process.env.GW_TEST_LOG_LEVEL ?? 'silent',
    extraIdps: [
      {
        id: 'conformance-idp',
        displayName: 'Conformance IdP',
        metadataFile,
        maxLoa: 'http://eidas.europa.eu/LoA/high',
        nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
      },
      ...eidasIdp,
    ],
    ...(node === undefined
      ? {}
      : {
          extraKeys: [
            { purpose: 'saml' as const, alg: 'PS256' as const },
            { purpose: 'saml_decryption' as const, alg: 'RS256' as const },
          ],
        }),
    extraClients: [
      {
        client_id: 'conformance-rp',
        client_name: 'Conformance suite',
        client_secret: { env: 'GW_DEMO_RP_SECRET' },
        redirect_uris: [redirectUri, alternateRedirectUri],
        post_logout_redirect_uris: [postLogoutRedirectUri],
        sector_identifier_uri: `${sectorDocs.origin}/conformance-rp.sector.json`,
        // the suite's refresh checks (OIDC-REFRESH-01/02) run only for an RP registered for the grant
        grant_types: ['authorization_code', 'refresh_token'],
      },
    ],
  });
  stops.push(() => deployment.stop());
  deployment.rawConfig.sectorIdentifiers = { caFiles: [sectorDocs.caFile] };
  if (options.https === true) deployment.rawConfig.issuer = target;
  const gateway = await startGatewayInProcess(deployment, listenPort);
  stops.push(() => gateway.stop());
  // A rotation staged ahead, as `node hsm/cli.ts generate id_token RS256` does (state next: published, not signing).
  await gateway.gateway.services.lifecycle.keys.generate('id_token', 'RS256');
  await gateway.gateway.services.lifecycle.changed();
  return {
    target,
    gatewayUrl: gateway.url,
    idp: suiteIdp.idp,
    ...(node === undefined ? {} : { eidasNode: node.node }),
    client: {
      clientId: 'conformance-rp',
      clientSecret: deployment.client.client_secret,
      redirectUri,
      postLogoutRedirectUri,
      scope: 'openid profile email',
      alternateRedirectUri,
    },
    async stop() {
      await gateway.stop();
      await deployment.stop();
      await suiteIdp.stop();
      await node?.stop();
      await sectorDocs.stop();
    },
  };
}
