/**
 * Issue #12 item 6 (second half): SAML Single Logout through the whole gateway, with the samlify demo IdP of
 * `make run` (an independent implementation) on the other side.
 *
 * - RP-initiated logout ends the upstream session too: the browser carries our HSM-signed LogoutRequest to the
 *   IdP, which verifies it against our metadata and answers a signed LogoutResponse that we verify; the
 *   browser ends at the RP's post_logout_redirect_uri.
 * - IdP-initiated logout: samlify's signed LogoutRequest revokes exactly the session it names (its access token
 *   is refused at userinfo) and samlify verifies our signed LogoutResponse.
 * - Hostile LogoutRequests (unsigned, signed by a foreign key, replayed, naming no session of ours) are refused
 *   with their codes, audited, and the person's session survives.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import test from 'ava';
import { formsIn } from '../../helpers/browser.ts';
import { ensureDevPki } from '../../../certs/dev-pki.ts';
import { logoutRequestFields, logoutRequestXml, signedBy } from '../../helpers/saml/logout-messages.ts';
import type { TestIdp } from '../../helpers/saml/test-idp.ts';
import { logIn, startSessionBed, type LoggedIn, type SessionBed } from './session-bed.ts';

let bed: SessionBed;

test.before(async () => {
  bed = await startSessionBed();
});
test.after.always(async () => {
  await bed?.stop();
});

const slo = () => `${bed.url}/saml/slo`;

async function userinfo(session: LoggedIn): Promise<number> {
  const response = await fetch(`${bed.url}/me`, { headers: { authorization: `Bearer ${session.accessToken}` } });
  await response.body?.cancel();
  return response.status;
}

async function audited(to: string): Promise<{ error_code: string | null; details: Record<string, unknown> }[]> {
  const { rows } = await bed.gateway.services.pool.query<{
    error_code: string | null;
    details: Record<string, unknown>;
  }>('select error_code, details from audit_log where to_state = $1 order by id', [to]);
  return rows;
}

/** The last upstream session the demo IdP opened (the login just made). */
const lastIdpSession = () => bed.deployment.idp.sessions().at(-1)!;

/** The demo IdP as the party that signs: its key from the development PKI of this deployment. */
function demoIdpSigner(): Pick<TestIdp, 'entityId' | 'privateKey' | 'certificatePem'> {
  const pki = ensureDevPki(join(bed.dir, 'pki'));
  return {
    entityId: bed.deployment.idp.entityId,
    privateKey: createPrivateKey(pki.idpKeyPem),
    certificatePem: pki.idpCertPem,
  };
}

async function postToSlo(fields: Record<string, string>): Promise<Response> {
  return fetch(slo(), { method: 'POST', body: new URLSearchParams(fields), redirect: 'manual' });
}

const codeOf = (html: string) => /<code>([A-Z0-9_]+)<\/code>/.exec(html)?.[1];

test.serial('our SP metadata lists SingleLogoutService (Redirect and POST) at /saml/slo', async (t) => {
  const xml = await (await fetch(`${bed.url}/saml/metadata`)).text();
  t.true(
    xml.includes(
      `<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${slo()}"/>`,
    ),
  );
  t.true(
    xml.includes(
      `<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${slo()}"/>`,
    ),
  );
});

