/**
 * Issue #14 (ninth round): the durable tier's statements per login, counted per HTTP request on a real
 * PostgreSQL (node-postgres's Client.query), with the whole gateway in process.
 *
 * - the resumption (`GET /auth/:id`) writes its records in one statement: the session oidc-provider saves at
 *   the end of the request and the two upstream-session records the login's link adds (main before: two); since
 *   the completion step runs in the resumption (interaction/resume-completion.ts), its own statement (the
 *   identity and the grant, stored before COMPLETED is audited) is counted there too;
 * - an SSO login's resumption replaces the session's cookie id (oidc-provider destroys the old id, then saves
 *   the session under the new one): no `session_end` statement for a record the same request writes again;
 * - an SSO login's authorization request re-saves the session it only read (oidc-provider's sliding expiry):
 *   not written when nothing but an expiry a few seconds later changed (main before: one statement);
 * - a `prompt=none` login writes the person's identity and the grant in one statement, before its COMPLETED
 *   audit record, and not the session it only read (before: three statements), whose state it checks with that
 *   write (a logout meanwhile: no code); an SSO's authorization request, whose answer carries no code, checks none;
 * and each login still ends with a working access token; a held write that fails at the resumption fails
 * it (no code reaches the RP).
 */
import { Server } from 'node:http';
import test from 'ava';
import pg from 'pg';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { logIn, redeem, startSessionBed, userinfo, type SessionBed } from './session-bed.ts';

interface Served {
  route: string;
  puts: number;
  ends: number;
  /** Checks of a session saved unchanged (`session_record_state`, migration 0810). */
  checks: number;
  /** 'put' and 'audit' in the order this request sent them. */
  order: string[];
}
let requests: Served[] | undefined;

const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string } | null)?.text ?? '');
  const current = requests?.at(-1);
  if (current) {
    if (text.includes('session_record_write(')) {
      current.puts += 1;
      current.order.push('put');
    }
    if (text.includes('insert into audit_log')) current.order.push('audit');
    if (text.includes('session_records_close(')) current.ends += 1; // DurableTier.end (migrations 0750, 0760)
    if (text.includes('session_record_state(')) current.checks += 1;
  }
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;
const emit = Server.prototype.emit;
Server.prototype.emit = function markedEmit(this: Server, event: string | symbol, ...args: unknown[]) {
  if (event === 'request' && requests) {
    const req = args[0] as { method?: string; url?: string };
    const path = (req.url ?? '').split('?')[0]!.replace(/\/[A-Za-z0-9_-]{16,}/g, '/:id');
    requests.push({ route: `${req.method} ${path}`, puts: 0, ends: 0, checks: 0, order: [] });
  }
  return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
} as typeof emit;

const of = (seen: Served[], route: string) => {
  const found = seen.filter((r) => r.route === route);
  return { puts: found.reduce((n, r) => n + r.puts, 0), ends: found.reduce((n, r) => n + r.ends, 0) };
};
const checksAt = (seen: Served[], route: string) =>
  seen.filter((r) => r.route === route).reduce((n, r) => n + r.checks, 0);

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed({ bootOptions: { fraud: { checkpointMs: 0 } } });
  await logIn(bed); // warm-up
});
test.after.always(async () => {
  await bed?.stop();
});

test.serial('a full login: the resumption writes the session and its upstream link in one statement', async (t) => {
  requests = [];
  const session = await logIn(bed);
  const seen = requests;
  requests = undefined;
  t.log(seen.filter((r) => r.puts + r.ends > 0).map((r) => `${r.route} ${r.puts}+${r.ends}`));
  // the completion step runs in the resumption (interaction/resume-completion.ts): the identity and the grant in
  // one statement, stored before COMPLETED is audited, then the session and its upstream link in one statement
  t.deepEqual(of(seen, 'GET /auth/:id'), { puts: 2, ends: 0 }, 'two statements at the resumption');
  const all = seen.reduce((n, r) => n + r.puts + r.ends, 0);
  t.true(all <= 4, `at most 4 statements write the login's records (${all})`);
  t.is((await userinfo(bed.url, session.accessToken)).status, 200);
});

