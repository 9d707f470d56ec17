/**
 * InResponseTo and replay (SAML-IRT-01/02/03, SAML-RPL-01), on the real Redis shared by instances:
 * a response answers one pending request, from the browser that started it, once.
 */
import test from 'ava';
import { freshToken } from '../../helpers/services.ts';
import { refused } from '../../helpers/saml/expect.ts';
import { samlId } from '../../helpers/saml/response-builder.ts';
import { createSamlTestBed, openSpKeys, type SamlTestBed, type SpKeys } from '../../helpers/saml/test-bed.ts';

const token = freshToken();
let keys: SpKeys;
let bed: SamlTestBed;

test.before(async () => {
  keys = await openSpKeys(token);
  bed = await createSamlTestBed(keys);
});
test.after.always(async () => {
  await bed?.close();
  await keys?.store.close();
});

test('the same response posted twice is a replay the second time', async (t) => {
  const { requestId } = await bed.start();
  const xml = bed.signedResponse(bed.fields(requestId));
  await bed.finish(xml);
  const error = await refused(t, bed.finish(xml), 'SAML_REPLAY');
  t.is(error.loginId, undefined);
});

test('the replay mark lives as long as the assertion can be accepted, not until a far-future NotOnOrAfter', async (t) => {
  const { requestId } = await bed.start();
  const years = new Date(Date.now() + 100 * 365 * 86_400_000);
  const f = { ...bed.fields(requestId), notOnOrAfter: years, confirmationNotOnOrAfter: years };
  await bed.finish(bed.signedResponse(f));
  const ttl = await bed.redis.ttl(`adapter:saml:assertion:${f.issuer}:${f.assertionId}`);
  // step 13 accepts it for at most MAX_MESSAGE_AGE_SECONDS (300) + twice the skew (60) after now: 480 s with a margin
  t.true(ttl > 300 && ttl <= 480, `kept ${ttl} s`);
  await refused(t, bed.finish(bed.signedResponse({ ...f, responseId: samlId() })), 'SAML_REPLAY');
});

test('an old assertion in a new response is a replay', async (t) => {
  const { requestId } = await bed.start();
  const f = bed.fields(requestId);
  await bed.finish(bed.signedResponse(f));
  await refused(t, bed.finish(bed.signedResponse({ ...f, responseId: samlId() })), 'SAML_REPLAY');
});

test('a response posted from another browser than the one that started the login', async (t) => {
  const { requestId } = await bed.start('browser-A');
  const error = await refused(
    t,
    bed.finish(bed.signedResponse(bed.fields(requestId)), 'browser-B'),
    'SAML_INRESPONSETO_SESSION_MISMATCH',
  );
  t.is(error.loginId, undefined);
});

test('an InResponseTo no request of ours carries', async (t) => {
  const { requestId } = await bed.start();
  const f = { ...bed.fields(requestId), inResponseTo: samlId() };
  const error = await refused(t, bed.finish(bed.signedResponse(f)), 'SAML_INRESPONSETO_UNKNOWN');
  t.is(error.loginId, undefined);
});

test('an unsolicited response (no InResponseTo) is refused', async (t) => {
  const { requestId } = await bed.start();
  await refused(
    t,
    bed.finish(bed.signedResponse({ ...bed.fields(requestId), inResponseTo: null })),
    'SAML_UNSOLICITED',
  );
});

test('the pending request is consumed: a second, fresh response to it is unknown', async (t) => {
  const { requestId } = await bed.start();
  await bed.finish(bed.signedResponse(bed.fields(requestId)));
  await refused(t, bed.finish(bed.signedResponse(bed.fields(requestId))), 'SAML_INRESPONSETO_UNKNOWN');
});

test('a login started on one gateway instance finishes on another sharing Redis, once', async (t) => {
  const other = await createSamlTestBed(keys, {}, bed);
  t.teardown(() => other.close());
  const { requestId, loginId } = await bed.start();
  const xml = other.signedResponse(other.fields(requestId));
  const result = await other.finish(xml);
  t.is(result.loginId, loginId);
  await refused(t, bed.finish(xml), 'SAML_REPLAY');
});
