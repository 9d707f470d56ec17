/**
 * Interoperability with an independent SAML implementation: IdentityPython's pysaml2 (Debian
 * python3-pysaml2, xmlsec1), started by this test as an HTTP IdP on 127.0.0.1. It reads our signed SP
 * metadata, parses and checks our HSM-signed AuthnRequest, and answers with an assertion it signs; the
 * legacy adapter accepts it through the whole pipeline, once (a second post is a replay). Single Logout both
 * ways: pysaml2 verifies our HSM-signed LogoutRequest and LogoutResponse, we verify its signed ones.
 * (Debian's pysaml2 7.0.1 encrypts only with 3DES-CBC and rsa-1_5 by default, which we refuse
 * (EIDAS-CRY-02), and its xmlsec1 call for des-192 fails under OpenSSL 3: encryption interop is covered
 * by our own eIDAS node instead.)
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { AdapterError } from '../../../adapters/contract.ts';
import type { SamlAdapter } from '../../../adapters/saml/saml-adapter.ts';
import { createLegacySamlAdapter } from '../../../adapters/saml/legacy-adapter.ts';
import type { KeyTransportDecrypter } from '../../../adapters/saml/xmlenc/decrypter.ts';
import { RedisStateStore } from '../../../gateway/store/redis-state-store.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { freshToken, redisPrefix, redisUrl } from '../../helpers/services.ts';
import { startPysaml2Idp, type Pysaml2Idp } from '../../helpers/saml/pysaml2-idp.ts';
import { softwareDecrypter } from '../../helpers/saml/software-decrypter.ts';
import { openSpKeys, SP, type SpKeys } from '../../helpers/saml/test-bed.ts';
import { offeredLogout } from '../../helpers/offered-logout.ts';
import { idpMetadata } from '../../harness/idp-metadata.ts';

const token = freshToken();
const SLO_URL = 'https://gateway.test.example/saml/slo';
let keys: SpKeys;
let decrypter: KeyTransportDecrypter;
let spServer: Server;
const adapters = new Map<string, SamlAdapter>();
const idps: Pysaml2Idp[] = [];
const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
const state = new RedisStateStore(redis);

test.before(async () => {
  keys = await openSpKeys(token);
  decrypter = await softwareDecrypter();
  spServer = createServer((req, res) => {
    const adapter = adapters.get(req.url?.slice(1) ?? '');
    if (!adapter) return void res.writeHead(404).end();
    void adapter
      .metadata()
      .then((xml) => res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(xml));
  });
  await new Promise<void>((resolve) => spServer.listen(0, '127.0.0.1', resolve));
});
test.after.always(async () => {
  for (const idp of idps) await idp.stop();
  spServer?.closeAllConnections();
  await new Promise((resolve) => spServer?.close(resolve));
  await redis.quit();
  await keys?.store.close();
});

async function pysaml2(id: string, encrypt = false): Promise<{ idp: Pysaml2Idp; adapter: SamlAdapter }> {
  const port = (spServer.address() as { port: number }).port;
  const idp = await startPysaml2Idp({ spMetadataUrl: `http://127.0.0.1:${port}/${id}`, encrypt });
  idps.push(idp);
  const file = join(mkdtempSync(join(tmpdir(), 'gw-pysaml2-md-')), 'idp.xml');
  writeFileSync(file, await idpMetadata(idp.metadataUrl));
  const adapter = await createLegacySamlAdapter(
    {
      id,
      displayName: 'pysaml2',
      metadataFile: file,
      maxLoa: 'http://eidas.europa.eu/LoA/substantial',
      encryptedAssertions: 'allowed',
    },
    {
      ...SP,
      sloUrl: SLO_URL,
      signingCertificatePem: keys.certificatePem,
      encryptionCertificatePem: decrypter.certificatePem,
    },
    {
      keys: keys.store,
      state,
      digestKey: Buffer.alloc(32, 1),
      baseUrl: 'https://gateway.test.example',
      now: () => new Date(),
    },
    { decrypter },
  );
  adapters.set(id, adapter);
  return { idp, adapter };
}

async function roundTrip(adapter: SamlAdapter, loginId: string) {
  const { response } = await roundTripRaw(adapter, loginId);
  return adapter.finishLogin(response);
}

async function roundTripRaw(adapter: SamlAdapter, loginId: string) {
  const start = await adapter.startLogin({
    loginId,
    browserBinding: 'browser-py',
    minimumLoa: 'http://eidas.europa.eu/LoA/substantial',
    forceAuthn: false,
  });
  if (start.binding !== 'post') throw new Error('expected POST');
  const answer = await fetch(start.url, { method: 'POST', body: new URLSearchParams(start.fields) });
  const html = await answer.text();
  if (answer.status !== 200) throw new Error(`pysaml2 answered ${answer.status}: ${html}`);
  const samlResponse = /name="SAMLResponse" value="([^"]+)"/.exec(html)![1]!;
  return {
    response: {
      method: 'POST',
      params: { SAMLResponse: samlResponse, RelayState: start.fields.RelayState! },
      browserBinding: 'browser-py',
    },
  };
}

test.serial('pysaml2 accepts our HSM-signed AuthnRequest and its signed assertion passes our pipeline', async (t) => {
  const { adapter } = await pysaml2('pysaml2-plain', false);
  const result = await roundTrip(adapter, 'login-py-1');
  t.is(result.loginId, 'login-py-1');
  t.is(result.identity.subject, 'ada-4711');
  t.is(result.identity.loa, 'http://eidas.europa.eu/LoA/substantial');
  t.deepEqual(result.identity.attributes.given_name, ['Ada']);
  t.deepEqual(result.identity.attributes.family_name, ['Lovelace']);
  t.deepEqual(result.identity.attributes.email, ['ada@example.org']);
  t.is(result.identity.evidence.signaturesVerified, 1);
});

test.serial('a pysaml2 response posted twice is refused the second time', async (t) => {
  const adapter = adapters.get('pysaml2-plain')!;
  const { response } = await roundTripRaw(adapter, 'login-py-2');
  await adapter.finishLogin(response);
  const error = await t.throwsAsync(adapter.finishLogin(response), { instanceOf: AdapterError });
  t.is(error?.code, 'SAML_REPLAY');
});

/** The one POST form of a page: its action and fields. */
function formOf(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form method="post" action="([^"]+)"/.exec(html)![1]!;
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[m[1]!] = m[2]!;
  return { action: action.replace(/&amp;/g, '&'), fields };
}

