/**
 * A gateway with its own Redis server (so a test may FLUSHALL, stop or restart it without touching other
 * test files), its own database and token, and a person's whole login through it: the browser (with the
 * session cookie), the tokens and the session's `sid`.
 */
import { mkdtempSync } from 'node:fs';
import { permissivePolicyFile } from '../../helpers/permissive-policy.ts';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import {
  prepareDeployment,
  startGatewayInProcess,
  type Deployment,
  type DeploymentOptions,
} from '../../harness/deployment.ts';
import { PortInUseError } from '../../harness/services/free-port.ts';
import { recentLogLines } from '../../harness/recent-log-lines.ts';
import { startRedis, startRedisOnFreePort, type RedisHandle } from '../../harness/services/redis.ts';
import { formsIn, type Browser } from '../../helpers/browser.ts';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { freshDatabase, freshToken } from '../../helpers/services.ts';
import type { BootOptions, Gateway } from '../../../gateway/boot.ts';
import { withDpopNonce } from '../../helpers/dpop-proof.ts';

export interface SessionBed {
  dir: string;
  redis: RedisHandle;
  redisPort: number;
  deployment: Deployment;
  gateway: Gateway;
  url: string;
  /** The operations listener (metrics: `deployment.operatorTokens.alice`). */
  opsUrl: string;
  rp: oidc.Configuration;
  pgUrl: string;
  restartRedis(): Promise<void>;
  /**
   * Stops the gateway and starts it again on the same port, Redis, database and token, after `change` edited its
   * deployment (its config, its environment): a rolling restart with a new setting. `gateway`, `url` and `opsUrl`
   * are the new instance's after it.
   */
  restartGateway(change: (deployment: Deployment) => void): Promise<void>;
  stop(): Promise<void>;
}

