/**
 * SAML Single Logout in the adapter (issue #12 item 6): our LogoutRequest signed in SoftHSM2 by the binding
 * the IdP's metadata offers, the IdP's LogoutResponse verified, and the IdP's own LogoutRequest verified as
 * strictly as a login response. Its refusals, each hostile shape with its code and nothing ended, are in
 * idp-logout-request-refusals.test.ts (the shapes: hostile-logout-requests.ts; the bed: single-logout-bed.ts).
 */
import { createPublicKey, verify } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import test from 'ava';
import { SignedXml } from 'xml-crypto';
import { AdapterError, UnendedLogout, type UpstreamLogoutRequest } from '../../../adapters/contract.ts';
import { createLegacySamlAdapter } from '../../../adapters/saml/legacy-adapter.ts';
import {
  logoutRequestFields,
  logoutRequestXml,
  logoutResponseXml,
  postMessage,
  redirectMessage,
  RESPONDER,
  signedBy,
  successResponse,
} from '../../helpers/saml/logout-messages.ts';
import { createTestIdp } from '../../helpers/saml/test-idp.ts';
import { SP } from '../../helpers/saml/test-bed.ts';
import { adapterFor, IDP_SLO, keys, logoutOf, SESSION, SLO, state } from './single-logout-bed.ts';
import { post } from './hostile-logout-requests.ts';

test('SP metadata lists SingleLogoutService for HTTP-Redirect and HTTP-POST at our SLO URL', async (t) => {
  const adapter = await adapterFor(await createTestIdp({ slo: { post: IDP_SLO } }));
  const xml = await adapter.metadata();
  t.regex(
    xml,
    /<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2\.0:bindings:HTTP-Redirect" Location="https:\/\/gateway\.test\.example\/saml\/slo"\/>/,
  );
  t.regex(
    xml,
    /<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2\.0:bindings:HTTP-POST" Location="https:\/\/gateway\.test\.example\/saml\/slo"\/>/,
  );
});

test('SP-initiated over HTTP-POST: a LogoutRequest signed in the HSM, and the IdP’s LogoutResponse accepted once', async (t) => {
  const idp = await createTestIdp({ slo: { post: IDP_SLO, redirect: IDP_SLO } });
  const logout = logoutOf(await adapterFor(idp));
  const start = await logout.startLogout({ logoutId: 'logout-1', relayState: 'relay-1', session: SESSION });
  if (start?.binding !== 'post') return t.fail('expected HTTP-POST (preferred when both are offered)');
  t.is(start.url, IDP_SLO);
  t.is(start.fields.RelayState, 'relay-1');
  const xml = Buffer.from(start.fields.SAMLRequest!, 'base64').toString('utf8');
  const sig = new SignedXml({ publicCert: keys.certificatePem });
  sig.loadSignature(/<ds:Signature[\s\S]*<\/ds:Signature>/.exec(xml)![0]);
  t.true(sig.checkSignature(xml), 'signed with the HSM key of our metadata');
  t.regex(xml, /<saml:NameID Format="urn:oasis:names:tc:SAML:2\.0:nameid-format:persistent">ada-4711<\/saml:NameID>/);
  t.regex(xml, /<samlp:SessionIndex>idx-1<\/samlp:SessionIndex>/);
  t.regex(xml, /Destination="https:\/\/idp\.test\.example\/slo" NotOnOrAfter="/);
  const requestId = /ID="([^"]+)"/.exec(xml)![1]!;

  const answer = successResponse(idp, SLO, requestId);
  const response = postMessage('SAMLResponse', signedBy(logoutResponseXml(answer), answer.id, idp), 'relay-1');
  t.deepEqual(await logout.finishLogout(response), { logoutId: 'logout-1' });
  const again = await t.throwsAsync(logout.finishLogout(response), { instanceOf: AdapterError });
  t.is(again?.code, 'SAML_LOGOUT_REPLAYED');
});

