/**
 * SAML Single Logout (SAML 2.0 Profiles §4.4; issue #12 item 6), black-box:
 *
 * - SAML-SLO-01: the SP metadata lists a SingleLogoutService (HTTP-Redirect or HTTP-POST).
 * - SAML-SLO-00 (positive control): a LogoutRequest the suite IdP signs with its genuine key, naming the
 *   session of a fresh login (its NameID and SessionIndex, read from the Response), ends that session: the
 *   access token stops working at UserInfo.
 * - SAML-SLO-02..06: hostile LogoutRequests naming a live session — unsigned, signed by a key the deployment
 *   does not trust, signed with rsa-sha1, addressed to another Destination, replayed — are refused (a 4xx
 *   page) and the session survives (UserInfo still answers 200).
 * Every LogoutRequest is POSTed (HTTP-POST binding) to the SingleLogoutService the metadata lists for it.
 */
import { randomBytes } from 'node:crypto';
import { ALG, signSamlElement } from '../../../saml-idp/hostile/sign.ts';
import type { SuiteContext } from '../../context.ts';
import { judge, skip, type CheckDefinition, type Outcome } from '../../types.ts';
import { goodLogin } from '../oidc/flows.ts';

const SOURCE = 'SAML 2.0 Profiles §4.4 (Single Logout); SAML 2.0 Core §3.7';
const POST_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
export const NO_SLO = 'the SP metadata lists no HTTP-POST SingleLogoutService';

/** The SingleLogoutService Locations of the SP metadata, by binding. */
export async function sloEndpoints(ctx: SuiteContext): Promise<{ post?: string; redirect?: string }> {
  const xml = (await ctx.spMetadata()) ?? '';
  const found: { post?: string; redirect?: string } = {};
  for (const match of xml.matchAll(/<(?:\w+:)?SingleLogoutService\b([^>]*)>/g)) {
    const attrs = match[1] ?? '';
    const binding = /\bBinding="([^"]*)"/.exec(attrs)?.[1];
    const location = /\bLocation="([^"]*)"/.exec(attrs)?.[1];
    if (!location) continue;
    if (binding === POST_BINDING) found.post ??= location;
    if (binding === REDIRECT_BINDING) found.redirect ??= location;
  }
  return found;
}

/** A live session: its access token, and what the IdP asserted (NameID, Format, SessionIndex). */
export interface LiveSession {
  accessToken: string;
  nameId: string;
  format: string;
  sessionIndex: string;
}

export async function liveSession(ctx: SuiteContext): Promise<LiveSession> {
  const login = await goodLogin(ctx);
  const xml = login.out.responseXml ?? '';
  const nameId = /<(?:\w+:)?NameID\b[^>]*>([^<]+)<\/(?:\w+:)?NameID>/.exec(xml);
  const format = /<(?:\w+:)?NameID\b[^>]*\bFormat="([^"]+)"/.exec(xml)?.[1];
  const sessionIndex = /\bSessionIndex="([^"]+)"/.exec(xml)?.[1];
  const accessToken = login.tokens.json.access_token;
  if (!nameId?.[1] || !format || !sessionIndex || typeof accessToken !== 'string')
    throw new Error('the login gave no NameID, SessionIndex or access token');
  return { accessToken, nameId: nameId[1], format, sessionIndex };
}

export async function alive(ctx: SuiteContext, session: LiveSession): Promise<number> {
  return (await ctx.rp.userinfo(session.accessToken)).status;
}

export interface RequestShape {
  destination: string;
  session: LiveSession;
  /** When the IdP issued it (default now); NotOnOrAfter is 300 s later. */
  issuedAt?: number;
  /** Leave SessionIndex out (SAML Core §3.7.3.2: every session of that NameID). */
  allSessions?: boolean;
}