test.serial(
  'Single Logout, SP-initiated: pysaml2 verifies our HSM-signed LogoutRequest; its signed LogoutResponse passes',
  async (t) => {
    const { idp, adapter } = await pysaml2('pysaml2-slo', false);
    const login = await roundTrip(adapter, 'login-py-slo-1');
    t.truthy(login.identity.sessionIndex, 'pysaml2 gave a SessionIndex');
    const start = await offeredLogout(adapter).startLogout({
      logoutId: 'logout-py-1',
      relayState: 'relay-py-1',
      session: {
        idp: 'pysaml2-slo',
        subject: login.identity.subject,
        nameIdFormat: login.identity.nameIdFormat,
        ...(login.identity.sessionIndex === undefined ? {} : { sessionIndex: login.identity.sessionIndex }),
      },
    });
    if (start?.binding !== 'post') return t.fail('pysaml2 lists an HTTP-POST SingleLogoutService');
    t.is(start.url, `${idp.url}/slo`);
    const answer = await fetch(start.url, { method: 'POST', body: new URLSearchParams(start.fields) });
    const html = await answer.text();
    t.is(answer.status, 200, html);
    const form = formOf(html);
    t.is(form.action, SLO_URL);
    t.is(form.fields.RelayState, 'relay-py-1');
    const done = await offeredLogout(adapter).finishLogout({ method: 'POST', params: form.fields });
    t.deepEqual(done, { logoutId: 'logout-py-1' });
  },
);

test.serial(
  'Single Logout, IdP-initiated: a LogoutRequest pysaml2 signs is verified; pysaml2 verifies our signed answer',
  async (t) => {
    const { idp } = await pysaml2('pysaml2-slo-2', false);
    const adapter = adapters.get('pysaml2-slo-2')!;
    const login = await roundTrip(adapter, 'login-py-slo-2');
    const query = new URLSearchParams({
      name_id: login.identity.subject,
      session_index: login.identity.sessionIndex ?? '',
    });
    const built = await fetch(`${idp.url}/initiate-logout?${query}`);
    const samlRequest = await built.text();
    t.is(built.status, 200, samlRequest);
    const message = { method: 'POST', params: { SAMLRequest: samlRequest, RelayState: 'from-pysaml2' } };
    const asked: unknown[] = [];
    const { reply } = await offeredLogout(adapter).answerLogout(message, async (request) => (asked.push(request), 1));
    t.deepEqual(asked, [
      {
        idp: 'pysaml2-slo-2',
        subject: 'ada-4711',
        nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
        sessionIndexes: [login.identity.sessionIndex],
      },
    ]);
    if (reply?.binding !== 'post') return t.fail('expected HTTP-POST');
    const verdict = await fetch(reply.url, { method: 'POST', body: new URLSearchParams(reply.fields) });
    t.is(await verdict.text(), 'logout-response urn:oasis:names:tc:SAML:2.0:status:Success');
    const replayed = await t.throwsAsync(
      offeredLogout(adapter).answerLogout(message, async () => 1),
      {
        instanceOf: AdapterError,
      },
    );
    t.is(replayed?.code, 'SAML_LOGOUT_REPLAYED');
  },
);
