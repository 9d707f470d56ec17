/**
 * A session that stood on logins at two IdPs (jean logs in at the demo IdP, then the RP asks a new login on the same
 * session, `prompt=login`, and jean takes it at a second samlify IdP: a step-up at another IdP) is ended at both
 * by the RP-initiated logout: the browser carries our signed LogoutRequest to the latest login's IdP, brings its
 * LogoutResponse back, then goes to the first IdP the same way, and ends at the RP. Both IdPs (independent
 * samlify implementations) verify our request and end their session; each leg is audited.
 *
 * Before the chain, only the latest IdP was asked: the first IdP's session stayed open after the person logged out.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { decodeJwt } from 'jose';
import { ensureDevPki } from '../../../certs/dev-pki.ts';
import { startDemoIdp, type DemoIdp } from '../../../conformance/saml-idp/index.ts';
import { freePort } from '../../harness/services/free-port.ts';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import type { Browser } from '../../helpers/browser.ts';
import { logOutAtTheRp, redeem, startSessionBed, type LoggedIn, type SessionBed } from './session-bed.ts';

let bed: SessionBed;
let second: DemoIdp;
const running: Array<() => Promise<void>> = [];

/** The session bed with a second samlify IdP beside the demo IdP (registered without its logout service: `withoutSlo`). */
async function startTwoIdps(options: { withoutSlo?: boolean } = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-two-idps-'));
  const gatewayPort = await freePort();
  // the second IdP: its own keys, the gateway's metadata fetched at first use
  second = await startDemoIdp({
    port: 0,
    spMetadataUrl: `http://127.0.0.1:${gatewayPort}/saml/metadata`,
    keys: ensureDevPki(join(dir, 'pki-second')),
  });
  const idp = second;
  running.push(() => idp.stop());
  const fetched = await (await fetch(second.metadataUrl)).text();
  const metadata = options.withoutSlo
    ? fetched.replace(/<(?:\w+:)?SingleLogoutService\b[^>]*(?:\/>|>[\s\S]*?<\/(?:\w+:)?SingleLogoutService>)/g, '')
    : fetched;
  const metadataFile = join(dir, 'second-idp.metadata.xml');
  writeFileSync(metadataFile, metadata);
  bed = await startSessionBed({
    gatewayPort,
    extraIdps: [
      { id: 'second-idp', displayName: 'Second IdP', metadataFile, maxLoa: 'http://eidas.europa.eu/LoA/high' },
    ],
  });
  const started = bed;
  running.push(() => started.stop());
}

test.afterEach.always(async () => {
  for (const stop of running.splice(0).reverse()) await stop();
});

/** jean logs in at `idp` (on `browser`'s session, when given: `prompt=login`); the RP redeems the code. */
async function logInAt(idp: string, browser?: Browser): Promise<LoggedIn> {
  const request = await authorizationRequest(bed.rp, browser ? { prompt: 'login' } : {});
  const journey = await loginJourney(request.url, {
    username: 'jean',
    idp,
    redirectUri: RP_REDIRECT,
    ...(browser ? { browser } : {}),
  });
  const code = journey.url.searchParams.get('code');
  if (!code) throw new Error(`login at ${idp} failed: ${journey.url} ${journey.html.slice(0, 600)}`);
  const tokens = await redeem(bed, code, request.verifier);
  const claims = decodeJwt(tokens.id_token);
  return {
    browser: journey.browser,
    accessToken: tokens.access_token,
    idToken: tokens.id_token,
    sid: String(claims.sid),
    sub: String(claims.sub),
  };
}

async function audited(to: string): Promise<Array<Record<string, unknown>>> {
  const { rows } = await bed.gateway.services.pool.query<{ details: Record<string, unknown> }>(
    'select details from audit_log where to_state = $1 order by id',
    [to],
  );
  return rows.map((r) => r.details);
}

test.serial('an RP logout ends the session at the IdP of each login it stood on, the latest first', async (t) => {
  await startTwoIdps();
  const first = await logInAt('demo-idp');
  const atFirst = bed.deployment.idp.sessions().at(-1)!;
  const stepped = await logInAt('second-idp', first.browser);
  const atSecond = second.sessions().at(-1)!;
  t.is(stepped.sid, first.sid, 'the second login went into the same session');

  const { atPlru, visited } = await logOutAtTheRp(bed, stepped);
  t.true(atPlru, 'the browser ends at the RP');
  const toSecond = visited.indexOf(`${second.url}/slo`);
  const toFirst = visited.indexOf(`${bed.deployment.idp.url}/slo`);
  t.true(toSecond !== -1 && toFirst !== -1, `the browser took our LogoutRequest to both IdPs: ${visited.join(' ')}`);
  t.true(toSecond < toFirst, 'the latest login’s IdP first');
  t.is(visited.filter((u) => u === `${bed.url}/saml/slo`).length, 2, 'and each LogoutResponse back to us');
  t.false(
    second.sessions().some((s) => s.sessionIndex === atSecond.sessionIndex),
    'the second IdP verified our LogoutRequest and ended its session',
  );
  t.false(
    bed.deployment.idp.sessions().some((s) => s.sessionIndex === atFirst.sessionIndex),
    'so did the first IdP',
  );
  t.deepEqual(
    (await audited('UPSTREAM_LOGOUT_SENT')).map((d) => d.idp),
    ['second-idp', 'demo-idp'],
  );
  t.deepEqual(
    (await audited('UPSTREAM_LOGOUT_COMPLETED')).map((d) => d.idp),
    ['second-idp', 'demo-idp'],
  );
  t.deepEqual(await audited('UPSTREAM_LOGOUT_SKIPPED'), []);
});

test.serial('an IdP of the session that takes no part in logout is skipped, and the next one is asked', async (t) => {
  await startTwoIdps({ withoutSlo: true });
  const first = await logInAt('demo-idp');
  const atFirst = bed.deployment.idp.sessions().at(-1)!;
  const stepped = await logInAt('second-idp', first.browser);
  t.is(stepped.sid, first.sid);

  const { atPlru, visited } = await logOutAtTheRp(bed, stepped);
  t.true(atPlru, 'the browser ends at the RP');
  t.true(visited.includes(`${bed.deployment.idp.url}/slo`), `the first IdP was asked: ${visited.join(' ')}`);
  t.false(visited.includes(`${second.url}/slo`));
  t.false(bed.deployment.idp.sessions().some((s) => s.sessionIndex === atFirst.sessionIndex));
  const skipped = await bed.gateway.services.pool.query<{ error_code: string; idp: string }>(
    "select error_code, details->>'idp' as idp from audit_log where to_state = 'UPSTREAM_LOGOUT_SKIPPED'",
  );
  t.deepEqual(skipped.rows, [{ error_code: 'SAML_LOGOUT_UNSUPPORTED', idp: 'second-idp' }]);
  t.deepEqual(
    (await audited('UPSTREAM_LOGOUT_COMPLETED')).map((d) => d.idp),
    ['demo-idp'],
  );
});
