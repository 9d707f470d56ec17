/**
 * How a refused IdP LogoutRequest is answered (SAML 2.0 Core §3.7.3.2, §3.2.2.2; Profiles §4.4.3.4), black-box:
 *
 * - SAML-SLO-07: a LogoutRequest genuinely signed by the IdP, naming a live session, but issued an hour ago
 *   (NotOnOrAfter passed). The session must survive (UserInfo 200), and the answer must not tell the IdP the
 *   logout happened: either a 4xx refusal, or a LogoutResponse to the IdP's own SingleLogoutService (its
 *   metadata) that answers this request (InResponseTo) with a non-Success top-level StatusCode. A Success
 *   answer (a false "you are signed out everywhere") or one sent elsewhere fails.
 */
import { inflateRawSync } from 'node:zlib';
import { signSamlElement } from '../../../saml-idp/hostile/sign.ts';
import type { SuiteContext } from '../../context.ts';
import { judge, skip, type CheckDefinition } from '../../types.ts';
import { alive, genuine, liveSession, logoutRequestXml, NO_SLO, sloEndpoints } from './logout.ts';

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

/** The IdP's own SingleLogoutService Locations, from its metadata. */
async function idpSloLocations(ctx: SuiteContext): Promise<string[]> {
  const xml = await (await fetch(ctx.idp!.metadataUrl, { signal: AbortSignal.timeout(15_000) })).text();
  return [...xml.matchAll(/<(?:\w+:)?SingleLogoutService\b[^>]*\b(?:Response)?Location="([^"]+)"/g)].map((m) => m[1]!);
}

const unescapeHtml = (v: string) =>
  v
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The LogoutResponse a refusal carried back, by HTTP-POST (auto-posted form) or HTTP-Redirect (Location). */
async function carriedResponse(response: Response): Promise<{ to: string; xml: string } | undefined> {
  const location = response.headers.get('location');
  if (response.status >= 300 && response.status < 400 && location) {
    const url = new URL(location, response.url);
    const encoded = url.searchParams.get('SAMLResponse');
    if (!encoded) return undefined;
    return { to: `${url.origin}${url.pathname}`, xml: inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8') };
  }
  const html = await response.text();
  const action = /<form[^>]*\baction="([^"]+)"/.exec(html)?.[1];
  const field = /<input[^>]*\bname="SAMLResponse"[^>]*\bvalue="([^"]*)"/.exec(html)?.[1];
  if (!action || !field) return undefined;
  return { to: unescapeHtml(action), xml: Buffer.from(unescapeHtml(field), 'base64').toString('utf8') };
}

export const logoutRefusalChecks: readonly CheckDefinition[] = [
  {
    id: 'SAML-SLO-07',
    title: 'A refused LogoutRequest of the IdP ends nothing and is never answered Success',
    plan: 'saml',
    source: 'SAML 2.0 Core §3.7.3.2, §3.2.2.2; SAML 2.0 Profiles §4.4.3.4',
    requires: ['SAML-SLO-00'],
    run: async (ctx) => {
      const sent =
        'a LogoutRequest signed with the IdP key, naming a live session, issued an hour ago (NotOnOrAfter passed), HTTP-POST';
      const { post: slo } = await sloEndpoints(ctx);
      if (!slo || !ctx.idp) return skip(slo ? 'no suite IdP is registered' : NO_SLO, { sent });
      const session = await liveSession(ctx);
      const shape = { destination: slo, session, issuedAt: Date.now() - 3_600_000 };
      const xml = signSamlElement(logoutRequestXml(ctx, shape), genuine(ctx));
      const requestId = /\sID="([^"]+)"/.exec(xml)![1]!;
      const response = await fetch(slo, {
        method: 'POST',
        body: new URLSearchParams({ SAMLRequest: Buffer.from(xml, 'utf8').toString('base64'), RelayState: 'suite' }),
        redirect: 'manual',
        signal: AbortSignal.timeout(15_000),
      });
      const refusedOutright = response.status >= 400 && response.status < 500;
      const carried = refusedOutright ? undefined : await carriedResponse(response);
      const after = await alive(ctx, session);
      const status = carried && /<(?:\w+:)?StatusCode\b[^>]*\bValue="([^"]+)"/.exec(carried.xml)?.[1];
      const answers = carried !== undefined && /\bInResponseTo="([^"]+)"/.exec(carried.xml)?.[1] === requestId;
      const home = carried !== undefined && (await idpSloLocations(ctx)).includes(carried.to);
      const answered = carried !== undefined && status !== undefined && status !== SUCCESS && answers && home;
      return judge(after === 200 && (refusedOutright || answered), {
        sent,
        expected:
          "UserInfo still 200; a 4xx refusal, or a LogoutResponse to the IdP's SingleLogoutService answering this request with a non-Success StatusCode (the gateway's: Requester / RequestDenied, SAML_LOGOUT_EXPIRED)",
        observed:
          `HTTP ${response.status}` +
          (carried
            ? `; a LogoutResponse to ${carried.to} (${home ? 'the IdP’s endpoint' : 'not the IdP’s endpoint'}), status ${status ?? 'none'}, ${answers ? 'answering this request' : 'not answering this request'}`
            : refusedOutright
              ? ''
              : '; no LogoutResponse carried') +
          `; then UserInfo ${after}`,
      });
    },
  },
];
