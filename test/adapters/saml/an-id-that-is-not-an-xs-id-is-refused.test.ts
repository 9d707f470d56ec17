/**
 * A SAML ID is an `xs:ID` (an NCName: no colon, no leading digit). The replay guards key an ID per issuer
 * joined with ':', so an assertion (or message) ID with a colon could collide with another issuer's key: refused with
 * `SAML_SCHEMA_INVALID`, signed or not (the LogoutRequest shapes are in `hostile-logout-requests.ts`).
 */
import test from 'ava';
import { isXsId } from '../../../adapters/saml/xml/xs-id.ts';
import { refused } from '../../helpers/saml/expect.ts';
import { createSamlTestBed, openSpKeys, type SamlTestBed, type SpKeys } from '../../helpers/saml/test-bed.ts';
import { freshToken } from '../../helpers/services.ts';

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

for (const [shape, id] of [
  ['a colon', '_x:3f2a9c'],
  ['a leading digit', '3f2a9c'],
] as const) {
  test(`an assertion ID with ${shape} is refused: SAML_SCHEMA_INVALID`, async (t) => {
    const { requestId } = await bed.start();
    const xml = bed.signedResponse({ ...bed.fields(requestId), assertionId: id });
    await refused(t, bed.finish(xml), 'SAML_SCHEMA_INVALID');
  });
}

test('a Response ID with a colon is refused: SAML_SCHEMA_INVALID', async (t) => {
  const { requestId } = await bed.start();
  const xml = bed.signedResponse({ ...bed.fields(requestId), responseId: '_x:3f2a9c' });
  await refused(t, bed.finish(xml), 'SAML_SCHEMA_INVALID');
});

test('the IDs the IdPs we know send are xs:IDs', (t) => {
  for (const id of ['_3f2a9c0d', 'id-4b1e8f2a', 'ID_6a1d6f0e-3c2b-4b7e', '_a.b-c', 'é_x']) t.true(isXsId(id), id);
  for (const id of ['', 'a:b', '1abc', '-x', '.x', 'a b', 'a/b']) t.false(isXsId(id), id);
});
