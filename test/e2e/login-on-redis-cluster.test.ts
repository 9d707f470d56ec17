/**
 * The gateway on a real Redis Cluster of three primaries (issue #15): a whole login (RP → gateway → demo
 * IdP → gateway → RP), the code exchanged for tokens, userinfo read, the session revoked by logout of the
 * grant; every multi-key operation on the way names keys of one slot (a MULTI, pipeline or script across
 * slots is refused by the cluster client), and the state really is spread over the three nodes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Redis } from 'ioredis';
import * as oidc from 'openid-client';
import { startRedisCluster, type RedisClusterHandle } from '../harness/services/redis-cluster.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../helpers/gateway-fixture.ts';
import { loginJourney } from '../helpers/login-journey.ts';

let cluster: RedisClusterHandle;
let fx: GatewayFixture;
let prefix: string;

test.before(async () => {
  cluster = await startRedisCluster(mkdtempSync(join(tmpdir(), 'gw-cluster-')));
  fx = await startGatewayFixture({
    rawConfig: (raw) => {
      const redis = raw.redis as { keyPrefix: string };
      prefix = redis.keyPrefix;
      raw.redis = { cluster: cluster.nodes.map((n) => `${n.host}:${n.port}`), keyPrefix: prefix };
    },
  });
});
test.after.always(async () => {
  await fx?.stop();
  await cluster?.stop();
});

async function keysOn(port: number): Promise<string[]> {
  const node = new Redis(port, '127.0.0.1');
  try {
    return await node.keys(`${prefix}*`);
  } finally {
    node.disconnect();
  }
}

test.serial('a whole login runs on a three-primary Redis Cluster, its state spread over the nodes', async (t) => {
  const request = await authorizationRequest(fx.rp, { scope: 'openid profile email' });
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  t.is(journey.url.searchParams.get('state'), request.state);
  t.truthy(journey.url.searchParams.get('code'), journey.url.searchParams.get('error') ?? 'no code');
  const tokens = await oidc.authorizationCodeGrant(fx.rp, journey.url, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
    idTokenExpected: true,
  });
  t.is(tokens.claims()!.acr, 'eidas2');
  const info = await oidc.fetchUserInfo(fx.rp, tokens.access_token, tokens.claims()!.sub);
  t.is(info.given_name, 'Marie');

  // before the replay below (which ends this RP's authorization in the session, and so its sid pointer)
  const perNode = await Promise.all(cluster.nodes.map((n) => keysOn(n.port)));
  t.true(
    perNode.filter((keys) => keys.length > 0).length >= 2,
    `the state is spread over the nodes: ${perNode.map((k) => k.length).join('/')} keys`,
  );
  const all = perNode.flat();
  // the session's record and its cookie and sid pointers (different slots) are all in the hot tier
  const held = (kind: string) => all.some((k) => k.startsWith(`${prefix}${kind}:`));
  t.true(held('s2'), 'the session hot tier holds its records');
  // a pointer lives in another slot than its record (once lost when a script and the pointers beside it were
  // auto-pipelined to one node: `test/gateway/store/scripts-on-a-cluster-keep-their-own-slot.test.ts`)
  t.true(held('s2j'), 'the session hot tier holds its cookie pointer');
  t.true(held('s2s'), 'the session hot tier holds its sid pointer');

  // a used code presented again: oidc-provider revokes the grant (the grant's token list, one slot)
  const again = await fetch(fx.rp.serverMetadata().token_endpoint!, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`demo-rp:${fx.deployment.client.client_secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: journey.url.searchParams.get('code')!,
      redirect_uri: RP_REDIRECT,
      code_verifier: request.verifier,
    }),
  });
  t.is(((await again.json()) as { error: string }).error, 'invalid_grant');

  const { rows } = await fx.gateway.services.pool.query<{ to_state: string; error_code: string | null }>(
    'select to_state, error_code from audit_log where session_id = $1 order by id',
    [journey.loginId],
  );
  t.is(rows.at(-1)?.to_state, 'COMPLETED');
  // the risk stages' Redis work (a MULTI of the correlation windows, the RBA script over two scopes) ran:
  // a CROSSSLOT refusal would have been audited as RISK_STAGE_FAILED and the login would have gone on degraded
  t.deepEqual(
    rows.filter((r) => r.error_code === 'RISK_STAGE_FAILED'),
    [],
  );
});