test.serial('RP-initiated logout ends the session at the IdP too, and the browser ends at the RP', async (t) => {
  const session = await logIn(bed);
  const upstream = lastIdpSession();
  const plru = new URL('/', bed.deployment.client.redirect_uri).toString();
  const atPlru = (u: URL) => u.href.startsWith(plru);
  const endpoint = new URL(String(bed.rp.serverMetadata().end_session_endpoint));
  endpoint.searchParams.set('id_token_hint', session.idToken);
  endpoint.searchParams.set('post_logout_redirect_uri', plru);
  let step = await session.browser.follow(endpoint, {}, atPlru);
  const visited: string[] = [];
  for (let i = 0; i < 6 && !atPlru(step.url) && step.response.status === 200; i++) {
    const form = formsIn(await step.response.text()).find((f) => f.method === 'POST');
    if (form === undefined) break;
    visited.push(new URL(form.action, step.url).href);
    step = await session.browser.submit(
      form,
      step.url,
      form.action.includes('session/end') ? { logout: 'yes' } : {},
      atPlru,
    );
  }
  t.true(atPlru(step.url), `ended at ${step.url}`);
  t.true(visited.includes(`${bed.deployment.idp.url}/slo`), 'the browser took our LogoutRequest to the IdP');
  t.true(visited.includes(slo()), 'and the IdP’s LogoutResponse back to us');
  t.false(
    bed.deployment.idp.sessions().some((s) => s.sessionIndex === upstream.sessionIndex),
    'samlify verified our LogoutRequest and ended its session',
  );
  t.is((await audited('UPSTREAM_LOGOUT_SENT')).length, 1);
  t.is((await audited('UPSTREAM_LOGOUT_COMPLETED')).length, 1);
  t.is(await userinfo(session), 401);
});

test.serial('IdP-initiated logout revokes exactly the session it names; samlify verifies our answer', async (t) => {
  const other = await logIn(bed);
  const session = await logIn(bed);
  const upstream = lastIdpSession();
  t.is(await userinfo(session), 200);
  const message = await bed.deployment.idp.logoutRequest(upstream.sessionIndex, 'relay-from-idp');
  t.is(message.url, slo());
  const answer = await postToSlo(message.fields);
  t.is(answer.status, 200);
  const form = formsIn(await answer.text()).find((f) => f.method === 'POST')!;
  t.is(form.action, `${bed.deployment.idp.url}/slo`);
  t.is(form.fields.RelayState, 'relay-from-idp');
  const delivered = await fetch(form.action, { method: 'POST', body: new URLSearchParams(form.fields) });
  t.is(delivered.status, 200, 'samlify accepted our signed LogoutResponse');
  t.is(bed.deployment.idp.logoutResponses().at(-1)?.inResponseTo, message.id);
  t.is(await userinfo(session), 401, 'the named session is revoked');
  t.is(await userinfo(other), 200, 'another session of the same person stays');
  const answered = await audited('UPSTREAM_LOGOUT_ANSWERED');
  t.is(answered.at(-1)?.details.sessions, 1);
});

