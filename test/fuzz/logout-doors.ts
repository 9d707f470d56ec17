/**
 * Fuzzing the logout doors (issue #15) with the seeded mutator, against a session bed (a gateway with a
 * person's live session, the demo IdP): oidc-provider's end-session endpoint and its confirm POST, and the
 * SAML Single Logout endpoint `/saml/slo` (LogoutRequest and LogoutResponse, HTTP-POST and HTTP-Redirect).
 *
 * A *problem*: a 5xx, a refusal without a registered code (an OAuth `error` at oidc-provider's doors, the
 * gateway's or an adapter's code at /saml/slo), or a refusal after which the person's session is gone.
 * An input that is accepted (a logout the IdP or the person really signed) ends the session: the next input
 * gets a fresh login.
 */
import { createHmac, createPrivateKey, type KeyObject } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { join } from 'node:path';
import { ensureDevPki } from '../../certs/dev-pki.ts';
import { formsIn } from '../helpers/browser.ts';
import { RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import {
  logoutRequestFields,
  logoutRequestXml,
  logoutResponseXml,
  redirectMessage,
  samlId,
  signedBy,
  successResponse,
} from '../helpers/saml/logout-messages.ts';
import type { TestIdp } from '../helpers/saml/test-idp.ts';
import { logIn, userinfo, type LoggedIn, type SessionBed } from '../gateway/session/session-bed.ts';
import { count, summary, type FuzzSummary } from './endpoints.ts';
import { mutate, prng } from './mutator.ts';
import { exchange, refusalProblem } from './refusal.ts';

const PLRU = new URL('/', RP_REDIRECT).toString();
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The demo IdP as the party that signs: its key from the bed's development PKI. */
function idpSigner(bed: SessionBed): Pick<TestIdp, 'entityId' | 'privateKey' | 'certificatePem'> {
  const pki = ensureDevPki(join(bed.dir, 'pki'));
  return {
    entityId: bed.deployment.idp.entityId,
    privateKey: createPrivateKey(pki.idpKeyPem) as KeyObject,
    certificatePem: pki.idpCertPem,
  };
}

/**
 * A session older than this is replaced before the next input: its access token (the witness that the session
 * lives, at UserInfo) expires after `ttl.accessToken` (300 s by default), which is no logout.
 */
const SESSION_REUSE_MS = 200_000;
const fresh = (session: LoggedIn | undefined, since: number): session is LoggedIn =>
  session !== undefined && Date.now() - since < SESSION_REUSE_MS;

async function alive(bed: SessionBed, session: LoggedIn): Promise<boolean> {
  return (await userinfo(bed.url, session.accessToken)).status === 200;
}

/** The id_token_hint variants: valid, forged or stale (`stale`: the token of a session already ended). */
function hintVariant(kind: number, token: string, stale: string, clientSecret: string): string {
  const [header = '', payload = '', signature = ''] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  switch (kind % 8) {
    case 0:
      return token;
    case 1: // a signature bit flipped
      return `${header}.${payload}.${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    case 2: // alg none
      return `${b64url({ alg: 'none', typ: 'JWT' })}.${payload}.`;
    case 3: // another audience, the signature kept
      return `${header}.${b64url({ ...claims, aud: 'other-rp', sub: 'someone-else' })}.${signature}`;
    case 4:
      return stale;
    case 5: {
      // HS256 with the client's secret (algorithm confusion)
      const head = b64url({ alg: 'HS256', typ: 'JWT' });
      const mac = createHmac('sha256', clientSecret).update(`${head}.${payload}`).digest('base64url');
      return `${head}.${payload}.${mac}`;
    }
    case 6: // an unknown key id
      return `${b64url({ ...JSON.parse(Buffer.from(header, 'base64url').toString('utf8')), kid: 'nope' })}.${payload}.${signature}`;
    case 7:
      return token.slice(0, Math.floor(token.length / 2));
    default:
      throw new Error('unreachable: kind % 8');
  }
}

/** Logs the person out of `session` (GET /session/end, confirm with logout=yes): its hint becomes stale. */
async function logOut(bed: SessionBed, session: LoggedIn): Promise<void> {
  const endpoint = new URL('/session/end', bed.url);
  endpoint.searchParams.set('id_token_hint', session.idToken);
  const page = await session.browser.request(endpoint);
  const form = formsIn(await page.text()).find((f) => f.action.includes('/session/end/confirm'));
  if (!form) throw new Error(`no logout form (HTTP ${page.status})`);
  const done = await session.browser.request(new URL(form.action, bed.url), {
    method: 'POST',
    form: { ...form.fields, logout: 'yes' },
  });
  await done.body?.cancel();
}

/**
 * GET /session/end with the live session's cookies: id_token_hint (valid, forged or stale),
 * post_logout_redirect_uri, state, client_id, logout_hint, each present or not, then the query mutated.
 * Never a 5xx; a refusal is an OAuth error; the session stays (this door only asks for confirmation).
 */
export async function fuzzEndSession(bed: SessionBed, seed: number, n: number): Promise<FuzzSummary> {
  const s = summary('GET /session/end');
  const random = prng(seed);
  const staleSession = await logIn(bed);
  await logOut(bed, staleSession);
  let session = await logIn(bed);
  let since = Date.now();
  const { client_id, client_secret } = bed.deployment.client;
  for (let index = 0; index < n; index++) {
    if (!fresh(session, since)) {
      session = await logIn(bed);
      since = Date.now();
    }
    const params = new URLSearchParams();
    const present = Math.floor(random() * 32);
    if (present & 1)
      params.set(
        'id_token_hint',
        hintVariant(Math.floor(random() * 8), session.idToken, staleSession.idToken, client_secret),
      );
    if (present & 2) params.set('post_logout_redirect_uri', random() < 0.8 ? PLRU : 'https://attacker.example/');
    if (present & 4) params.set('state', 'st-' + Math.floor(random() * 1e9).toString(36));
    if (present & 8) params.set('client_id', random() < 0.8 ? client_id : 'unknown-rp');
    if (present & 16) params.set('logout_hint', session.sub);
    const query = random() < 0.75 ? mutate(params.toString(), random) : params.toString();
    let target: URL;
    try {
      target = new URL(`${bed.url}/session/end?${query}`);
    } catch {
      count(s, 'not-a-url');
      continue;
    }
    const answer = await exchange(target, {
      headers: { cookie: session.browser.cookieHeader(target), accept: index % 5 ? 'text/html' : 'application/json' },
    });
    count(s, answer.status, answer.reset);
    const problem = refusalProblem(index, answer, true, s.codes);
    if (problem) s.problems.push(problem);
    else if (!(await alive(bed, session))) {
      s.problems.push(`#${index}: HTTP ${answer.status} at /session/end ended the session`);
      session = await logIn(bed);
      since = Date.now();
    }
  }
  return s;
}

