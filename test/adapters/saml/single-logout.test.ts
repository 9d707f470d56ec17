/**
 * SAML Single Logout in the adapter (issue #12 item 6): our LogoutRequest signed in SoftHSM2 by the binding
 * the IdP's metadata offers, the IdP's LogoutResponse verified, and the IdP's own LogoutRequest verified as
 * strictly as a login response — each hostile shape refused with its code and nothing ended.
 */
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import test, { type ExecutionContext } from 'ava';
import { SignedXml } from 'xml-crypto';
import {
  AdapterError,
  AnsweredLogoutRefusal,
  type UpstreamLogout,
  type UpstreamLogoutRequest,
} from '../../../adapters/contract.ts';
import type { AdapterErrorCode } from '../../../adapters/errors/registry.ts';
import { createLegacySamlAdapter } from '../../../adapters/saml/legacy-adapter.ts';
import type { SamlAdapter } from '../../../adapters/saml/saml-adapter.ts';
import { RedisStateStore } from '../../../gateway/store/redis-state-store.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { selfSignedCertificate } from '../../../hsm/x509.ts';
import {
  logoutRequestFields,
  logoutRequestXml,
  logoutResponseXml,
  postMessage,
  redirectMessage,
  RESPONDER,
  signedBy,
  successResponse,
  type LogoutRequestFields,
} from '../../helpers/saml/logout-messages.ts';
import { offeredLogout } from '../../helpers/offered-logout.ts';
import { freshToken, redisPrefix, redisUrl } from '../../helpers/services.ts';
import { createTestIdp, RSA_SHA1, type TestIdp } from '../../helpers/saml/test-idp.ts';
import { openSpKeys, SP, type SpKeys } from '../../helpers/saml/test-bed.ts';

const token = freshToken();
const SLO = 'https://gateway.test.example/saml/slo';
const IDP_SLO = 'https://idp.test.example/slo';
const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
const state = new RedisStateStore(redis);
let keys: SpKeys;

test.before(async () => {
  keys = await openSpKeys(token);
});
test.after.always(async () => {
  await redis.quit();
  await keys?.store.close();
});

async function adapterFor(idp: TestIdp, id = 'slo-idp'): Promise<SamlAdapter> {
  return createLegacySamlAdapter(
    { id, displayName: 'SLO IdP', metadataFile: idp.metadataFile, maxLoa: 'http://eidas.europa.eu/LoA/substantial' },
    { ...SP, sloUrl: SLO, signingCertificatePem: keys.certificatePem },
    { keys: keys.store, state, baseUrl: 'https://gateway.test.example', now: () => new Date() },
  );
}

const logoutOf = (adapter: SamlAdapter): UpstreamLogout => offeredLogout(adapter);
const SESSION = {
  idp: 'slo-idp',
  subject: 'ada-4711',
  nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  sessionIndex: 'idx-1',
};

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
  const unsolicited = successResponse(idp, SLO, '_never-sent');
  const unknown = await t.throwsAsync(
    logout.finishLogout(postMessage('SAMLResponse', signedBy(logoutResponseXml(unsolicited), unsolicited.id, idp))),
    { instanceOf: AdapterError },
  );
  t.is(unknown?.code, 'SAML_LOGOUT_INRESPONSETO_UNKNOWN');
});

test('IdP-initiated: a valid LogoutRequest ends what it names and gets a signed LogoutResponse (Success)', async (t) => {
  const idp = await createTestIdp({ slo: { post: IDP_SLO } });
  const logout = logoutOf(await adapterFor(idp));
  const fields = logoutRequestFields(idp, SLO, 'ada-4711', 'idx-1');
  const asked: UpstreamLogoutRequest[] = [];
  const answer = await logout.answerLogout(
    postMessage('SAMLRequest', signedBy(logoutRequestXml(fields), fields.id, idp), 'idp-relay'),
    async (request) => (asked.push(request), 1),
  );
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
  t.is(answer?.binding, 'redirect');
});

