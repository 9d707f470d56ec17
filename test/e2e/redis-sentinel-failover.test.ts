/**
 * The gateway on Redis under Sentinel (1 primary, 1 replica, 3 sentinels, all real local processes), and
 * the Redis primary killed (SIGKILL) while logins run (issue #15, the failure table's first row):
 *
 * - every login of the bounded load either ends at the RP with a code or fails cleanly: an RP redirect with
 *   an OAuth error or a 503 (FLOW_STORE_UNAVAILABLE in the log), never a 500 and never a hang;
 * - while no primary answers, a session made before still answers userinfo: its reads fall back to
 *   PostgreSQL (the durable session tier);
 * - once the sentinels have promoted the replica, new logins succeed without restarting the gateway;
 * - the outage and the new primary are logged and counted.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as oidc from 'openid-client';
import { pino } from 'pino';
import { waitFor } from '../harness/services/free-port.ts';
import { startRedisSentinel, type RedisSentinelHandle } from '../harness/services/redis-sentinel.ts';
import { Browser, type RequestInit2 } from '../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../helpers/gateway-fixture.ts';
import { loginJourney } from '../helpers/login-journey.ts';

/** A browser that remembers the status of every answer it got. */
class RecordingBrowser extends Browser {
  readonly statuses: number[] = [];
  override async request(url: string | URL, init: RequestInit2 = {}): Promise<Response> {
    const response = await super.request(url, init);
    this.statuses.push(response.status);
    return response;
  }
}

type Outcome = 'code' | 'clean-failure' | `unclean: ${string}`;

let sentinel: RedisSentinelHandle;
let fx: GatewayFixture;
const logs: Array<Record<string, unknown>> = [];

test.before(async () => {
  sentinel = await startRedisSentinel(mkdtempSync(join(tmpdir(), 'gw-sentinel-')));
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  fx = await startGatewayFixture({
    boot: { logger },
    rawConfig: (raw) => {
      const { keyPrefix } = raw.redis as { keyPrefix: string };
      raw.redis = { sentinels: sentinel.addresses, name: sentinel.name, keyPrefix, commandTimeoutMs: 1_000 };
    },
  });
});
test.after.always(async () => {
  await fx?.stop();
  await sentinel?.stop();
});

async function login(): Promise<{
  outcome: Outcome;
  tokens?: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
}> {
  const browser = new RecordingBrowser();
  const request = await authorizationRequest(fx.rp);
  try {
    const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT, browser });
    if (browser.statuses.includes(500)) return { outcome: `unclean: a 500 on the way (${browser.trail.join(' → ')})` };
    if (journey.url.searchParams.get('code')) {
      try {
        const tokens = await oidc.authorizationCodeGrant(fx.rp, journey.url, {
          pkceCodeVerifier: request.verifier,
          expectedState: request.state,
          expectedNonce: request.nonce,
        });
        return { outcome: 'code', tokens };
      } catch (error) {
        // the token endpoint refused: clean when it answered an OAuth error or 503, not a 500
        const status =
          (error as { status?: number; cause?: { status?: number } }).status ??
          (error as { cause?: { status?: number } }).cause?.status;
        return {
          outcome:
            status === 503 || (status !== undefined && status < 500)
              ? 'clean-failure'
              : `unclean: token endpoint ${status}`,
        };
      }
    }
    if (journey.url.searchParams.get('error')) return { outcome: 'clean-failure' };
    return { outcome: journey.status === 503 ? 'clean-failure' : `unclean: ended with ${journey.status}` };
  } catch (error) {
    // the journey stopped on a page that was not the next step: clean only if that page was a 503
    const last = browser.statuses.at(-1);
    if (browser.statuses.includes(500)) return { outcome: `unclean: a 500 on the way (${browser.trail.join(' → ')})` };
    if (last === 503) return { outcome: 'clean-failure' };
    return { outcome: `unclean: ${(error as Error).message.slice(0, 200)} (last status ${last})` };
  }
}

function metric(text: string, name: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

test.serial(
  'the Redis primary killed under load: clean failures, PostgreSQL fallback, logins again after failover',
  async (t) => {
    t.timeout(360_000);
    const before = await login();
    t.is(before.outcome, 'code', 'a login before the fault');
    const accessToken = before.tokens!.access_token;

    // a bounded load: two browsers, logins one after another until told to stop (at most 8 each)
    let stop = false;
    const outcomes: Outcome[] = [];
    const worker = async () => {
      for (let i = 0; i < 8 && !stop; i++) outcomes.push((await login()).outcome);
    };
    const load = Promise.all([worker(), worker()]);
    await waitFor(async () => outcomes.length >= 1, 'the load to run', 60_000);

    // the sentinels are held (SIGSTOP) so that the primary stays dead long enough to look at the fallback
    for (const s of sentinel.sentinels) s.pause();
    await sentinel.primary.kill();
    await waitFor(async () => fx.gateway.services.redis.status !== 'ready', 'the gateway to notice', 20_000);

    const registry = fx.gateway.services.metrics.registry;
    const dbReads = metric(await registry.metrics(), 'gateway_session_reads_total{kind="AccessToken",source="db"}');
    const info = await oidc.fetchUserInfo(fx.rp, accessToken, before.tokens!.claims()!.sub);
    t.is(info.sub, before.tokens!.claims()!.sub, 'userinfo answers while no Redis primary does');
    t.true(
      metric(await registry.metrics(), 'gateway_session_reads_total{kind="AccessToken",source="db"}') > dbReads,
      'the access token was read from PostgreSQL',
    );

    for (const s of sentinel.sentinels) s.resume();
    // Sentinels held longer than 2 s enter TILT mode on resume (30 s without acting), and an election that does
    // not conclude is retried after 2 × failover-timeout (20 s): a loaded machine needed more than 60 s
    await waitFor(async () => (await sentinel.currentPrimaryPort()) === sentinel.replica.port, 'failover', 150_000);

    // new logins succeed on the promoted replica, same gateway process
    let after = 'clean-failure' as Outcome;
    await waitFor(
      async () => {
        after = (await login()).outcome;
        return after === 'code';
      },
      'a login after the failover',
      60_000,
    );
    t.is(after, 'code');
    stop = true;
    await load;

    t.true(outcomes.length >= 2, `the load ran (${outcomes.length} logins)`);
    // an unclean outcome: the gateway's own account of every error it logged, for the CI log
    if (outcomes.some((o) => o.startsWith('unclean')))
      for (const l of logs.filter((l) => Number(l.level) >= 50)) t.log(JSON.stringify(l).slice(0, 1500));
    t.deepEqual(
      outcomes.filter((o) => o !== 'code' && o !== 'clean-failure'),
      [],
      'every login under the fault either got a code or failed cleanly',
    );

    const text = await registry.metrics();
    t.true(metric(text, 'gateway_redis_connection_events_total{event="lost"}') >= 1);
    t.true(metric(text, 'gateway_redis_connection_events_total{event="primary_changed"}') >= 1);
    t.true(logs.some((l) => l.msg === 'redis connection lost' && l.code === 'FLOW_STORE_UNAVAILABLE'));
    t.true(
      logs.some((l) => l.msg === 'redis primary changed' && String(l.to).endsWith(`:${sentinel.replica.port}`)),
      'the new primary is logged',
    );
    t.log(`load: ${outcomes.filter((o) => o === 'code').length} codes, ${outcomes.length} logins`);
  },
);
