/**
 * One test file's gateway: its own database, Redis prefix and SoftHSM2 token, the demo IdP, and the
 * gateway booted in this process. Plus an openid-client RP configuration for it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { prepareDeployment, startGatewayInProcess, type Deployment } from '../harness/deployment.ts';
import { PortInUseError } from '../harness/services/free-port.ts';
import type { BootOptions, Gateway } from '../../gateway/boot.ts';
import { loginJourney } from './login-journey.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from './services.ts';

export const RP_REDIRECT = 'http://127.0.0.1:9/callback';

export interface GatewayFixture {
  /** The deployment's folder (its development PKI in `pki/`: the demo IdP's key, to sign as that IdP). */
  dir: string;
  deployment: Deployment;
  gateway: Gateway;
  url: string;
  /** The operations listener (admin API, /metrics, /ready). */
  opsUrl: string;
  token: ReturnType<typeof freshToken>;
  rp: oidc.Configuration;
  stop(): Promise<void>;
}

export async function startGatewayFixture(
  options: {
    extraClients?: unknown[];
    extraIdps?: unknown[];
    riskPolicyFile?: string;
    /** The issuer's host name (default 127.0.0.1; WebAuthn needs a domain: `localhost`). */
    gatewayHost?: string;
    boot?: BootOptions;
    rawConfig?: (raw: Record<string, unknown>) => void;
  } = {},
): Promise<GatewayFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-fixture-'));
  let token = freshToken();
  let deployment: Deployment;
  let running: Awaited<ReturnType<typeof startGatewayInProcess>>;
  // a port handed out by freePort() may be taken before the gateway binds it: start again on other ports
  for (let attempt = 1; ; attempt += 1) {
    if (attempt > 1) token = freshToken(); // the keys the first attempt made stay with its token
    deployment = await prepareDeployment({
      dir: attempt === 1 ? dir : join(dir, `attempt-${attempt}`),
      pgUrl: await freshDatabase(),
      redisUrl: redisUrl(),
      redisKeyPrefix: redisPrefix(),
      token,
      rpRedirectUri: RP_REDIRECT,
      extraClients: options.extraClients,
      extraIdps: options.extraIdps,
      ...(options.riskPolicyFile === undefined ? {} : { riskPolicyFile: options.riskPolicyFile }),
      ...(options.gatewayHost === undefined ? {} : { gatewayHost: options.gatewayHost }),
      logLevel: process.env.GW_TEST_LOG_LEVEL ?? 'silent',
    });
    options.rawConfig?.(deployment.rawConfig);
    try {
      running = await startGatewayInProcess(deployment, undefined, options.boot);
      break;
    } catch (error) {
      await deployment.stop();
      if (!(error instanceof PortInUseError) || attempt >= 3) throw error;
    }
  }
  const rp = await discoverRp(running.url, deployment);
  return {
    dir,
    deployment,
    gateway: running.gateway,
    url: running.url,
    opsUrl: running.opsUrl,
    token,
    rp,
    async stop() {
      await running.stop();
      await deployment.stop();
    },
  };
}

/** An authorization request as a careful RP makes it: code flow, PKCE S256, state, nonce. */
/** The deployment's demo RP as openid-client sees it, discovered from the gateway at `url` (http on loopback). */
export function discoverRp(url: string, deployment: Pick<Deployment, 'client'>): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(url), deployment.client.client_id, deployment.client.client_secret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
}

export async function authorizationRequest(rp: oidc.Configuration, extra: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid profile email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, verifier, state, nonce };
}

/**
 * A whole login of `username` at the demo IdP through `rp`, and its code redeemed (PKCE, state, nonce checked by
 * openid-client): the tokens. Throws, naming the RP's error, when the login ends without a code.
 */
export async function logInAndRedeem(rp: oidc.Configuration, username = 'jean') {
  const request = await authorizationRequest(rp);
  const journey = await loginJourney(request.url, { username, redirectUri: RP_REDIRECT });
  if (!journey.url.searchParams.get('code'))
    throw new Error(`the login ended without a code: ${journey.url.searchParams.get('error') ?? journey.url}`);
  return redeemCode(rp, request, journey.url);
}

/** The code `landing` (the RP's redirect URI with it) carries, redeemed for `request` (PKCE, state, nonce checked). */
export function redeemCode(
  rp: oidc.Configuration,
  request: Awaited<ReturnType<typeof authorizationRequest>>,
  landing: URL,
) {
  return oidc.authorizationCodeGrant(rp, landing, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
    idTokenExpected: true,
  });
}
