/**
 * Complete SAML → OIDC logins per second through one in-process gateway: each login is the whole
 * browser journey (authorize, chooser, signed AuthnRequest, samlify IdP login, SAMLResponse, ACS with the
 * full verification pipeline, completion, code) plus the token request and ID-token verification, as an
 * RP does it. Bounded: LOGINS total at CONCURRENCY (env), on loopback only.
 *
 *   node test/harness/with-stack.ts -- node test/bench/login/complete-logins.bench.ts
 */
import * as oidc from 'openid-client';
import { authorizationRequest, RP_REDIRECT, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { summarize } from '../stats.ts';

const LOGINS = Number(process.env.LOGINS ?? 200);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);

const fx = await startGatewayFixture();
async function oneLogin(): Promise<number> {
  const started = performance.now();
  const request = await authorizationRequest(fx.rp);
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  await oidc.authorizationCodeGrant(fx.rp, journey.url, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
  return performance.now() - started;
}

try {
  for (let i = 0; i < 10; i++) await oneLogin(); // warm-up
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < LOGINS) {
        next += 1;
        try {
          latencies.push(await oneLogin());
        } catch {
          failures += 1;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const s = summarize(latencies);
  console.log(
    `complete logins: ${LOGINS} at concurrency ${CONCURRENCY} on ${process.versions.node} (node), 1 gateway process (shared with the RP, IdP and browser in this process)`,
  );
  console.log(`  throughput ${(latencies.length / seconds).toFixed(1)} logins/s, failures ${failures}`);
  console.log(
    `  latency ms p50 ${s.p50.toFixed(1)}  p95 ${s.p95.toFixed(1)}  p99 ${s.p99.toFixed(1)}  max ${s.max.toFixed(1)}`,
  );
  if (failures > 0) process.exitCode = 1;
} finally {
  await fx.stop();
}