/**
 * POST /session/end/confirm: the logout form's body (its xsrf, `logout=yes` or not) mutated, as a form or
 * another content type, with the session's cookies (one in sixteen without them). A refusal is an OAuth
 * error and leaves the session; an accepted confirm (a redirect) is a logout the person asked for: a fresh
 * login for the next input.
 */
export async function fuzzEndSessionConfirm(bed: SessionBed, seed: number, n: number): Promise<FuzzSummary> {
  const s = summary('POST /session/end/confirm');
  const random = prng(seed);
  const ODD_TYPES = ['application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/xml', ''];
  let session: LoggedIn | undefined;
  let since = 0;
  let xsrf = '';
  let logouts = 0;
  for (let index = 0; index < n; index++) {
    if (!fresh(session, since)) {
      session = await logIn(bed);
      since = Date.now();
      const endpoint = new URL('/session/end', bed.url);
      endpoint.searchParams.set('id_token_hint', session.idToken);
      endpoint.searchParams.set('post_logout_redirect_uri', PLRU);
      const page = await session.browser.request(endpoint);
      xsrf = formsIn(await page.text()).find((f) => f.action.includes('/session/end/confirm'))?.fields.xsrf ?? '';
      if (!xsrf) throw new Error('no xsrf in the logout form');
    }
    const base = new URLSearchParams(random() < 0.7 ? { xsrf, logout: 'yes' } : { xsrf }).toString();
    const body = random() < 0.85 ? mutate(base, random) : base;
    const target = new URL('/session/end/confirm', bed.url);
    const type =
      index % 8 === 3 ? ODD_TYPES[Math.floor(random() * ODD_TYPES.length)]! : 'application/x-www-form-urlencoded';
    const answer = await exchange(target, {
      method: 'POST',
      headers: {
        ...(index % 16 === 5 ? {} : { cookie: session.browser.cookieHeader(target) }),
        ...(type ? { 'content-type': type } : {}),
        accept: 'text/html',
      },
      body,
    });
    count(s, answer.status, answer.reset);
    const problem = refusalProblem(index, answer, true, s.codes);
    if (problem) s.problems.push(problem);
    else if (answer.status >= 400) {
      if (!(await alive(bed, session))) {
        s.problems.push(`#${index}: HTTP ${answer.status} (a refusal) ended the session`);
        session = undefined;
      }
    } else {
      logouts += 1;
      session = undefined; // the person logged out (of the gateway, or of this RP): a fresh login
    }
  }
  s.statuses['accepted logouts'] = logouts;
  return s;
}

/** One /saml/slo input: how it is sent. */
type SloInput = { method: 'POST'; fields: Record<string, string> } | { method: 'GET'; query: string };

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

/** The top-level StatusCode of the LogoutResponse an answer carries (POST form or Redirect), if any. */
function answeredStatus(answer: { location: string; body: string }): string | undefined {
  let xml: string | undefined;
  const redirected = answer.location ? URL.parse(answer.location)?.searchParams.get('SAMLResponse') : null;
  if (redirected) xml = inflateRawSync(Buffer.from(redirected, 'base64')).toString('utf8');
  else {
    const posted = formsIn(answer.body).find((f) => f.fields.SAMLResponse !== undefined)?.fields.SAMLResponse;
    if (posted) xml = Buffer.from(posted, 'base64').toString('utf8');
  }
  return xml ? /StatusCode\s+Value="([^"]+)"/.exec(xml)?.[1] : undefined;
}