test.serial('hostile IdP LogoutRequests are refused with their codes, audited, and the session survives', async (t) => {
  const session = await logIn(bed);
  const upstream = lastIdpSession();
  const idp = demoIdpSigner();
  const fields = () => logoutRequestFields(idp as TestIdp, slo(), upstream.nameId, upstream.sessionIndex);

  const unsigned = fields();
  const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const forged = fields();
  const elsewhere = { ...fields(), destination: 'https://attacker.example/slo' };
  const nobody = { ...fields(), sessionIndexes: ['_session-unknown'] };
  const stranger = { ...fields(), nameId: 'someone-we-never-saw' };
  const cases: [string, string, string][] = [
    ['unsigned', 'SAML_LOGOUT_SIGNATURE_MISSING', logoutRequestXml(unsigned)],
    [
      'signed by a key not in the metadata',
      'SAML_LOGOUT_SIGNATURE_INVALID',
      signedBy(logoutRequestXml(forged), forged.id, { privateKey: attacker, certificatePem: idp.certificatePem }),
    ],
    [
      'another Destination',
      'SAML_LOGOUT_DESTINATION_INVALID',
      signedBy(logoutRequestXml(elsewhere), elsewhere.id, idp),
    ],
  ];
  for (const [what, code, xml] of cases) {
    const response = await postToSlo({ SAMLRequest: Buffer.from(xml).toString('base64') });
    t.is(response.status, 400, what);
    t.is(codeOf(await response.text()), code, what);
  }
  // verified and meant for us, but refused: answered to the IdP's own endpoint with a non-success status
  const future = { ...fields(), issueInstant: new Date(Date.now() + 600_000).toISOString() };
  const old = { ...fields(), issueInstant: new Date(Date.now() - 3_600_000).toISOString() };
  const UNKNOWN_PRINCIPAL = 'UnknownPrincipal';
  const DENIED = 'RequestDenied';
  const answered: [string, string, string, string][] = [
    [
      'an unknown SessionIndex',
      'SAML_LOGOUT_UNKNOWN_SESSION',
      UNKNOWN_PRINCIPAL,
      signedBy(logoutRequestXml(nobody), nobody.id, idp),
    ],
    [
      'an unknown NameID',
      'SAML_LOGOUT_UNKNOWN_SESSION',
      UNKNOWN_PRINCIPAL,
      signedBy(logoutRequestXml(stranger), stranger.id, idp),
    ],
    ['issued in the future', 'SAML_LOGOUT_NOT_YET_VALID', DENIED, signedBy(logoutRequestXml(future), future.id, idp)],
    ['issued an hour ago', 'SAML_LOGOUT_EXPIRED', DENIED, signedBy(logoutRequestXml(old), old.id, idp)],
  ];
  for (const [what, code, second, xml] of answered) {
    const response = await postToSlo({ SAMLRequest: Buffer.from(xml).toString('base64'), RelayState: 'r-idp' });
    t.is(response.status, 200, what);
    const form = formsIn(await response.text()).find((f) => f.method === 'POST')!;
    t.is(form.action, `${bed.deployment.idp.url}/slo`, what);
    t.is(form.fields.RelayState, 'r-idp');
    const reply = Buffer.from(form.fields.SAMLResponse!, 'base64').toString('utf8');
    t.regex(reply, /<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2\.0:status:Requester">/, what);
    t.true(reply.includes(`<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:${second}"/>`), what);
    t.regex(reply, /<ds:SignatureValue>/, 'signed (in the HSM)');
    const last = (await audited('UPSTREAM_LOGOUT_REFUSED')).at(-1);
    t.is(last?.error_code, code, what);
    t.is(last?.details.answered, true, what);
  }
  t.is(await userinfo(session), 200, 'nothing was ended');
  const refused = await audited('UPSTREAM_LOGOUT_REFUSED');
  for (const [, code] of cases) t.true(refused.some((r) => r.error_code === code && r.details.answered === false));

  // replayed: the genuine request ends the session once; the same bytes again are refused
  const genuine = await bed.deployment.idp.logoutRequest(upstream.sessionIndex);
  t.is((await postToSlo(genuine.fields)).status, 200);
  const again = await postToSlo(genuine.fields);
  t.is(again.status, 400);
  t.is(codeOf(await again.text()), 'SAML_LOGOUT_REPLAYED');
});

test.serial(
  'a LogoutResponse from the IdP that does not verify is audited with its code; the local logout stays done',
  async (t) => {
    const session = await logIn(bed);
    const plru = new URL('/', bed.deployment.client.redirect_uri).toString();
    const atPlru = (u: URL) => u.href.startsWith(plru);
    const endpoint = new URL(String(bed.rp.serverMetadata().end_session_endpoint));
    endpoint.searchParams.set('id_token_hint', session.idToken);
    endpoint.searchParams.set('post_logout_redirect_uri', plru);
    let step = await session.browser.follow(endpoint, {}, atPlru);
    for (let i = 0; i < 6 && !atPlru(step.url) && step.response.status === 200; i++) {
      const form = formsIn(await step.response.text()).find((f) => f.method === 'POST');
      if (form === undefined) break;
      let extra: Record<string, string> = form.action.includes('session/end') ? { logout: 'yes' } : {};
      if (new URL(form.action, step.url).href === slo() && form.fields.SAMLResponse) {
        // the IdP's answer, its signature stripped on the way back
        const xml = Buffer.from(form.fields.SAMLResponse, 'base64').toString('utf8');
        const unsigned = xml.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '');
        t.not(unsigned, xml);
        extra = { SAMLResponse: Buffer.from(unsigned).toString('base64') };
      }
      step = await session.browser.submit(form, step.url, extra, atPlru);
    }
    t.true(atPlru(step.url), `ended at ${step.url}`);
    t.is(await userinfo(session), 401);
    const failed = await audited('UPSTREAM_LOGOUT_FAILED');
    t.is(failed.at(-1)?.error_code, 'SAML_LOGOUT_SIGNATURE_MISSING');
  },
);
