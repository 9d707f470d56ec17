/**
 * The crypto-agility scenario: concurrent complete logins (scripted browser + openid-client, each step
 * alternating between two gateway instances) while instance A rotates the ID-token keys of `agile-rp`
 * again and again and cycles its algorithm ES256 → EdDSA → PS256 → ES256.
 *
 * Each rotation follows the lifecycle: generate a `next` key (published at once), wait the lead time,
 * activate it (the old key is retired and stays published). An algorithm switch waits longer
 * (`switchLeadMs` ≥ the longest login: the RP reads discovery at the start of its login and rejects an
 * alg it did not list), activates the new key next to the old one, switches the client, then retires
 * the old algorithm's key.
 *
 * Every ID token is verified with jose against `/jwks` fetched, at that moment, from a random instance;
 * at the end every token collected is verified again against the final `/jwks` of both instances.
 */
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import * as oidc from 'openid-client';
import type { AlgorithmName } from '../../hsm/algorithms.ts';
import { Browser } from '../helpers/browser.ts';
import { authorizationRequest, RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import { loginJourney } from '../helpers/login-journey.ts';
import { AGILE_CLIENT, type TwoGateways } from './two-gateways.ts';

/** 20 rotations; the three algorithm switches are among them. */
export const ROTATION_PLAN: readonly AlgorithmName[] = [
  'ES256',
  'ES256',
  'ES256',
  'ES256',
  'ES256',
  'ES256',
  'EdDSA',
  'EdDSA',
  'EdDSA',
  'EdDSA',
  'EdDSA',
  'PS256',
  'PS256',
  'PS256',
  'ES256',
  'ES256',
  'ES256',
  'ES256',
  'ES256',
  'ES256',
];

export interface RotationLoadResult {
  logins: number;
  failures: string[];
  rotations: number;
  algorithmSwitches: number;
  /** ID-token alg → how many logins got one. */
  algs: Record<string, number>;
  kids: number;
  /** Tokens that no longer verify against the final JWKS of either instance. */
  lateFailures: string[];
  providerGenerations: { a: number; b: number };
  durationMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A browser sending every other gateway request to instance B (same issuer, another port). */
class AlternatingBrowser extends Browser {
  readonly #portA: string;
  readonly #portB: string;
  #n = 0;
  constructor(portA: string, portB: string) {
    super();
    this.#portA = portA;
    this.#portB = portB;
  }
  override async request(url: string | URL, init: { method?: string; form?: Record<string, string> } = {}) {
    const target = new URL(url);
    if (target.port === this.#portA && this.#n++ % 2 === 1) target.port = this.#portB;
    return super.request(target, init);
  }
}

async function oneLogin(
  env: TwoGateways,
  worker: number,
  seq: number,
  browser: Browser,
): Promise<{ idToken: string; alg: string; kid: string }> {
  const portA = new URL(env.a.url).port;
  const portB = new URL(env.b.url).port;
  const toB = seq % 2 === 1;
  const rewrite = (u: URL | string) => {
    const target = new URL(u);
    if (toB && target.port === portA) target.port = portB;
    return target;
  };
  // A careful RP reads discovery (here per login, from the instance it talks to) and checks the ID token alg against it.
  const rp = await oidc.discovery(
    new URL(env.deployment.gatewayUrl),
    AGILE_CLIENT,
    env.agile.client_secret,
    undefined,
    {
      execute: [oidc.allowInsecureRequests],
      [oidc.customFetch]: (url: string, options: RequestInit) => fetch(rewrite(url), options),
    } as oidc.DiscoveryRequestOptions,
  );
  rp[oidc.customFetch] = ((url: string, options: RequestInit) =>
    fetch(rewrite(url), options)) as unknown as oidc.CustomFetch;
  // One browser per person (a familiar device for the risk pipeline); prompt=login makes every login a
  // complete one (chooser, signed AuthnRequest, IdP, ACS) despite the session cookie.
  const request = await authorizationRequest(rp, { prompt: 'login' });
  const journey = await loginJourney(request.url, {
    username: worker % 2 === 0 ? 'marie' : 'jean',
    redirectUri: RP_REDIRECT,
    browser,
  });
  if (!journey.url.searchParams.get('code'))
    throw new Error(`no code: ${journey.url} ${journey.status} ${journey.html.slice(0, 200)}`);
  const tokens = await oidc.authorizationCodeGrant(rp, journey.url, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
  const idToken = tokens.id_token!;
  const jwksFrom = Math.random() < 0.5 ? env.a.url : env.b.url;
  const jwks = (await (await fetch(`${jwksFrom}/jwks`)).json()) as JSONWebKeySet;
  const { protectedHeader } = await jwtVerify(idToken, createLocalJWKSet(jwks), {
    issuer: env.deployment.gatewayUrl,
    audience: AGILE_CLIENT,
  });
  return { idToken, alg: protectedHeader.alg, kid: protectedHeader.kid! };
}

async function converged(env: TwoGateways): Promise<void> {
  const target = env.a.gateway.services.lifecycle.keys.version;
  while (env.b.gateway.services.lifecycle.keys.version < target) await sleep(10);
}

/** Runs the scenario; `leadTimeMs` must match the gateways' boot option. */
export async function runRotationsUnderLoad(
  env: TwoGateways,
  options: { concurrency: number; leadTimeMs: number; switchLeadMs: number; plan?: readonly AlgorithmName[] },
): Promise<RotationLoadResult> {
  const started = Date.now();
  const lifecycle = env.a.gateway.services.lifecycle;
  const keys = lifecycle.keys;
  const result: RotationLoadResult = {
    logins: 0,
    failures: [],
    rotations: 0,
    algorithmSwitches: 0,
    algs: {},
    kids: 0,
    lateFailures: [],
    providerGenerations: { a: 0, b: 0 },
    durationMs: 0,
  };
  const issued: Array<{ idToken: string; kid: string }> = [];
  const kids = new Set<string>();
  let done = false;
  let seq = 0;

  const worker = async (id: number) => {
    const browser = new AlternatingBrowser(new URL(env.a.url).port, new URL(env.b.url).port);
    while (!done) {
      try {
        const login = await oneLogin(env, id, seq++, browser);
        issued.push(login);
        kids.add(login.kid);
        result.algs[login.alg] = (result.algs[login.alg] ?? 0) + 1;
      } catch (error) {
        let cause = (error as { cause?: unknown }).cause;
        if (cause instanceof Response)
          cause = { status: cause.status, url: cause.url, body: await cause.text().catch(() => '') };
        if (cause instanceof Error) cause = { message: cause.message, cause: (cause as { cause?: unknown }).cause };
        const text = `${(error as Error).message} ${(error as { code?: string }).code ?? ''} ${cause ? JSON.stringify(cause, (_k, v: unknown) => (typeof v === 'string' && v.length > 120 ? `${v.slice(0, 120)}…` : v)) : ''}`;
        result.failures.push(
          text
            .replace(/<style>[\s\S]*?<\/style>/g, '')
            .replace(/<[^>]+>/g, ' ')
            .replace(/\s+/g, ' ')
            .trim()
            .slice(0, 600),
        );
      }
      result.logins += 1;
    }
  };
  const workers = Array.from({ length: options.concurrency }, (_, i) => worker(i));

  let current: AlgorithmName = 'ES256';
  try {
    for (const target of options.plan ?? ROTATION_PLAN) {
      const next = await keys.generate('id_token', target);
      await lifecycle.changed();
      // A new algorithm is announced longer ahead (discovery lists the algorithms of next keys): an RP
      // checks the ID token's alg against the discovery document it read, possibly a whole login earlier.
      await sleep(target === current ? options.leadTimeMs : options.switchLeadMs);
      await converged(env);
      if (target === current) {
        await keys.activate(next.kid);
        await lifecycle.changed();
      } else {
        const old = keys
          .activeSigners('id_token')
          .filter((s) => s.alg === current)
          .map((s) => s.kid);
        await keys.activate(next.kid, { replaces: [] });
        await lifecycle.changed();
        await converged(env);
        await lifecycle.setClientAlgorithm(AGILE_CLIENT, target);
        await converged(env);
        for (const kid of old) await keys.retire(kid);
        await lifecycle.changed();
        result.algorithmSwitches += 1;
        current = target;
      }
      result.rotations += 1;
      await converged(env);
    }
    await sleep(options.leadTimeMs);
  } finally {
    done = true;
    await Promise.all(workers);
  }

  const finals = await Promise.all(
    [env.a.url, env.b.url].map(async (url) =>
      createLocalJWKSet((await (await fetch(`${url}/jwks`)).json()) as JSONWebKeySet),
    ),
  );
  for (const token of issued) {
    for (const jwks of finals) {
      try {
        await jwtVerify(token.idToken, jwks, { issuer: env.deployment.gatewayUrl, audience: AGILE_CLIENT });
      } catch (error) {
        result.lateFailures.push(`${token.kid}: ${(error as Error).message}`);
      }
    }
  }
  result.kids = kids.size;
  result.providerGenerations = {
    a: env.a.gateway.services.holder.generation,
    b: env.b.gateway.services.holder.generation,
  };
  result.durationMs = Date.now() - started;
  return result;
}
