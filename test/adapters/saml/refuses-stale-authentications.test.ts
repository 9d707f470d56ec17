/**
 * Re-authentication asked by the RP is honoured upstream (issue #10 item 2): an AuthnInstant older than
 * the RP's max_age or the IdP's maximum authentication age (8 h by default, even without max_age) is
 * `SAML_AUTHN_TOO_OLD`; after a ForceAuthn request, an AuthnInstant earlier than the request is
 * `SAML_AUTHN_NOT_FRESH`. Both carry the login id, so the RP can be told `login_required`.
 */
import test from 'ava';
import { freshToken } from '../../helpers/services.ts';
import { refused } from '../../helpers/saml/expect.ts';
import { createSamlTestBed, openSpKeys, type SamlTestBed, type SpKeys } from '../../helpers/saml/test-bed.ts';

const SUBSTANTIAL = 'http://eidas.europa.eu/LoA/substantial';
const token = freshToken();
let keys: SpKeys;
let bed: SamlTestBed;

test.before(async () => {
  keys = await openSpKeys(token);
  bed = await createSamlTestBed(keys, { clockSkewSeconds: 60 });
});
test.after.always(async () => {
  await bed?.close();
  await keys?.store.close();
});

const ago = (seconds: number) => new Date(Date.now() - seconds * 1000);

test('a day-old AuthnInstant is refused even when the RP set no max_age: SAML_AUTHN_TOO_OLD', async (t) => {
  const { requestId, loginId } = await bed.start();
  const error = await refused(
    t,
    bed.finish(bed.signedResponse({ ...bed.fields(requestId), authnInstant: ago(86_400) })),
    'SAML_AUTHN_TOO_OLD',
  );
  t.is(error.loginId, loginId);
});

test('an AuthnInstant older than the RP max_age (plus skew) is refused: SAML_AUTHN_TOO_OLD', async (t) => {
  const { requestId } = await bed.start(undefined, SUBSTANTIAL, { maxAuthenticationAgeSeconds: 60 });
  await refused(
    t,
    bed.finish(bed.signedResponse({ ...bed.fields(requestId), authnInstant: ago(300) })),
    'SAML_AUTHN_TOO_OLD',
  );
});

test('an AuthnInstant within max_age is accepted', async (t) => {
  const { requestId } = await bed.start(undefined, SUBSTANTIAL, { maxAuthenticationAgeSeconds: 600 });
  const result = await bed.finish(bed.signedResponse({ ...bed.fields(requestId), authnInstant: ago(120) }));
  t.is(result.identity.authnInstant, new Date(Date.parse(result.identity.authnInstant)).toISOString());
});

test('after a ForceAuthn request, an answer from the older IdP session is refused: SAML_AUTHN_NOT_FRESH', async (t) => {
  const { requestId, loginId } = await bed.start(undefined, SUBSTANTIAL, { forceAuthn: true });
  const error = await refused(
    t,
    bed.finish(bed.signedResponse({ ...bed.fields(requestId), authnInstant: ago(600) })),
    'SAML_AUTHN_NOT_FRESH',
  );
  t.is(error.loginId, loginId);
});

test('after a ForceAuthn request, a fresh authentication is accepted', async (t) => {
  const { requestId } = await bed.start(undefined, SUBSTANTIAL, { forceAuthn: true });
  const result = await bed.finish(bed.signedResponse(bed.fields(requestId)));
  t.truthy(result.identity.authnInstant);
});

test('the IdP maximum authentication age is configurable: a 2-hour-old authentication under a 1-hour limit is refused', async (t) => {
  const strict = await createSamlTestBed(keys, { clockSkewSeconds: 60, maxAuthenticationAgeSeconds: 3600 });
  t.teardown(() => strict.close());
  const { requestId } = await strict.start();
  await refused(
    t,
    strict.finish(strict.signedResponse({ ...strict.fields(requestId), authnInstant: ago(7200) })),
    'SAML_AUTHN_TOO_OLD',
  );
});