/** Each hostile IdP LogoutRequest, named after its shape, and the code it must get. */
const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
type Shape = (idp: TestIdp, f: LogoutRequestFields) => Promise<Parameters<UpstreamLogout['answerLogout']>[0]>;
const post = (idp: TestIdp, f: LogoutRequestFields) =>
  postMessage('SAMLRequest', signedBy(logoutRequestXml(f), f.id, idp));
const SHAPES: ReadonlyArray<[shape: string, code: AdapterErrorCode, build: Shape]> = [
  [
    'logout-request.unsigned',
    'SAML_LOGOUT_SIGNATURE_MISSING',
    async (_i, f) => postMessage('SAMLRequest', logoutRequestXml(f)),
  ],
  [
    'logout-request.signed-by-a-key-not-in-metadata',
    'SAML_LOGOUT_SIGNATURE_INVALID',
    async (_i, f) => {
      const certificatePem = await selfSignedForeign();
      return postMessage('SAMLRequest', signedBy(logoutRequestXml(f), f.id, { privateKey: foreign, certificatePem }));
    },
  ],
  [
    'logout-request.nameid-changed-after-signing',
    'SAML_LOGOUT_SIGNATURE_INVALID',
    async (idp, f) =>
      postMessage('SAMLRequest', signedBy(logoutRequestXml(f), f.id, idp).replace('>ada-4711<', '>someone-else<')),
  ],
  [
    'logout-request.rsa-sha1',
    'SAML_ALG_NOT_ALLOWED',
    async (idp, f) => postMessage('SAMLRequest', signedBy(logoutRequestXml(f), f.id, idp, 'rsa-sha1')),
  ],
  [
    'logout-request.issuer-of-another-idp',
    'SAML_LOGOUT_ISSUER_INVALID',
    async (idp, f) => post(idp, { ...f, issuer: 'https://other-idp.test.example/metadata' }),
  ],
  [
    'logout-request.destination-elsewhere',
    'SAML_LOGOUT_DESTINATION_INVALID',
    async (idp, f) => post(idp, { ...f, destination: 'https://attacker.example/slo' }),
  ],
  [
    'logout-request.destination-missing',
    'SAML_LOGOUT_DESTINATION_INVALID',
    async (idp, { destination: _d, ...f }) => post(idp, f),
  ],
  [
    'logout-request.not-on-or-after-passed',
    'SAML_LOGOUT_EXPIRED',
    async (idp, f) => post(idp, { ...f, notOnOrAfter: new Date(Date.now() - 120_000).toISOString() }),
  ],
  [
    'logout-request.issued-an-hour-ago',
    'SAML_LOGOUT_EXPIRED',
    async (idp, f) => post(idp, { ...f, issueInstant: new Date(Date.now() - 3_600_000).toISOString() }),
  ],
  [
    'logout-request.issued-in-the-future',
    'SAML_LOGOUT_NOT_YET_VALID',
    async (idp, f) => post(idp, { ...f, issueInstant: new Date(Date.now() + 600_000).toISOString() }),
  ],
  [
    'logout-request.with-doctype',
    'SAML_DTD_FORBIDDEN',
    async (idp, f) =>
      postMessage('SAMLRequest', `<!DOCTYPE x [<!ENTITY e "x">]>${signedBy(logoutRequestXml(f), f.id, idp)}`),
  ],
  [
    'logout-request.redirect-unsigned',
    'SAML_LOGOUT_SIGNATURE_MISSING',
    async (_i, f) => redirectMessage('SAMLRequest', logoutRequestXml(f)),
  ],
  [
    'logout-request.redirect-rsa-sha1',
    'SAML_ALG_NOT_ALLOWED',
    async (idp, f) =>
      redirectMessage('SAMLRequest', logoutRequestXml(f), { privateKey: idp.privateKey, sigAlg: RSA_SHA1 }),
  ],
  [
    'logout-request.redirect-signed-by-a-key-not-in-metadata',
    'SAML_LOGOUT_SIGNATURE_INVALID',
    async (_i, f) => redirectMessage('SAMLRequest', logoutRequestXml(f), { privateKey: foreign }),
  ],
  [
    'logout-request.redirect-relaystate-added-after-signing',
    'SAML_LOGOUT_SIGNATURE_INVALID',
    async (idp, f) =>
      redirectMessage('SAMLRequest', logoutRequestXml(f), {
        privateKey: idp.privateKey,
        tamper: (q) => q.replace('&SigAlg=', '&RelayState=injected&SigAlg='),
      }),
  ],
];

