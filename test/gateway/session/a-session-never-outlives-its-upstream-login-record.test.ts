/**
 * A session never outlives the upstream login record an IdP-initiated logout finds it by
 * (`gateway/session/session-life.ts`). The session's expiry slides with use, but never past twice `ttl.session`
 * after the upstream authentication it stands on; the login's records are kept that long plus an interaction's
 * life. Before, the records were kept `ttl.session` from the login, and a session touched past that was out of
 * the IdP's logout's reach.
 */
import test from 'ava';
import { sessionLifeSeconds, sessionTtl } from '../../../gateway/session/session-life.ts';
import { logIn, startSessionBed } from './session-bed.ts';

const TTL = { session: 8 * 3600, interaction: 600 };
const NOW = 1_800_000_000;
const cases: Array<[string, unknown, number]> = [
  ['a fresh login slides a whole ttl.session', NOW, TTL.session],
  ['an SSO at the end of its authentication still gets a whole ttl.session', NOW - TTL.session, TTL.session],
  ['a use past that is cut to what its life has left', NOW - 1.5 * TTL.session, 0.5 * TTL.session],
  ['a use past its life ends it at once (one second)', NOW - 3 * TTL.session, 1],
  ['a session without a login yet slides a whole ttl.session', undefined, TTL.session],
];
for (const [name, loginTs, expected] of cases)
  test(`session ttl: ${name}`, (t) => {
    t.is(sessionTtl(TTL, () => NOW)(undefined, { loginTs }), expected);
  });

test('a login keeps its upstream records past the longest life of its session', async (t) => {
  const bed = await startSessionBed();
  t.teardown(() => bed.stop());
  await logIn(bed);
  const ttl = bed.gateway.services.config.ttl;
  const { rows } = await bed.gateway.services.pool.query<{ kind: string; created: number; expires: number }>(
    `select kind, extract(epoch from created_at)::float8 as created, extract(epoch from expires_at)::float8 as expires
     from session_records where valid_to is null and kind in ('Session', 'UpstreamSession')`,
  );
  const session = rows.find((r) => r.kind === 'Session');
  const upstream = rows.filter((r) => r.kind === 'UpstreamSession');
  t.truthy(session);
  t.true(upstream.length >= 2, 'the login record and the session link');
  // the records were written before the session was (the login response, then the resumption)
  for (const record of upstream)
    t.true(
      record.expires >= session!.created + sessionLifeSeconds(ttl),
      `upstream record kept until ${record.expires}, the session may live until ${session!.created + sessionLifeSeconds(ttl)}`,
    );
  t.true(session!.expires <= session!.created + ttl.session + 1, 'a fresh session slides one ttl.session');
});
