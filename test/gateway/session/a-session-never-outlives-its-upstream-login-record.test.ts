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
const LOGS_IN = { oidc: { result: { login: { accountId: 'a' } } } };
const cases: Array<[string, typeof LOGS_IN | undefined, { loginTs?: unknown; exp?: unknown }, number]> = [
  [
    'a request that logs in gets a whole ttl.session, on an AuthnInstant of a day ago',
    LOGS_IN,
    { loginTs: NOW - 86_400 },
    TTL.session,
  ],
  ['a use just after the login slides a whole ttl.session', undefined, { loginTs: NOW, exp: NOW + 100 }, TTL.session],
  [
    'an SSO at the end of its authentication still gets a whole ttl.session',
    undefined,
    { loginTs: NOW - TTL.session },
    TTL.session,
  ],
  [
    'a use past that slides only to what its life has left',
    undefined,
    { loginTs: NOW - 1.5 * TTL.session, exp: NOW + 10 },
    0.5 * TTL.session,
  ],
  [
    'a use past its life never shortens what the session has left',
    undefined,
    { loginTs: NOW - 3 * TTL.session, exp: NOW + 1000 },
    1000,
  ],
  ['a use past its life and its expiry: one second', undefined, { loginTs: NOW - 3 * TTL.session, exp: NOW - 5 }, 1],
  ['a session without a login yet slides a whole ttl.session', undefined, {}, TTL.session],
  ['a login time that is no number slides a whole ttl.session', undefined, { loginTs: Number.NaN }, TTL.session],
];
for (const [name, ctx, session, expected] of cases)
  test(`session ttl: ${name}`, (t) => {
    t.is(sessionTtl(TTL, () => NOW)(ctx, session), expected);
  });

// one gateway at a time in this worker: SoftHSM sees a token made after its module opened only once all are closed
test.serial('a login keeps its upstream records past the longest life of its session', async (t) => {
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

test.serial('a login of long sessions keeps its upstream records in day partitions, not the default one', async (t) => {
  // records living past the partitions made ahead land in the default partition, and that day's partition can
  // never be made then: the partitions are made as far ahead as the longest record lives (the upstream records)
  const bed = await startSessionBed({ config: { ttl: { session: 3 * 86_400 } } });
  t.teardown(() => bed.stop());
  await logIn(bed);
  const { rows } = await bed.gateway.services.pool.query<{ kind: string; partition: string }>(
    `select kind, tableoid::regclass::text as partition from session_records where valid_to is null`,
  );
  t.true(rows.some((r) => r.kind === 'UpstreamSession'));
  t.deepEqual(
    rows.filter((r) => r.partition === 'session_records_default').map((r) => r.kind),
    [],
  );
});