let foreignPem: string | undefined;
async function selfSignedForeign(): Promise<string> {
  const publicKey = createPublicKey(foreign);
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  foreignPem ??= await selfSignedCertificate(
    {
      kid: 'foreign',
      alg: 'RS256',
      purpose: 'saml',
      publicJwk: { kty: 'RSA', n: jwk.n, e: jwk.e, kid: 'foreign', alg: 'RS256', use: 'sig' },
      publicKey: () => publicKey,
      sign: async (data) => new Uint8Array(sign('sha256', data, foreign)),
    },
    { subject: 'CN=Test IdP', days: 2 },
  );
  return foreignPem;
}

/** The refusals answered to the IdP (logout-refusal.ts), by second-level status; every other shape gets the page. */
const ANSWERED: Partial<Record<AdapterErrorCode, string>> = {
  SAML_LOGOUT_NOT_YET_VALID: 'RequestDenied',
  SAML_LOGOUT_EXPIRED: 'RequestDenied',
  SAML_LOGOUT_UNKNOWN_SESSION: 'UnknownPrincipal',
};

/** A refusal answered to the IdP: a LogoutResponse signed in the HSM, Requester + `second`, to its endpoint. */
function assertAnswered(
  t: ExecutionContext,
  error: AdapterError | undefined,
  requestId: string,
  second: string,
  binding: 'post' | 'redirect' = 'post',
): void {
  if (!(error instanceof AnsweredLogoutRefusal)) return void t.fail('expected an answered refusal');
  const reply = error.reply;
  if (reply.binding !== binding) return void t.fail(`expected ${binding}`);
  if (reply.binding === 'redirect') {
    const query = reply.url.slice(reply.url.indexOf('?') + 1);
    const signed = query.slice(0, query.indexOf('&Signature='));
    const signature = decodeURIComponent(query.slice(query.indexOf('&Signature=') + 11));
    t.true(
      verify('sha256', Buffer.from(signed), createPublicKey(keys.certificatePem), Buffer.from(signature, 'base64')),
    );
    const xml = inflateRawSync(Buffer.from(new URLSearchParams(query).get('SAMLResponse')!, 'base64')).toString();
    return void statusOf(t, xml, requestId, second);
  }
  t.is(reply.url, IDP_SLO);
  const xml = Buffer.from(reply.fields.SAMLResponse!, 'base64').toString('utf8');
  const sig = new SignedXml({ publicCert: keys.certificatePem });
  sig.loadSignature(/<ds:Signature[\s\S]*<\/ds:Signature>/.exec(xml)![0]);
  t.true(sig.checkSignature(xml), 'signed with the HSM key of our metadata');
  statusOf(t, xml, requestId, second);
}

function statusOf(t: ExecutionContext, xml: string, requestId: string, second: string): void {
  t.regex(xml, new RegExp(`InResponseTo="${requestId}"`));
  t.regex(xml, /Destination="https:\/\/idp\.test\.example\/slo"/);
  t.true(
    xml.includes(
      '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Requester">' +
        `<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:${second}"/></samlp:StatusCode>`,
    ),
    xml,
  );
}