export async function startSessionBed(
  options: {
    rpBackchannelLogoutUri?: string;
    rpSsf?: { endpoint: string; events: string[] };
    demoIdpWithoutSlo?: boolean;
    /** More upstream IdPs (raw `saml.idps` entries), and the gateway's port when they must know it beforehand. */
    extraIdps?: DeploymentOptions['extraIdps'];
    gatewayPort?: number;
    /** Extra HSM keys made before boot (e.g. an ES256 `saml` key). */
    extraKeys?: DeploymentOptions['extraKeys'];
    /** Fields of the demo client's config entry to set (e.g. its signing algorithms). */
    clientOverrides?: Record<string, unknown>;
    /** More RPs: each a copy of the demo client's config entry with these fields set (a `client_id` at least). */
    moreClients?: Array<Record<string, unknown> & { client_id: string }>;
    /** Top-level sections of the configuration to set (e.g. `ttl`). */
    config?: Record<string, unknown>;
    /** Fields of the `hsm` section to set (e.g. a pool of one session that lets nobody wait). */
    hsm?: Record<string, unknown>;
    /** Fields of the `federation` section to set (e.g. `completeAtResume: false`). */
    federation?: Record<string, unknown>;
    bootOptions?: BootOptions;
  } = {},
): Promise<SessionBed> {
  const {
    bootOptions,
    clientOverrides,
    moreClients = [],
    config = {},
    hsm,
    federation,
    ...deploymentOptions
  } = options;
  const dir = mkdtempSync(join(tmpdir(), 'gw-session-'));
  const bed = { dir } as SessionBed;
  bed.redis = await startRedisOnFreePort(join(dir, 'redis'));
  const redisPort = bed.redis.port;
  bed.redisPort = redisPort;
  let running!: Awaited<ReturnType<typeof startGatewayInProcess>>;
  // a bed that fails to start stops its Redis (a server left running keeps the test's worker alive)
  try {
    // These tests log the same person in from many fresh browsers; the default policy would (rightly) step
    // up the fifth new device. Sessions are under test here, not the risk policy: it never steps up.
    const policyFile = permissivePolicyFile(dir);
    // a port handed out by freePort() may be taken before the gateway binds it: start again on other ports
    for (let attempt = 1; ; attempt += 1) {
      // a database of its own per attempt, as the token is: the first attempt's DEK, wrapped under its token's KEK,
      // stays in its database (the INTERNAL 500s at the ACS of an earlier round's flaky runs)
      bed.pgUrl = await freshDatabase();
      bed.deployment = await prepareDeployment({
        dir: attempt === 1 ? dir : join(dir, `attempt-${attempt}`),
        pgUrl: bed.pgUrl,
        redisUrl: bed.redis.url,
        redisKeyPrefix: 'gw:',
        token: freshToken(),
        rpRedirectUri: RP_REDIRECT,
        logLevel: process.env.GW_TEST_LOG_LEVEL ?? 'silent',
        riskPolicyFile: policyFile,
        ...deploymentOptions,
      });
      const clients = bed.deployment.rawConfig.clients as Record<string, unknown>[];
      if (clientOverrides) clients[0] = { ...clients[0], ...clientOverrides };
      for (const more of moreClients) clients.push({ ...clients[0], ...more });
      Object.assign(bed.deployment.rawConfig, config);
      if (hsm) bed.deployment.rawConfig.hsm = { ...(bed.deployment.rawConfig.hsm as object), ...hsm };
      if (federation)
        bed.deployment.rawConfig.federation = { ...(bed.deployment.rawConfig.federation as object), ...federation };
      try {
        running = await startGatewayInProcess(bed.deployment, undefined, bootOptions);
        break;
      } catch (error) {
        await bed.deployment.stop();
        if (!(error instanceof PortInUseError) || attempt >= 3) throw error;
      }
    }
  } catch (error) {
    await bed.redis.stop();
    throw error;
  }
  bed.gateway = running.gateway;
  bed.url = running.url;
  bed.opsUrl = running.opsUrl;
  bed.rp = await oidc.discovery(
    new URL(running.url),
    bed.deployment.client.client_id,
    bed.deployment.client.client_secret,
    undefined,
    { execute: [oidc.allowInsecureRequests] },
  );
  bed.restartRedis = async () => {
    bed.redis = await startRedis(join(dir, 'redis'), redisPort);
  };
  bed.restartGateway = async (change) => {
    await running.stop();
    change(bed.deployment);
    running = await startGatewayInProcess(bed.deployment, undefined, bootOptions);
    [bed.gateway, bed.url, bed.opsUrl] = [running.gateway, running.url, running.opsUrl];
  };
  bed.stop = async () => {
    await running.stop();
    await bed.deployment.stop();
    await bed.redis.stop();
  };
  return bed;
}

export interface LoggedIn {
  browser: Browser;
  accessToken: string;
  idToken: string;
  sid: string;
  sub: string;
}

/**
 * Exchanges a code at the token endpoint (client_secret_basic; `dpop`: makes the DPoP proof, with the server's
 * nonce once it asked for one, for bound tokens).
 */
