/**
 * Every condition of SAML Core §2.5.1 is evaluated, and the NameID is in the registered format
 * (issue #10 items 5 and 6):
 * - ProxyRestriction Count="0" forbids the further assertion that an ID token is: SAML_PROXY_RESTRICTED;
 * - a ProxyRestriction Audience list and OneTimeUse are carried to the gateway in the evidence;
 * - a condition the gateway does not understand makes the assertion invalid (Indeterminate is not Valid);
 * - an IdP registered for transient NameIDs that answers with an email address: SAML_NAMEID_FORMAT_MISMATCH.
 */
import test from 'ava';
import { freshToken } from '../../helpers/services.ts';
import { refused } from '../../helpers/saml/expect.ts';
import { createSamlTestBed, openSpKeys, type SamlTestBed, type SpKeys } from '../../helpers/saml/test-bed.ts';

const TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';
const EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
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

async function answerWith(extraConditions: string, target: SamlTestBed = bed) {
  const { requestId, loginId } = await target.start();
  return { loginId, result: target.finish(target.signedResponse({ ...target.fields(requestId), extraConditions })) };
}

test('ProxyRestriction Count="0" is refused: SAML_PROXY_RESTRICTED (with the login id)', async (t) => {
  const { loginId, result } = await answerWith('<saml:ProxyRestriction Count="0"/>');
  const error = await refused(t, result, 'SAML_PROXY_RESTRICTED');
  t.is(error.loginId, loginId);
});

test('a ProxyRestriction Audience list reaches the gateway as onwardAudiences', async (t) => {
  const { result } = await answerWith(
    '<saml:ProxyRestriction Count="1"><saml:Audience>rp-a</saml:Audience><saml:Audience>rp-b</saml:Audience></saml:ProxyRestriction>',
  );
  t.deepEqual((await result).identity.evidence.onwardAudiences, ['rp-a', 'rp-b']);
});

test('OneTimeUse reaches the gateway in the evidence; without it the assertion is reusable', async (t) => {
  t.true((await (await answerWith('<saml:OneTimeUse/>')).result).identity.evidence.oneTimeUse);
  t.false((await (await answerWith('')).result).identity.evidence.oneTimeUse);
});

for (const [shape, xml] of [
  [
    'an unknown condition',
    '<saml:Condition xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="x:Custom"/>',
  ],
  ['a condition from a foreign namespace', '<x:Whatever xmlns:x="urn:example"/>'],
  ['two OneTimeUse', '<saml:OneTimeUse/><saml:OneTimeUse/>'],
  ['a negative ProxyRestriction Count', '<saml:ProxyRestriction Count="-1"/>'],
] as const) {
  test(`${shape} makes the assertion invalid: SAML_SCHEMA_INVALID`, async (t) => {
    await refused(t, (await answerWith(xml)).result, 'SAML_SCHEMA_INVALID');
  });
}

test('an IdP registered for transient NameIDs answering with an email address is refused: SAML_NAMEID_FORMAT_MISMATCH', async (t) => {
  const transient = await createSamlTestBed(keys, { nameIdFormat: TRANSIENT });
  t.teardown(() => transient.close());
  const { requestId, loginId } = await transient.start();
  const error = await refused(
    t,
    transient.finish(
      transient.signedResponse({ ...transient.fields(requestId), nameIdFormat: EMAIL, nameId: 'marie@example.fr' }),
    ),
    'SAML_NAMEID_FORMAT_MISMATCH',
  );
  t.is(error.loginId, loginId);
  const ok = await transient.start();
  const result = await transient.finish(
    transient.signedResponse({ ...transient.fields(ok.requestId), nameIdFormat: TRANSIENT }),
  );
  t.is(result.identity.nameIdFormat, TRANSIENT);
});