export function logoutRequestXml(ctx: SuiteContext, shape: RequestShape): string {
  const now = shape.issuedAt ?? Date.now();
  const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
  return (
    `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"` +
    ` ID="_slo${randomBytes(16).toString('hex')}" Version="2.0" IssueInstant="${new Date(now).toISOString()}"` +
    ` Destination="${esc(shape.destination)}" NotOnOrAfter="${new Date(now + 300_000).toISOString()}">` +
    `<saml:Issuer>${esc(ctx.idp?.entityId ?? '')}</saml:Issuer>` +
    `<saml:NameID Format="${esc(shape.session.format)}">${esc(shape.session.nameId)}</saml:NameID>` +
    (shape.allSessions ? '' : `<samlp:SessionIndex>${esc(shape.session.sessionIndex)}</samlp:SessionIndex>`) +
    `</samlp:LogoutRequest>`
  );
}

async function post(url: string, xml: string): Promise<{ status: number; code: string | undefined }> {
  const response = await fetch(url, {
    method: 'POST',
    body: new URLSearchParams({ SAMLRequest: Buffer.from(xml, 'utf8').toString('base64'), RelayState: 'suite' }),
    redirect: 'manual',
    signal: AbortSignal.timeout(15_000),
  });
  const html = await response.text();
  return { status: response.status, code: /<code>([A-Z0-9_]+)<\/code>/.exec(html)?.[1] };
}

export const genuine = (ctx: SuiteContext) => ({ key: ctx.idp!.keys, target: 'root' as const });

/** A hostile LogoutRequest naming a live session must be refused, and the session must survive. */
function refusedAndSurvives(
  id: string,
  title: string,
  sent: string,
  reference: string,
  build: (ctx: SuiteContext, slo: string, session: LiveSession) => Promise<string>,
): CheckDefinition {
  return {
    id,
    title,
    plan: 'saml',
    source: SOURCE,
    requires: ['SAML-SLO-00'],
    run: async (ctx): Promise<Outcome> => {
      const { post: slo } = await sloEndpoints(ctx);
      if (!slo || !ctx.idp) return skip(slo ? 'no suite IdP is registered' : NO_SLO, { sent });
      const session = await liveSession(ctx);
      const answer = await post(slo, await build(ctx, slo, session));
      const after = await alive(ctx, session);
      return judge(answer.status >= 400 && answer.status < 500 && after === 200, {
        sent,
        expected: `a 4xx refusal (the gateway's code: ${reference}); then UserInfo with the session's access token still 200`,
        observed: `HTTP ${answer.status}${answer.code ? ` (${answer.code})` : ''}; then UserInfo ${after}`,
      });
    },
  };
}

