/**
 * Revocation propagation across two gateway processes: gateway A in this process, gateway B a child
 * process (`node gateway/main.ts`), sharing PostgreSQL, Redis and the token. For each of REVOCATIONS
 * sessions: revoke on A (the typed API), and measure until B first answers `active: false` at
 * introspection for the session's access token (B is polled back to back). Also: Redis bytes per live
 * session (MEMORY USAGE of the session store's records and pointers).
 *
 * The sessions are copies of one real login (its Session and AccessToken re-saved under new ids through
 * A's session store, each access token a JWT of its own), so that the figure is the revocation's and not
 * the SAML login's. B's introspection answer times (a live token; a revoked one) are printed beside it:
 * the propagation figure includes one such answer.
 *
 *   node test/harness/with-stack.ts -- node test/bench/session/revocation-propagation.bench.ts
 */
import { mkdtempSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import * as oidc from 'openid-client';
import { prepareDeployment, startGatewayInProcess, startGatewayProcess } from '../../harness/deployment.ts';
import { freePort } from '../../harness/services/free-port.ts';
import { RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../../helpers/services.ts';
import { introspect, logIn } from '../../gateway/session/session-bed.ts';
import { summarize } from '../stats.ts';

const REVOCATIONS = Number(process.env.REVOCATIONS ?? 1000);

const dir = mkdtempSync(join(tmpdir(), 'gw-bench-revoke-'));
const prefix = redisPrefix();
const deployment = await prepareDeployment({
  dir,
  pgUrl: await freshDatabase(),
  redisUrl: redisUrl(),
  redisKeyPrefix: prefix,
  token: freshToken(),
  rpRedirectUri: RP_REDIRECT,
  logLevel: 'silent',
});
const a = await startGatewayInProcess(deployment);
const b = await startGatewayProcess(deployment, await freePort(), join(dir, 'b.log'));
const host = new URL(deployment.gatewayUrl).host;
const redis = new Redis(redisUrl());
try {
  const rp = await oidc.discovery(
    new URL(a.url),
    deployment.client.client_id,
    deployment.client.client_secret,
    undefined,
    { execute: [oidc.allowInsecureRequests] },
  );
  const person = await logIn({ url: a.url, deployment, rp });
  const { models, store, revoker } = a.gateway.services.sessions;
  const found = await store.findSession<Record<string, unknown> & { uid: string; jti: string }>('sid', person.sid);
  // access tokens are RFC 9068 JWTs, stored by jti with the hash of the JWT issued: each copy gets its own
  // JWT (same claims, new jti), signed like the gateway signs them, and is stored with that JWT's hash
  const claims = JSON.parse(Buffer.from(person.accessToken.split('.')[1]!, 'base64url').toString('utf8')) as {
    jti: string;
  };
  const token = (await models.find('AccessToken', claims.jti))!;
  const signer = a.gateway.services.keys.activeSigner('access_token');
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const mint = async (jti: string): Promise<string> => {
    const input = `${b64({ alg: signer.alg, typ: 'at+jwt', kid: signer.kid })}.${b64({ ...claims, jti })}`;
    return `${input}.${Buffer.from(await signer.sign(Buffer.from(input))).toString('base64url')}`;
  };

  let bytes = 0;
  const sizes: Record<string, number> = {};
  for (const key of await redis.keys(`${prefix}s2*`)) {
    const used = Number(await redis.memory('USAGE', key, 'SAMPLES', 0));
    const kind = key.startsWith(`${prefix}s2:`)
      ? ((await redis.hget(key, 'k')) ?? '?')
      : key.slice(prefix.length, prefix.length + 3);
    sizes[kind] = (sizes[kind] ?? 0) + used;
    bytes += used;
  }

  const latencies: number[] = [];
  /** B's introspection answer times: a live token, and a revoked one (the refusal is audited before it answers). */
  const answering: number[] = [];
  const refusing: number[] = [];
  let refusedLate = 0;
  for (let i = 0; i < REVOCATIONS; i++) {
    const uid = randomBytes(16).toString('base64url');
    const jti = randomBytes(32).toString('base64url');
    const atJti = randomBytes(32).toString('base64url');
    const at = await mint(atJti);
    await models.upsert('Session', jti, { ...found!.payload, uid, jti }, 3600);
    await models.upsert(
      'AccessToken',
      atJti,
      { ...token, jti: atJti, sessionUid: uid, atHash: createHash('sha256').update(at).digest('base64url') },
      600,
    );
    const asked = performance.now();
    if (!(await introspect(b.url, deployment, at, host))) throw new Error('B refused a live session');
    answering.push(performance.now() - asked);
    const started = performance.now();
    const revoked = revoker.revokeSession({ uid }, { actor: 'bench', reason: 'bench' });
    let polls = 0;
    while (await introspect(b.url, deployment, at, host)) polls += 1;
    latencies.push(performance.now() - started);
    if ((await revoked).sessions !== 1) throw new Error('revocation matched no session');
    const again = performance.now();
    if (await introspect(b.url, deployment, at, host)) throw new Error('B honoured a revoked session');
    refusing.push(performance.now() - again);
    if (polls > 0) refusedLate += 1;
  }
  const s = summarize(latencies);
  console.log(
    `revocation propagation, revoke on A → first refusal at B's introspection: ${REVOCATIONS} revocations, node ${process.versions.node}, 2 gateway processes`,
  );
  console.log(
    `  ms p50 ${s.p50.toFixed(2)}  p95 ${s.p95.toFixed(2)}  p99 ${s.p99.toFixed(2)}  max ${s.max.toFixed(2)}  (B still answered active at least once in ${refusedLate})`,
  );
  const live = summarize(answering);
  const refused = summarize(refusing);
  console.log(
    `  B's introspection alone: live token p50 ${live.p50.toFixed(2)} p99 ${live.p99.toFixed(2)}; revoked token p50 ${refused.p50.toFixed(2)} p99 ${refused.p99.toFixed(2)} ms`,
  );
  console.log(
    `  Redis bytes of one person's live session in the session store (Session, Grant, AccessToken, Identity, pointers): ${bytes} ${JSON.stringify(sizes)}`,
  );
} finally {
  redis.disconnect();
  await b.stop();
  await a.stop();
  await deployment.stop();
}
