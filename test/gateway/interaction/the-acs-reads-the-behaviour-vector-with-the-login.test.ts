/**
 * Issue #14 (Redis round trips): the ACS reads the login's behaviour vector (`beh:{<login>}`, what the risk
 * assessment's signals and behaviour stage use) in the batch that reads the login's context with the adapter's
 * first write (the assertion's replay mark and the pending request's take), as soon as the answer names the login — not in a round trip of its own once the translation
 * point gathers the signals. Read once in the request; the login still ends with a code. The real gateway; each
 * batch ioredis sends is recorded (the commands of one socket write) and grouped by the
 * HTTP request being served.
 */
import test from 'ava';
import { logIn, startSessionBed, type SessionBed } from '../session/session-bed.ts';
import { recording } from '../../helpers/redis-batches-per-request.ts';

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed({ bootOptions: { fraud: { checkpointMs: 0 } } });
});
test.after.always(async () => {
  await bed?.stop();
});

const isVectorRead = (c: string) => /^GET \S*beh:\{[^}]+\}$/.test(c);

test.serial('the ACS reads the behaviour vector once, with the login context and the replay check', async (t) => {
  recording.start();
  const session = await logIn(bed);
  const seen = recording.take();
  recording.stop();
  t.truthy(session.accessToken, 'the login ends with tokens');
  const acs = seen.filter(({ route }) => route === 'POST /saml/acs');
  t.is(acs.length, 1);
  const batches = acs[0]!.batches;
  t.is(batches.flat().filter(isVectorRead).length, 1, 'read once in the request');
  const batch = batches.find((b) => b.some(isVectorRead))!;
  t.true(
    batch.some((c) => /^GET \S*login:[^:]+$/.test(c)) && batch.some((c) => c.includes(':adapter:saml:assertion:')),
    `with the login context and the assertion's replay mark (${JSON.stringify(batch)})`,
  );
});