export async function redeem(
  bed: { url: string; deployment: Deployment },
  code: string,
  verifier: string,
  dpop?: (nonce?: string) => Promise<string>,
): Promise<{ access_token: string; id_token: string; token_type: string }> {
  const { client_id, client_secret } = bed.deployment.client;
  const response = await withDpopNonce(async (nonce) =>
    fetch(`${bed.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`,
        ...(dpop === undefined ? {} : { dpop: await dpop(nonce) }),
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: RP_REDIRECT,
        code_verifier: verifier,
      }),
    }),
  );
  if (response.status !== 200) throw new Error(`token endpoint answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { access_token: string; id_token: string; token_type: string };
}

/** A request to the token endpoint as demo-rp (`client_secret_basic`), whatever it answers: its JSON body. */
export async function tokenEndpoint(
  bed: { url: string; deployment: Deployment },
  body: Record<string, string>,
): Promise<Record<string, string>> {
  const { client_id, client_secret } = bed.deployment.client;
  const response = await fetch(`${bed.url}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`,
    },
    body: new URLSearchParams(body),
  });
  return (await response.json()) as Record<string, string>;
}

/**
 * jean logs in to demo-rp (at `idp`, in `browser` when given, with `extra` authorization parameters); the RP
 * redeems the code.
 */
export async function logIn(
  bed: { url: string; deployment: Deployment; rp: oidc.Configuration },
  options: { idp?: string; browser?: Browser; extra?: Record<string, string> } = {},
): Promise<LoggedIn> {
  const request = await authorizationRequest(bed.rp, options.extra);
  const journey = await loginJourney(request.url, {
    username: 'jean',
    redirectUri: RP_REDIRECT,
    ...(options.idp ? { idp: options.idp } : {}),
    ...(options.browser ? { browser: options.browser } : {}),
  });
  const code = journey.url.searchParams.get('code');
  if (!code)
    throw new Error(
      `login failed: ${journey.url} ${journey.html.slice(0, 600)} ${journey.html.slice(-1500)}\n${recentLogLines()}`,
    );
  const tokens = await redeem(bed, code, request.verifier);
  const claims = decodeJwt(tokens.id_token);
  return {
    browser: journey.browser,
    accessToken: tokens.access_token,
    idToken: tokens.id_token,
    sid: String(claims.sid),
    sub: String(claims.sub),
  };
}

/**
 * RP-initiated logout of the whole session (`logout=yes` on the confirmation form), through the IdP's single
 * logout when it takes part: the URL the browser ends at (the RP's post-logout redirect URI when it went well) and
 * the forms it posted on the way (`beforePost` is told each one before it is posted).
 */
export async function logOutAtTheRp(
  bed: { rp: oidc.Configuration; deployment: Deployment },
  session: LoggedIn,
  /** Called before each form the browser posts (`action`: where it goes), e.g. to restart the gateway meanwhile. */
  beforePost?: (action: string) => Promise<void>,
) {
  const plru = new URL('/', bed.deployment.client.redirect_uri).toString();
  const atPlru = (u: URL) => u.href.startsWith(plru);
  const endpoint = new URL(String(bed.rp.serverMetadata().end_session_endpoint));
  endpoint.searchParams.set('id_token_hint', session.idToken);
  endpoint.searchParams.set('post_logout_redirect_uri', plru);
  let step = await session.browser.follow(endpoint, {}, atPlru);
  const visited: string[] = [];
  for (let i = 0; i < 6 && !atPlru(step.url) && step.response.status === 200; i++) {
    const form = formsIn(await step.response.text()).find((f) => f.method === 'POST');
    if (form === undefined) break;
    visited.push(new URL(form.action, step.url).href);
    await beforePost?.(visited.at(-1)!);
    step = await session.browser.submit(form, step.url, { logout: 'yes' }, atPlru);
  }
  return { url: step.url, atPlru: atPlru(step.url), visited };
}

/** One HTTP request to `baseUrl` (optionally with another Host: the issuer's, for a second instance). */
function call(
  baseUrl: string,
  path: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  host?: string,
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: init.method, headers: { ...init.headers, ...(host ? { host } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/** GET /me with a bearer token: the status and, when 200, the claims. */
export async function userinfo(
  baseUrl: string,
  accessToken: string,
  host?: string,
): Promise<{ status: number; claims?: Record<string, unknown>; wwwAuthenticate: string | null }> {
  const response = await call(
    baseUrl,
    '/me',
    { method: 'GET', headers: { authorization: `Bearer ${accessToken}` } },
    host,
  );
  const wwwAuthenticate = (response.headers['www-authenticate'] as string | undefined) ?? null;
  if (response.status !== 200) return { status: response.status, wwwAuthenticate };
  return { status: 200, claims: JSON.parse(response.text) as Record<string, unknown>, wwwAuthenticate };
}

/** POST /token/introspection as the RP: `active`. */
export async function introspect(
  baseUrl: string,
  deployment: Deployment,
  token: string,
  host?: string,
): Promise<boolean> {
  const { client_id, client_secret } = deployment.client;
  const response = await call(
    baseUrl,
    '/token/introspection',
    {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token }).toString(),
    },
    host,
  );
  if (response.status !== 200) throw new Error(`introspection answered ${response.status} ${response.text}`);
  return (JSON.parse(response.text) as { active: boolean }).active;
}
