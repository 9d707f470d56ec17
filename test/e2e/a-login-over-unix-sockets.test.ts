/**
 * PostgreSQL and Redis on the gateway's own host can be reached through their Unix sockets, with the URL forms their
 * clients know: a database URL with `?host=/the/socket/folder`, a Redis URL `unix:///path/redis.sock`. A whole
 * login runs over them (RP → gateway → demo IdP → gateway → RP, tokens, userinfo), and the gateway's connections
 * really are the sockets, not TCP. On loopback a TCP write also runs the receiver's TCP path on the gateway's CPU
 * (BENCHMARKS.md, "Thirty-third round": what the sockets save per login).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as oidc from 'openid-client';
import { prepareDeployment, startGatewayInProcess } from '../harness/deployment.ts';
import { discoverRp, logInAndRedeem, RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import { freshDatabase, freshToken, overUnixSockets, redisPrefix } from '../helpers/services.ts';

test('a whole login with PostgreSQL and Redis reached through their Unix sockets', async (t) => {
  const sockets = overUnixSockets();
  const deployment = await prepareDeployment({
    dir: mkdtempSync(join(tmpdir(), 'gw-sockets-')),
    pgUrl: sockets.pg(await freshDatabase()),
    redisUrl: sockets.redis,
    redisKeyPrefix: redisPrefix(),
    token: freshToken(),
    rpRedirectUri: RP_REDIRECT,
    logLevel: process.env.GW_TEST_LOG_LEVEL ?? 'silent',
  });
  t.teardown(() => deployment.stop());
  const running = await startGatewayInProcess(deployment);
  t.teardown(() => running.stop());
  const rp = await discoverRp(running.url, deployment);

  const tokens = await logInAndRedeem(rp);
  const info = await oidc.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub);
  t.is(info.sub, tokens.claims()!.sub);

  // the gateway's own connections: no client address over a Unix socket (PostgreSQL), the socket's path (Redis)
  const { services } = running.gateway;
  const pgPeer = await services.pool.query<{ addr: string | null }>('select inet_client_addr() as addr');
  t.is(pgPeer.rows[0]?.addr, null, 'PostgreSQL: a Unix-socket connection');
  const redisPeer = String(await services.redis.client('INFO'));
  t.regex(redisPeer, /\baddr=\/[^ ]*redis\.sock:0\b/, 'Redis: the Unix socket');
});