test('SP-initiated over HTTP-Redirect when the IdP offers only that: the query string is signed in the HSM', async (t) => {
  const idp = await createTestIdp({ slo: { redirect: IDP_SLO } });
  const logout = logoutOf(await adapterFor(idp));
  const start = await logout.startLogout({ logoutId: 'logout-2', relayState: 'relay-2', session: SESSION });
  if (start?.binding !== 'redirect') return t.fail('expected HTTP-Redirect');
  const query = start.url.slice(start.url.indexOf('?') + 1);
  const signed = query.slice(0, query.indexOf('&Signature='));
  const signature = decodeURIComponent(query.slice(query.indexOf('&Signature=') + 11));
  t.true(verify('sha256', Buffer.from(signed), createPublicKey(keys.certificatePem), Buffer.from(signature, 'base64')));
  const params = new URLSearchParams(query);
  const xml = inflateRawSync(Buffer.from(params.get('SAMLRequest')!, 'base64')).toString('utf8');
  t.notRegex(xml, /Signature/, 'no enveloped signature in the Redirect binding');
  const requestId = /ID="([^"]+)"/.exec(xml)![1]!;
  const answer = successResponse(idp, SLO, requestId);
  const response = redirectMessage('SAMLResponse', logoutResponseXml(answer), {
    privateKey: idp.privateKey,
    relayState: 'relay-2',
  });
  t.deepEqual(await logout.finishLogout(response), { logoutId: 'logout-2' });
});

test('an IdP whose metadata lists no SingleLogoutService takes no part', async (t) => {
  const logout = logoutOf(await adapterFor(await createTestIdp()));
  t.is(await logout.startLogout({ logoutId: 'logout-3', relayState: 'r', session: SESSION }), null);
});

test('a LogoutResponse that is not Success, or answers no request of ours, is refused with its code', async (t) => {
  const idp = await createTestIdp({ slo: { post: IDP_SLO } });
  const logout = logoutOf(await adapterFor(idp));
  const start = await logout.startLogout({ logoutId: 'logout-4', relayState: 'r', session: SESSION });
  if (start?.binding !== 'post') return t.fail();
  const requestId = /ID="([^"]+)"/.exec(Buffer.from(start.fields.SAMLRequest!, 'base64').toString('utf8'))![1]!;
  const failed = { ...successResponse(idp, SLO, requestId), status: RESPONDER };
  const notSuccess = await t.throwsAsync(
    logout.finishLogout(postMessage('SAMLResponse', signedBy(logoutResponseXml(failed), failed.id, idp))),
    { instanceOf: AdapterError },
  );
  t.is(notSuccess?.code, 'SAML_LOGOUT_STATUS_NOT_SUCCESS');
  // verified, and the answer to our request: the gateway may go on with the person's logout (the next IdP)
  t.true(notSuccess instanceof UnendedLogout);
  t.is((notSuccess as UnendedLogout).logoutId, 'logout-4');
  const unsolicited = successResponse(idp, SLO, '_never-sent');
  const unknown = await t.throwsAsync(
    logout.finishLogout(postMessage('SAMLResponse', signedBy(logoutResponseXml(unsolicited), unsolicited.id, idp))),
    { instanceOf: AdapterError },
  );
  t.is(unknown?.code, 'SAML_LOGOUT_INRESPONSETO_UNKNOWN');
  t.false(unknown instanceof UnendedLogout, 'an answer to no request of ours is no verified answer');
});

