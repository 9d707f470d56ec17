/**
 * The gateway applies its rotation policy by itself: with a short policy (ES256 ID-token key every
 * 6 s, lead time 3 s) the scheduler publishes a next key in /jwks before it signs, activates it,
 * and keeps the retired key published (as long as a session an ID token of it names may live); discovery and /jwks
 * stay consistent on both instances.
 *
 * The lead time is the window in which instance B (polling the key store every 200 ms) must publish the
 * next key while A's old key still signs; with 0.5 s a loaded machine could let that window pass between
 * two of B's polls. 3 s is fifteen polls.
 */
import test from 'ava';
import { startTwoGateways, type TwoGateways } from './two-gateways.ts';

let env: TwoGateways;
test.before(async () => {
  env = await startTwoGateways({
    keyTimes: { leadTimeMs: 3_000 },
    keyPollMs: 200,
    rotation: { intervalMs: 100, policy: [{ purpose: 'id_token', alg: 'ES256', rotateEveryMs: 6_000 }] },
  });
});
test.after.always(async () => {
  await env?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function jwksKids(url: string): Promise<string[]> {
  return ((await (await fetch(`${url}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
}

test('a next key is published before it signs; after activation the old key stays published', async (t) => {
  t.timeout(60_000);
  const keys = env.a.gateway.services.keys as typeof env.a.gateway.services.lifecycle.keys;
  const first = keys.activeSigner('id_token', 'ES256').kid;
  let sawNextPublished = false;
  while (keys.activeSigner('id_token', 'ES256').kid === first) {
    const next = keys.records('id_token').find((r) => r.state === 'next');
    if (next && (await jwksKids(env.b.url)).includes(next.kid)) sawNextPublished = true;
    await sleep(50);
  }
  t.true(sawNextPublished, 'the next key was in /jwks (instance B) while the old one still signed');
  const second = keys.activeSigner('id_token', 'ES256').kid;
  t.is(keys.record(first).state, 'retired');
  // published as long as an ID token it signed may come back as a logout's id_token_hint: while its session lives, up
  // to twice ttl.session (it was ttl.session + 5 min: a session older than that could no longer log out by its RP)
  const { ttl } = env.a.gateway.services.config;
  const retired = keys.record(first);
  t.true(
    retired.notAfter!.getTime() - retired.retiredAt!.getTime() >= 2 * ttl.session * 1000,
    `retired key published until ${retired.notAfter?.toISOString()}`,
  );
  for (const url of [env.a.url, env.b.url]) {
    await env.b.gateway.services.lifecycle.sync();
    const kids = await jwksKids(url);
    t.true(kids.includes(first) && kids.includes(second), `${url} publishes the retired and the active key`);
  }
  const { rows } = await env.a.gateway.services.pool.query<{ action: string; actor: string }>(
    "select action, actor from key_events where action in ('generate', 'activate')",
  );
  t.true(rows.length >= 2 && rows.every((r) => r.actor.startsWith('gateway:')), 'the scheduler’s actions are audited');
});
