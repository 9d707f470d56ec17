/**
 * SAML-BASE-00: a valid signed Response from the trusted test IdP is accepted, and the identity is read
 * from the signed assertion (subject, attributes through the attribute map, LoA, evidence).
 */
import test from 'ava';
import { freshToken } from '../../helpers/services.ts';
import { signElement } from '../../helpers/saml/test-idp.ts';
import { responseXml } from '../../helpers/saml/response-builder.ts';
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

test('a baseline response with a signed assertion yields the identity', async (t) => {
  const { requestId, loginId } = await bed.start();
  const f = bed.fields(requestId);
  const result = await bed.finish(bed.signedResponse(f));
  t.is(result.loginId, loginId);
  const id = result.identity;
  t.is(id.idp, 'test-idp');
  t.is(id.subject, f.nameId);
  t.is(id.nameIdFormat, f.nameIdFormat);
  t.deepEqual(id.attributes, {
    given_name: ['Ada'],
    family_name: ['Lovelace'],
    email: ['ada@example.org'],
    birthdate: ['1815-12-10'],
  });
  t.is(id.loa, 'http://eidas.europa.eu/LoA/substantial');
  t.is(id.evidence.responseId, f.responseId);
  t.is(id.evidence.assertionId, f.assertionId);
  t.is(id.evidence.inResponseTo, requestId);
  t.is(id.evidence.issuer, bed.idp.entityId);
  t.is(id.evidence.signaturesVerified, 1);
});

test('a response signed on both levels counts two verified signatures', async (t) => {
  const { requestId } = await bed.start();
  const f = bed.fields(requestId);
  const both = signElement(bed.signedResponse(f), {
    id: f.responseId,
    privateKey: bed.idp.privateKey,
    certificatePem: bed.idp.certificatePem,
  });
  const result = await bed.finish(both);
  t.is(result.identity.evidence.signaturesVerified, 2);
});

test('an asserted LoA above the IdP maximum is clipped down, never raised', async (t) => {
  const { requestId } = await bed.start();
  const f = { ...bed.fields(requestId), loa: 'http://eidas.europa.eu/LoA/high' };
  const result = await bed.finish(bed.signedResponse(f));
  t.is(result.identity.loa, 'http://eidas.europa.eu/LoA/substantial');
});

test('only the Response signed is accepted under the "either" policy and read from the signed Response', async (t) => {
  const either = await createSamlTestBed(keys, { id: 'either-idp', requiredSignatures: 'either' });
  t.teardown(() => either.close());
  const { requestId } = await either.start();
  const f = either.fields(requestId);
  const xml = signElement(responseXml(f), {
    id: f.responseId,
    privateKey: either.idp.privateKey,
    certificatePem: either.idp.certificatePem,
  });
  const result = await either.finish(xml);
  t.is(result.identity.subject, f.nameId);
  t.is(result.identity.evidence.signaturesVerified, 1);
});

test('an assertion signed with RSASSA-PSS (sha256-rsa-MGF1) is accepted', async (t) => {
  const { requestId } = await bed.start();
  const f = bed.fields(requestId);
  const xml = signElement(responseXml(f), {
    id: f.assertionId,
    privateKey: bed.idp.privateKey,
    certificatePem: bed.idp.certificatePem,
    signatureAlgorithm: 'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1',
  });
  const result = await bed.finish(xml);
  t.is(result.identity.evidence.signaturesVerified, 1);
});