test.serial('an SSO login: no re-save of an unchanged session, no end of a session saved again', async (t) => {
  const { browser } = await logIn(bed);
  const request = await authorizationRequest(bed.rp);
  requests = [];
  const landing = await browser.follow(request.url, {}, (u) => u.href.startsWith(RP_REDIRECT));
  await landing.response.body?.cancel();
  const seen = requests;
  requests = undefined;
  t.log(seen.filter((r) => r.puts + r.ends > 0).map((r) => `${r.route} ${r.puts}+${r.ends}`));
  const code = landing.url.searchParams.get('code');
  t.truthy(code, `the SSO login ends at the RP with a code (${landing.url.href.slice(0, 120)})`);
  t.deepEqual(of(seen, 'GET /auth'), { puts: 0, ends: 0 }, 'the session only read is not written again');
  t.is(checksAt(seen, 'GET /auth'), 0, 'nor checked: that answer (to the interaction) hands out no code');
  // the identity and the grant (the completion step, before COMPLETED), then the new cookie id: no end
  t.deepEqual(
    of(seen, 'GET /auth/:id'),
    { puts: 2, ends: 0 },
    'the completion and the new cookie id: two puts, no end',
  );
  const tokens = await redeem(bed, code!, request.verifier);
  t.is((await userinfo(bed.url, tokens.access_token)).status, 200);
  // the old cookie id no longer names the session; the new one does: another SSO login on it works
  const again = await authorizationRequest(bed.rp, { prompt: 'none' });
  const next = await browser.follow(again.url, {}, (u) => u.href.startsWith(RP_REDIRECT));
  await next.response.body?.cancel();
  t.truthy(next.url.searchParams.get('code'));
});

test.serial('a prompt=none login writes its identity and grant in one statement, before COMPLETED', async (t) => {
  const { browser } = await logIn(bed);
  const request = await authorizationRequest(bed.rp, { prompt: 'none' });
  requests = [];
  const landing = await browser.follow(request.url, {}, (u) => u.href.startsWith(RP_REDIRECT));
  await landing.response.body?.cancel();
  const seen = requests;
  requests = undefined;
  t.log(seen.filter((r) => r.puts + r.ends > 0).map((r) => `${r.route} ${r.puts}+${r.ends}`));
  const code = landing.url.searchParams.get('code');
  t.truthy(code, `the silent login ends at the RP with a code (${landing.url.href.slice(0, 120)})`);
  t.deepEqual(of(seen, 'GET /auth'), { puts: 1, ends: 0 }, 'the session, unchanged, is not written again');
  t.is(checksAt(seen, 'GET /auth'), 1, 'but checked, with that write: the answer hands out a code');
  // the login's last transition (COMPLETED) is audited after its records are stored
  const order = seen.find((r) => r.route === 'GET /auth')!.order;
  t.is(order.lastIndexOf('audit') > order.indexOf('put'), true, order.join(' '));
  const tokens = await redeem(bed, code!, request.verifier);
  t.is((await userinfo(bed.url, tokens.access_token)).status, 200);
});

test.serial('a held write that fails at the resumption fails it: no code reaches the RP', async (t) => {
  const admin = new pg.Client({ connectionString: bed.pgUrl });
  await admin.connect();
  // PostgreSQL refuses every new session row (a full login's session is first written at the resumption)
  await admin.query(`create function refuse_sessions() returns trigger language plpgsql as $$
    begin if new.kind = 'Session' then raise exception 'refused for the test'; end if; return new; end $$`);
  await admin.query(
    'create trigger refuse_sessions before insert on session_records for each row execute function refuse_sessions()',
  );
  try {
    const request = await authorizationRequest(bed.rp);
    const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
    t.is(journey.url.searchParams.get('code'), null, `no code (${journey.url.href.slice(0, 120)})`);
    t.true(journey.status >= 500 || journey.url.searchParams.has('error'), `an error (${journey.status})`);
  } finally {
    await admin.query('drop trigger refuse_sessions on session_records');
    await admin.query('drop function refuse_sessions()');
    await admin.end();
  }
  t.is((await userinfo(bed.url, (await logIn(bed)).accessToken)).status, 200, 'logins work again');
});