/**
 * GET and POST /saml/slo: the demo IdP's LogoutRequests for the live session (fresh ID each), their XML
 * mutated and then signed again (so the parser behind the signature check is reached) or not; the HTTP-Redirect
 * query itself mutated (SAMLRequest, SigAlg, Signature, RelayState); LogoutResponses likewise; another
 * Destination; replays of an accepted request. A refusal has its registered code and leaves the session; an
 * accepted LogoutRequest ends it (a fresh login follows).
 */
export async function fuzzSlo(bed: SessionBed, seed: number, n: number): Promise<FuzzSummary> {
  const s = summary('GET|POST /saml/slo');
  const random = prng(seed);
  const idp = idpSigner(bed);
  const slo = `${bed.url}/saml/slo`;
  let session: LoggedIn | undefined;
  let since = 0;
  let upstream = { nameId: '', sessionIndex: '' };
  let accepted: SloInput | undefined;
  let logouts = 0;
  let answeredRefusals = 0;
  for (let index = 0; index < n; index++) {
    if (!fresh(session, since)) {
      session = await logIn(bed);
      since = Date.now();
      const last = bed.deployment.idp.sessions().at(-1)!;
      upstream = { nameId: last.nameId, sessionIndex: last.sessionIndex };
    }
    const kind = index % 4; // 0, 1: LogoutRequest by POST, by Redirect; 2, 3: LogoutResponse by POST, by Redirect
    const param = kind < 2 ? 'SAMLRequest' : 'SAMLResponse';
    const fields =
      kind < 2
        ? logoutRequestFields(
            idp as TestIdp,
            random() < 0.95 ? slo : 'https://attacker.example/slo',
            upstream.nameId,
            upstream.sessionIndex,
          )
        : successResponse(idp as TestIdp, slo, samlId());
    const xml =
      kind < 2
        ? logoutRequestXml(fields as ReturnType<typeof logoutRequestFields>)
        : logoutResponseXml(fields as ReturnType<typeof successResponse>);
    const mutated = random() < 0.85 ? mutate(xml, random) : xml;
    const relayState =
      random() < 0.5 ? undefined : random() < 0.8 ? 'relay-' + index : mutate('relay', random).toWellFormed();
    let input: SloInput;
    if (index % 16 === 9 && accepted)
      input = accepted; // a replay
    else if (kind % 2 === 0) {
      let signed = mutated;
      if (random() < 0.6) {
        try {
          signed = signedBy(mutated, fields.id, idp);
        } catch {
          signed = mutated; // the mutation broke what the signer needs: sent unsigned
        }
      }
      const value = Buffer.from(signed, 'utf8').toString('base64');
      input = {
        method: 'POST',
        fields: {
          [param]: random() < 0.1 ? mutate(value, random).slice(0, 100_000) : value,
          ...(relayState === undefined ? {} : { RelayState: relayState }),
        },
      };
    } else {
      const message = redirectMessage(param, mutated, {
        ...(random() < 0.8 ? { privateKey: idp.privateKey } : {}),
        ...(relayState === undefined ? {} : { relayState }),
      });
      input = { method: 'GET', query: random() < 0.3 ? mutate(message.rawQuery, random) : message.rawQuery };
    }
    let answer: Awaited<ReturnType<typeof exchange>>;
    if (input.method === 'POST') {
      answer = await exchange(slo, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
        body: new URLSearchParams(input.fields).toString(),
      });
    } else {
      let target: URL;
      try {
        target = new URL(`${slo}?${input.query}`);
      } catch {
        count(s, 'not-a-url');
        continue;
      }
      answer = await exchange(target, { headers: { accept: 'text/html' } });
    }
    count(s, answer.status, answer.reset);
    const problem = refusalProblem(index, answer, false, s.codes);
    if (problem) s.problems.push(`${problem} (${param} by ${input.method})`);
    else if (answer.status >= 400 || param === 'SAMLResponse') {
      if (!(await alive(bed, session))) {
        s.problems.push(`#${index}: HTTP ${answer.status} to a ${param} by ${input.method} ended the session`);
        session = undefined;
      }
    } else if (answeredStatus(answer) !== SUCCESS) {
      // a refused LogoutRequest answered to the IdP with a non-Success status (saml-core §3.7.3.2: stale, or
      // naming no session of ours): a refusal all the same, the session stays
      answeredRefusals += 1;
      if (!(await alive(bed, session))) {
        s.problems.push(
          `#${index}: a LogoutRequest answered ${answeredStatus(answer) ?? 'without a status'} ended the session`,
        );
        session = undefined;
      }
    } else {
      // a LogoutRequest the IdP signed, naming the session: answered Success (200 form or 303 to the IdP), session ended
      logouts += 1;
      if (await alive(bed, session)) s.problems.push(`#${index}: an accepted LogoutRequest left the session alive`);
      accepted = input;
      session = undefined;
    }
  }
  s.statuses['accepted logouts'] = logouts;
  s.statuses['refusals answered to the IdP'] = answeredRefusals;
  return s;
}