/** The Single Logout checks. */
export const singleLogoutChecks: readonly CheckDefinition[] = [
  {
    id: 'SAML-SLO-01',
    title: 'The SP metadata lists a SingleLogoutService',
    plan: 'saml',
    source: `${SOURCE}; SAML 2.0 Metadata §2.4.2`,
    run: async (ctx) => {
      const found = await sloEndpoints(ctx);
      return judge(found.post !== undefined || found.redirect !== undefined, {
        sent: 'GET the SP metadata',
        expected: 'an md:SingleLogoutService with the HTTP-POST or HTTP-Redirect binding and a Location',
        observed: `HTTP-POST: ${found.post ?? 'none'}; HTTP-Redirect: ${found.redirect ?? 'none'}`,
      });
    },
  },
  {
    id: 'SAML-SLO-00',
    title: 'A LogoutRequest signed by the IdP ends the session it names (positive control)',
    plan: 'saml',
    source: SOURCE,
    requires: ['OIDC-BASE-00', 'SAML-BASE-00'],
    run: async (ctx) => {
      const sent = 'a LogoutRequest signed with the IdP key (NameID + SessionIndex of a fresh login), HTTP-POST';
      const { post: slo } = await sloEndpoints(ctx);
      if (!slo || !ctx.idp) return skip(slo ? 'no suite IdP is registered' : NO_SLO, { sent });
      const session = await liveSession(ctx);
      const before = await alive(ctx, session);
      const xml = signSamlElement(logoutRequestXml(ctx, { destination: slo, session }), genuine(ctx));
      const answer = await post(slo, xml);
      const after = await alive(ctx, session);
      return judge(before === 200 && answer.status < 400 && after === 401, {
        sent,
        expected: 'UserInfo 200 before; the request accepted (a LogoutResponse on its way back); UserInfo 401 after',
        observed: `UserInfo ${before}; HTTP ${answer.status}${answer.code ? ` (${answer.code})` : ''}; UserInfo ${after}`,
      });
    },
  },
  refusedAndSurvives(
    'SAML-SLO-02',
    'An unsigned LogoutRequest is refused and ends nothing',
    'a LogoutRequest naming a live session, without any signature',
    'SAML_LOGOUT_SIGNATURE_MISSING',
    async (ctx, slo, session) => logoutRequestXml(ctx, { destination: slo, session }),
  ),
  refusedAndSurvives(
    'SAML-SLO-03',
    'A LogoutRequest signed by a key the IdP metadata does not list is refused and ends nothing',
    "a LogoutRequest naming a live session, signed by an attacker's key (its certificate inline in KeyInfo)",
    'SAML_LOGOUT_SIGNATURE_INVALID',
    async (ctx, slo, session) =>
      signSamlElement(logoutRequestXml(ctx, { destination: slo, session }), {
        key: await ctx.attacker(),
        target: 'root',
      }),
  ),
  refusedAndSurvives(
    'SAML-SLO-04',
    'A LogoutRequest signed with rsa-sha1 is refused and ends nothing',
    'a LogoutRequest naming a live session, signed by the genuine IdP key with rsa-sha1 / SHA-1',
    'SAML_ALG_NOT_ALLOWED',
    async (ctx, slo, session) =>
      signSamlElement(logoutRequestXml(ctx, { destination: slo, session }), {
        ...genuine(ctx),
        signatureAlgorithm: ALG.rsaSha1,
        digestAlgorithm: ALG.sha1,
      }),
  ),
  refusedAndSurvives(
    'SAML-SLO-05',
    'A LogoutRequest addressed to another Destination is refused and ends nothing',
    'a LogoutRequest naming a live session, genuinely signed, Destination = https://attacker.example/slo',
    'SAML_LOGOUT_DESTINATION_INVALID',
    async (ctx, _slo, session) =>
      signSamlElement(logoutRequestXml(ctx, { destination: 'https://attacker.example/slo', session }), genuine(ctx)),
  ),
  {
    id: 'SAML-SLO-06',
    title: 'A LogoutRequest replayed after a new login is refused and ends nothing',
    plan: 'saml',
    source: `${SOURCE}; SAML 2.0 Core §3.2.1 (ID uniqueness)`,
    requires: ['SAML-SLO-00'],
    run: async (ctx) => {
      const sent =
        'a genuine LogoutRequest for every session of the NameID (no SessionIndex), posted once; a new login; the same request posted again';
      const { post: slo } = await sloEndpoints(ctx);
      if (!slo || !ctx.idp) return skip(slo ? 'no suite IdP is registered' : NO_SLO, { sent });
      const first = await liveSession(ctx);
      const xml = signSamlElement(
        logoutRequestXml(ctx, { destination: slo, session: first, allSessions: true }),
        genuine(ctx),
      );
      const once = await post(slo, xml);
      const next = await liveSession(ctx);
      const again = await post(slo, xml);
      const after = await alive(ctx, next);
      return judge(once.status < 400 && again.status >= 400 && again.status < 500 && after === 200, {
        sent,
        expected:
          "the first accepted; the replay a 4xx refusal (the gateway's code: SAML_LOGOUT_REPLAYED); the new session still 200 at UserInfo",
        observed: `first HTTP ${once.status}; replay HTTP ${again.status}${again.code ? ` (${again.code})` : ''}; UserInfo ${after}`,
      });
    },
  },
];
