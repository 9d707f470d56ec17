/**
 * Issue #14: every login on an existing session (SSO, `prompt=none`) saves the session's grant for the RP again
 * (`completion/grant-consent.ts`, `completion/sso.ts`), with the scopes it already holds: one PostgreSQL row and
 * one Redis script per login for a record that did not change. A grant saved again exactly as the request read it
 * is not written; one the login changes (a scope it did not hold) still is. Either way the login ends with a token
 * that works. Real gateway in process, real Redis and PostgreSQL; the writes counted as the rows of
 * `session_records` (insert-only: every write of a record is a row of its own).
 */
import test from 'ava';
import pg from 'pg';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import type { Browser } from '../../helpers/browser.ts';
import { logIn, redeem, startSessionBed, userinfo, type SessionBed } from './session-bed.ts';

let bed: SessionBed;
let db: pg.Client;
test.before(async () => {
  bed = await startSessionBed();
  db = new pg.Client({ connectionString: bed.pgUrl });
  await db.connect();
});
test.after.always(async () => {
  await db?.end();
  await bed?.stop();
});

const grantRows = async () =>
  Number((await db.query("select count(*) as n from session_records where kind = 'Grant'")).rows[0].n);

/** A login on the browser's session for the demo RP, through to a redeemed token; resolves to that token. */
async function loginOnSession(t: { truthy(v: unknown, m?: string): void }, browser: Browser, extra = {}) {
  const request = await authorizationRequest(bed.rp, extra);
  const landing = await browser.follow(request.url, {}, (u) => u.href.startsWith(RP_REDIRECT));
  await landing.response.body?.cancel();
  const code = landing.url.searchParams.get('code');
  t.truthy(code, `the login ends at the RP with a code (${landing.url.href.slice(0, 120)})`);
  return (await redeem(bed, code!, request.verifier)).access_token;
}

test.serial('an SSO login and a prompt=none login write no new row of the grant they leave unchanged', async (t) => {
  const { browser } = await logIn(bed);
  const before = await grantRows();
  const sso = await loginOnSession(t, browser);
  t.is(await grantRows(), before, 'the SSO login wrote the grant it did not change');
  t.is((await userinfo(bed.url, sso)).status, 200);
  const silent = await loginOnSession(t, browser, { prompt: 'none' });
  t.is(await grantRows(), before, 'the prompt=none login wrote the grant it did not change');
  t.is((await userinfo(bed.url, silent)).status, 200);
});

test.serial('an SSO login that adds a scope to the grant still writes it', async (t) => {
  const { browser } = await logIn(bed);
  const before = await grantRows();
  const token = await loginOnSession(t, browser, { scope: 'openid profile birth email' });
  t.is(await grantRows(), before + 1, 'the grant with its new scope is written');
  t.is((await userinfo(bed.url, token)).status, 200);
  // and the next login on it, asking the same, writes it no more
  await loginOnSession(t, browser, { scope: 'openid profile birth email' });
  t.is(await grantRows(), before + 1);
});
