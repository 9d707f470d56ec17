/**
 * Issue #14 (Redis round trips): the records a request reads one after the other because an artefact names
 * them are read together, in one socket write (`SessionStore.prefetch`): at the token endpoint the
 * authorization code's session, grant and account (3 round trips before, 1 now); when the authorization
 * resumes with the interaction's result stored by an earlier request (/interaction/:uid/complete), its account and
 * grant (2 before, 1 now); when the completion step runs in the resume request itself, neither is read again. Each record still read once
 * per request, and the tokens work. A whole first login through the real gateway; each batch ioredis sends is
 * recorded (the commands of one socket write), grouped by the HTTP request being
 * served (requests are sequential here).
 */
import test from 'ava';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { logIn, startSessionBed, userinfo, type SessionBed } from './session-bed.ts';
import { recording } from '../../helpers/redis-batches-per-request.ts';

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed({ bootOptions: { fraud: { checkpointMs: 0 } } });
  await logIn(bed); // warm-up: the person's account exists, scripts loaded
});
test.after.always(async () => {
  await bed?.stop();
});

const isRecordRead = (c: string) => /^HGETALL \S*:s2:/.test(c);

test.serial('the token request and the resumed authorization read the named records in one batch', async (t) => {
  recording.start();
  const session = await logIn(bed);
  const seen = recording.take();
  recording.stop();
  const reads = (route: RegExp) => {
    const request = seen.find((r) => route.test(r.route));
    if (!request) throw new Error(`no request ${route}`);
    const batches = request.batches.filter((b) => b.some(isRecordRead)).map((b) => b.filter(isRecordRead));
    return { batches, all: batches.flat() };
  };
  const token = reads(/^POST \/token$/);
  t.is(token.all.length, 3, `the session, the grant and the account (${JSON.stringify(token.batches)})`);
  t.is(new Set(token.all).size, 3, 'each read once');
  t.is(token.batches.length, 1, `in one round trip (${JSON.stringify(token.batches)})`);
  // the completion step runs in the resume request (interaction/resume-completion.ts): the account and the grant
  // the result names were written by this request, so oidc-provider's resume reads neither again
  const resume = reads(/^GET \/auth\/[^/]+$/);
  t.true(
    resume.all.length <= 2,
    `the account's and the upstream record's read-modify-writes (${JSON.stringify(resume.batches)})`,
  );
  t.is(new Set(resume.all).size, resume.all.length, 'each read once');
  t.is((await userinfo(bed.url, session.accessToken)).status, 200);
});

test.serial('a resume after /interaction/:uid/complete reads the account and the grant in one batch', async (t) => {
  const request = await authorizationRequest(bed.rp);
  // up to the ACS's redirect to the resume; then the old hop, as a link from before the upgrade would
  const journey = await loginJourney(request.url, { username: 'jean', redirectUri: `${bed.url}/auth/` });
  const complete = await journey.browser.request(new URL(`/interaction/${journey.loginId}/complete`, bed.url));
  await complete.body?.cancel();
  recording.start();
  const landing = await journey.browser.follow(new URL(complete.headers.get('location')!, bed.url), {}, (u) =>
    u.href.startsWith(RP_REDIRECT),
  );
  await landing.response.body?.cancel();
  const seen = recording.take();
  recording.stop();
  t.truthy(landing.url.searchParams.get('code'));
  const resume = seen.find((r) => /^GET \/auth\/[^/]+$/.test(r.route))!;
  const batches = resume.batches.filter((b) => b.some(isRecordRead)).map((b) => b.filter(isRecordRead));
  t.true(batches.length >= 1);
  t.is(batches[0]!.length, 2, `the account and the grant together (${JSON.stringify(batches)})`);
  t.is(new Set(batches.flat()).size, batches.flat().length, 'each read once');
});
