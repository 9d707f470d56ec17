/**
 * Issue #14 (Redis round trips): the records a request reads one after the other because an artefact names
 * them are read together, in one auto-pipelined batch (`SessionStore.prefetch`): at the token endpoint the
 * authorization code's session, grant and account (3 round trips before, 1 now); when the authorization
 * resumes with the interaction's result, its account and grant (2 before, 1 now). Each record still read once
 * per request, and the tokens work. A whole first login through the real gateway; each batch ioredis sends is
 * recorded on `Pipeline.exec` (a command sent alone is a batch of one), grouped by the HTTP request being
 * served (requests are sequential here).
 */
import test from 'ava';
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
  const resume = reads(/^GET \/auth\/[^/]+$/);
  // the account and the grant the result names, then the login's upstream record (read-modify-write)
  t.true(resume.batches.length >= 1);
  t.is(resume.batches[0]!.length, 2, `the account and the grant together (${JSON.stringify(resume.batches)})`);
  t.is(new Set(resume.all).size, resume.all.length, 'each read once');
  t.is((await userinfo(bed.url, session.accessToken)).status, 200);
});
