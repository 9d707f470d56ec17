/**
 * Issue #14 (Redis round trips): the pages of a login read its context (`login:<id>`) together with their
 * first other Redis command — oidc-provider's interaction at the interaction page, the chooser's answer and the
 * completion (in the resume request, GET /auth/:uid); the adapter's replay check at the ACS — in one socket write, instead of in a round trip
 * of its own after it (`LoginContextStore.prefetch`). Still read once per request, and the login still ends
 * with a code. A whole first login and an SSO login through the real gateway; each batch ioredis sends is
 * recorded (the commands of one socket write) and grouped by the HTTP request being
 * served (requests are sequential here).
 */
import test from 'ava';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { logIn, startSessionBed, type SessionBed } from '../session/session-bed.ts';
import { recording, type RequestBatches } from '../../helpers/redis-batches-per-request.ts';

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed({ bootOptions: { fraud: { checkpointMs: 0 } } });
});
test.after.always(async () => {
  await bed?.stop();
});

const isContextRead = (c: string) => /^GET \S*:login:[^:]+$/.test(c);

/** Per request that read a login's context: how many reads, and what left in the same batch. */
function contextReads(seen: RequestBatches[]) {
  return seen
    .map(({ route, batches }) => ({
      route: route
        .replace(/\/interaction\/[^/]+/, '/interaction/:uid')
        .replace(/^GET \/auth\/[^/]+$/, 'GET /auth/:uid'),
      reads: batches.flat().filter(isContextRead).length,
      with: batches.find((b) => b.some(isContextRead))?.filter((c) => !isContextRead(c)) ?? [],
    }))
    .filter(({ reads }) => reads > 0);
}

test.serial('a first login and an SSO login read each context with another command, once per request', async (t) => {
  recording.start();
  const { browser } = await logIn(bed);
  const first = contextReads(recording.take());
  const request = await authorizationRequest(bed.rp);
  const landing = await browser.follow(request.url, {}, (u) => u.href.startsWith(RP_REDIRECT));
  await landing.response.body?.cancel();
  const sso = contextReads(recording.take());
  recording.stop();
  t.truthy(landing.url.searchParams.get('code'), 'the SSO login ends with a code');
  t.deepEqual(
    first.map(({ route }) => route),
    ['GET /interaction/:uid', 'POST /interaction/:uid/idp', 'POST /saml/acs', 'GET /auth/:uid'],
  );
  // an SSO login is decided in the authorization request, which writes its context: the resume reads it
  t.deepEqual(
    sso.map(({ route }) => route),
    ['GET /auth/:uid'],
  );
  for (const read of [...first, ...sso]) {
    t.is(read.reads, 1, `${read.route}: read once`);
    t.true(read.with.length > 0, `${read.route}: sent with another command (${JSON.stringify(read.with)})`);
  }
  const inAcs = first.find(({ route }) => route === 'POST /saml/acs')!;
  t.true(
    inAcs.with.some((c) => c.includes(':adapter:saml:assertion:')),
    `at the ACS, with the assertion's replay mark (${inAcs.with})`,
  );
  for (const read of [...first, ...sso].filter(({ route }) => route !== 'POST /saml/acs'))
    t.true(
      read.with.some((c) => c.includes(':oidc:Interaction:')),
      `${read.route}: with the interaction's read (${read.with})`,
    );
});