for (const [shape, code, build] of SHAPES) {
  test(`IdP-initiated ${shape} is refused with ${code} and nothing is ended`, async (t) => {
    const idp = await createTestIdp({ slo: { post: IDP_SLO, redirect: IDP_SLO } });
    const logout = logoutOf(await adapterFor(idp));
    let ended = 0;
    const fields = logoutRequestFields(idp, SLO, 'ada-4711', 'idx-1');
    const error = await t.throwsAsync(
      logout.answerLogout(await build(idp, fields), async () => {
        ended += 1;
        return 1;
      }),
      { instanceOf: AdapterError },
    );
    t.is(error?.code, code);
    t.is(ended, 0);
    const second = ANSWERED[code];
    if (second === undefined) t.false(error instanceof AnsweredLogoutRefusal, 'the page: no answer to this sender');
    else assertAnswered(t, error, fields.id, second);
  });
}

test('IdP-initiated over HTTP-Redirect, expired: the refusal goes back by Redirect, the query signed in the HSM', async (t) => {
  const idp = await createTestIdp({ slo: { redirect: IDP_SLO } });
  const logout = logoutOf(await adapterFor(idp));
  const fields = { ...logoutRequestFields(idp, SLO, 'ada-4711', 'idx-1'), notOnOrAfter: new Date(0).toISOString() };
  const error = await t.throwsAsync(
    logout.answerLogout(
      redirectMessage('SAMLRequest', logoutRequestXml(fields), { privateKey: idp.privateKey, relayState: 'rs' }),
      async () => 1,
    ),
    { instanceOf: AdapterError },
  );
  t.is(error?.code, 'SAML_LOGOUT_EXPIRED');
  assertAnswered(t, error, fields.id, 'RequestDenied', 'redirect');
});

test('IdP-initiated, a refusal of an IdP that lists no SingleLogoutService: no answer can go anywhere, the page', async (t) => {
  const idp = await createTestIdp();
  const logout = logoutOf(await adapterFor(idp));
  const fields = logoutRequestFields(idp, SLO, 'nobody', 'idx-unknown');
  const error = await t.throwsAsync(
    logout.answerLogout(post(idp, fields), async () => 0),
    { instanceOf: AdapterError },
  );
  t.is(error?.code, 'SAML_LOGOUT_UNKNOWN_SESSION');
  t.false(error instanceof AnsweredLogoutRefusal);
});

test('IdP-initiated: the same LogoutRequest twice is refused the second time (SAML_LOGOUT_REPLAYED)', async (t) => {
  const idp = await createTestIdp({ slo: { post: IDP_SLO } });
  const logout = logoutOf(await adapterFor(idp));
  const fields = logoutRequestFields(idp, SLO, 'ada-4711', 'idx-1');
  const message = post(idp, fields);
  let ended = 0;
  const end = async () => ((ended += 1), 1);
  await logout.answerLogout(message, end);
  const error = await t.throwsAsync(logout.answerLogout(message, end), { instanceOf: AdapterError });
  t.is(error?.code, 'SAML_LOGOUT_REPLAYED');
  t.is(ended, 1);
  t.false(error instanceof AnsweredLogoutRefusal, 'answered once already: no second, contradicting answer');
});

test('IdP-initiated: a LogoutRequest naming no session of ours is refused (SAML_LOGOUT_UNKNOWN_SESSION)', async (t) => {
  const idp = await createTestIdp({ slo: { post: IDP_SLO } });
  const logout = logoutOf(await adapterFor(idp));
  const fields = logoutRequestFields(idp, SLO, 'nobody', 'idx-unknown');
  const error = await t.throwsAsync(
    logout.answerLogout(post(idp, fields), async () => 0),
    {
      instanceOf: AdapterError,
    },
  );
  t.is(error?.code, 'SAML_LOGOUT_UNKNOWN_SESSION');
  assertAnswered(t, error, fields.id, 'UnknownPrincipal');
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
    { keys: keys.store, state, baseUrl: 'https://gateway.test.example', now: () => new Date() },
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
      { keys: keys.store, state, baseUrl: 'https://gateway.test.example', now: () => new Date() },
    ),
    { instanceOf: AdapterError },
  );
  t.is(error?.code, 'SAML_CONFIG_INVALID');
});