test('IdP-initiated: a valid LogoutRequest ends what it names and gets a signed LogoutResponse (Success)', async (t) => {
  const idp = await createTestIdp({ slo: { post: IDP_SLO } });
  const logout = logoutOf(await adapterFor(idp));
  const fields = logoutRequestFields(idp, SLO, 'ada-4711', 'idx-1');
  const asked: UpstreamLogoutRequest[] = [];
  const {
    reply: answer,
    sessions,
    attempt,
  } = await logout.answerLogout(
    postMessage('SAMLRequest', signedBy(logoutRequestXml(fields), fields.id, idp), 'idp-relay'),
    async (request) => (asked.push(request), 1),
  );
  t.deepEqual([sessions, attempt], [1, 'first']);
  t.deepEqual(asked, [
    { idp: 'slo-idp', subject: 'ada-4711', nameIdFormat: SESSION.nameIdFormat, sessionIndexes: ['idx-1'] },
  ]);
  if (answer?.binding !== 'post') return t.fail('expected HTTP-POST');
  t.is(answer.url, IDP_SLO);
  t.is(answer.fields.RelayState, 'idp-relay');
  const xml = Buffer.from(answer.fields.SAMLResponse!, 'base64').toString('utf8');
  t.regex(xml, new RegExp(`InResponseTo="${fields.id}"`));
  t.regex(xml, /StatusCode Value="urn:oasis:names:tc:SAML:2\.0:status:Success"/);
  const sig = new SignedXml({ publicCert: keys.certificatePem });
  sig.loadSignature(/<ds:Signature[\s\S]*<\/ds:Signature>/.exec(xml)![0]);
  t.true(sig.checkSignature(xml));
});

test('IdP-initiated over HTTP-Redirect: the query-string signature is verified with the metadata key', async (t) => {
  const idp = await createTestIdp({ slo: { redirect: IDP_SLO } });
  const logout = logoutOf(await adapterFor(idp));
  const fields = logoutRequestFields(idp, SLO, 'ada-4711', 'idx-1');
  const answer = await logout.answerLogout(
    redirectMessage('SAMLRequest', logoutRequestXml(fields), { privateKey: idp.privateKey, relayState: 'rs' }),
    async () => 1,
  );
  t.is(answer.reply?.binding, 'redirect');
});

test('routing: names() recognises its own IdP’s logout messages only', async (t) => {
  const idp = await createTestIdp({ slo: { post: IDP_SLO } });
  const other = await createTestIdp({ entityId: 'https://other.test.example/metadata', slo: { post: IDP_SLO } });
  const logout = logoutOf(await adapterFor(idp));
  t.true(logout.names(post(idp, logoutRequestFields(idp, SLO, 'a', 'b'))));
  t.false(logout.names(post(other, logoutRequestFields(other, SLO, 'a', 'b'))));
});

test('routing: an IdP whose metadata is unavailable names no logout (the other IdPs are still asked)', async (t) => {
  const idp = await createTestIdp({ slo: { post: IDP_SLO } });
  const unavailable = await createLegacySamlAdapter(
    {
      id: 'gone',
      displayName: 'Gone',
      metadataFile: idp.metadataFile,
      maxLoa: 'http://eidas.europa.eu/LoA/substantial',
    },
    { ...SP, sloUrl: SLO, signingCertificatePem: keys.certificatePem },
    {
      keys: keys.store,
      state,
      digestKey: Buffer.alloc(32, 1),
      baseUrl: 'https://gateway.test.example',
      now: () => new Date(),
    },
    { metadata: { current: () => undefined, availability: () => 'unavailable' } },
  );
  t.false(logoutOf(unavailable).names(post(idp, logoutRequestFields(idp, SLO, 'a', 'b'))));
});

test('a SingleLogoutService URL that is not an absolute http(s) URL is refused at boot', async (t) => {
  const idp = await createTestIdp({ slo: { post: IDP_SLO } });
  const error = await t.throwsAsync(
    createLegacySamlAdapter(
      { id: 'x', displayName: 'X', metadataFile: idp.metadataFile, maxLoa: 'http://eidas.europa.eu/LoA/substantial' },
      { ...SP, sloUrl: 'javascript:alert(1)', signingCertificatePem: keys.certificatePem },
      {
        keys: keys.store,
        state,
        digestKey: Buffer.alloc(32, 1),
        baseUrl: 'https://gateway.test.example',
        now: () => new Date(),
      },
    ),
    { instanceOf: AdapterError },
  );
  t.is(error?.code, 'SAML_CONFIG_INVALID');
});
