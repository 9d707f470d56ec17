/**
 * What the chaos run reads of the running gateway processes besides the logins: their gauges (`/metrics`
 * on each operations listener, with an operator credential), `/ready`, the review queue listing (a read
 * that may go to the PostgreSQL replica), and an access token of a login of its own (for the signing
 * requests of the HSM fault).
 */
import * as oidc from 'openid-client';
import { authorizationRequest } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import type { ChaosBed, GatewayProcess } from './bed.ts';
import { RP } from './topology.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One gauge of a process (`NaN` when the process does not answer). */
export async function gauge(bed: ChaosBed, p: GatewayProcess, name: string): Promise<number> {
  try {
    const answer = await fetch(`${p.opsUrl}/metrics`, {
      headers: { authorization: `Bearer ${bed.deployment.operatorTokens.alice}` },
      signal: AbortSignal.timeout(2_000),
    });
    const line = (await answer.text()).split('\n').find((l) => l.startsWith(`${name} `));
    const value = line?.split(' ')[1];
    return value === '+Inf' ? Number.POSITIVE_INFINITY : Number(value ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

/** The HTTP status of a process's `/ready` (0 when it does not answer). */
export async function readyStatus(p: GatewayProcess): Promise<number> {
  try {
    const answer = await fetch(`${p.opsUrl}/ready`, { signal: AbortSignal.timeout(2_000) });
    await answer.arrayBuffer();
    return answer.status;
  } catch {
    return 0;
  }
}

/** The review queue listing of a process (`GET /admin/reviews`): its HTTP status, 0 when it does not answer. */
export async function reviewListing(bed: ChaosBed, p: GatewayProcess): Promise<number> {
  try {
    const answer = await fetch(`${p.opsUrl}/admin/reviews`, {
      headers: { authorization: `Bearer ${bed.deployment.operatorTokens.bob}`, accept: 'application/json' },
      signal: AbortSignal.timeout(2_000),
    });
    await answer.arrayBuffer();
    return answer.status;
  } catch {
    return 0;
  }
}

/**
 * Calls `probe` every `everyMs` until the returned stop is called; resolves the stop with every sample.
 * @example const stop = sampleEvery(250, () => gauge(bed, p, 'gateway_hsm_queue_depth')); … const depths = await stop();
 */
export function sampleEvery<T>(everyMs: number, probe: () => Promise<T>): () => Promise<T[]> {
  const samples: T[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      samples.push(await probe());
      await sleep(everyMs);
    }
  })();
  return async () => {
    running = false;
    await loop;
    return samples;
  };
}

/** A login of the bench's own, through to the token endpoint: its access token (not counted in any phase). */
export async function accessToken(bed: ChaosBed): Promise<string> {
  const d = bed.deployment;
  const rp = await oidc.discovery(new URL(d.gatewayUrl), d.client.client_id, d.client.client_secret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
  for (let attempt = 1; ; attempt += 1) {
    const { url, verifier, state, nonce } = await authorizationRequest(rp, { scope: 'openid profile' });
    try {
      const journey = await loginJourney(url, { username: 'marie', redirectUri: RP });
      const tokens = await oidc.authorizationCodeGrant(rp, journey.url, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
      });
      return tokens.access_token;
    } catch (error) {
      if (attempt >= 5) throw error; // the previous phase's fault may still be wearing off
      await sleep(1_000);
    }
  }
}
