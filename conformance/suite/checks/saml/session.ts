/**
 * Replay and request binding (security-conformance.md SAML-RPL-01, SAML-IRT-01/02/03, SAML-RS-01): a
 * Response is consumed once, answers exactly the pending request of this browser, and an unsolicited or
 * unknown one is refused — in every case without a code.
 */
import { Browser } from '../../browser/browser.ts';
import type { Form } from '../../browser/forms.ts';
import type { CheckDefinition } from '../../types.ts';
import { child, NS, parseXml, responseParts } from '../../../saml-idp/hostile/dom.ts';
import { signSamlElement } from '../../../saml-idp/hostile/sign.ts';
import { refusal, resign } from './refusal.ts';

/** The session checks. */
export const sessionChecks: readonly CheckDefinition[] = [
  refusal({
    id: 'SAML-RPL-01',
    title: 'The same Response posted twice gives no second code',
    source: 'SAML 2.0 profiles §4.1.4.5; security-conformance.md SAML-RPL-01',
    sent: 'the honest Response posted to the ACS, then posted again (second answer judged)',
    reference: 'SAML_REPLAY',
    input: (ctx) => ({
      post: async (form, browser, base) => {
        const atRp = (u: URL): boolean => u.href.startsWith(ctx.rp.client.redirectUri);
        const first = await browser.submit(form, base, {}, atRp);
        await first.response.body?.cancel();
        // the first post must have logged in: a refused first post would make the second's refusal prove nothing
        if (first.url.searchParams.get('code') === null)
          throw new Error(`the honest first post gave no code (${first.url.origin}${first.url.pathname})`);
        return browser.submit(form, base, {}, atRp);
      },
    }),
  }),
  refusal({
    id: 'SAML-RPL-03',
    title: 'An Assertion ID already used is refused in a new, otherwise valid Response',
    source:
      'SAML 2.0 profiles §4.1.4.5 (the SP keeps the Assertion IDs it accepted); security-conformance.md SAML-RPL-01',
    sent: "a first honest login; a second login whose Response answers its own request, signed by the IdP, but carries the first login's Assertion ID",
    reference: 'SAML_REPLAY',
    input: async (ctx) => {
      const first = await ctx.login({ browser: new Browser() });
      const used = /<(?:\w+:)?Assertion\b[^>]*\sID="([^"]+)"/.exec(first.postedXml ?? '')?.[1];
      if (first.code === null || used === undefined)
        throw new Error('the honest first login gave no code or no Assertion ID: the replay would prove nothing');
      // only the replay cache can refuse it: its InResponseTo, RelayState, browser and signatures are this login's own
      // (the Response signed again too when the IdP signed it: a deployment may require it)
      const reuse = resign(ctx, (xml) => xml.replace(/(<(?:\w+:)?Assertion\b[^>]*\sID=")[^"]+"/, `$1${used}"`));
      return {
        browser: new Browser(),
        mutate: (xml: string) => {
          const responseSigned = child(responseParts(parseXml(xml)).response, NS.dsig, 'Signature') !== undefined;
          const again = reuse(xml);
          return responseSigned ? signSamlElement(again, { target: 'response', key: ctx.idp!.keys }) : again;
        },
      };
    },
  }),
  refusal({
    id: 'SAML-RPL-04',
    title: 'One Response posted four times at once is admitted once',
    source: 'SAML 2.0 profiles §4.1.4.5 (replay under concurrency); security-conformance.md SAML-RPL-01',
    sent: 'the honest Response posted to the ACS four times concurrently from its browser, each post followed to its end (one code in all: the others are refused)',
    reference: 'SAML_REPLAY',
    input: (ctx) => ({
      post: async (form, browser, base) => {
        const atRp = (u: URL) => u.href.startsWith(ctx.rp.client.redirectUri);
        // each post followed to where it ends, and the codes counted: one login, one code at most. The ACS's own
        // answers say nothing by their status alone: a deployment may send a refused duplicate on to the login's
        // resume (a double submit's browser shows the second answer), where the one decision is taken once
        const ends = await Promise.all([0, 1, 2, 3].map(() => browser.submit(form, base, {}, atRp)));
        const coded = ends.filter((l) => atRp(l.url) && l.url.searchParams.has('code'));
        if (coded.length === 0)
          throw new Error(
            `none of the four posts led to a code (${ends.map((l) => `${l.response.status} ${l.url.pathname}`).join(', ')}): the honest Response was refused, the race proves nothing`,
          );
        // two codes: the second is judged (a fail); one: a post that ended without one, a definite refusal first (at the
        // RP with an error, or a 4xx page) over one answered "busy, try again" (503 or 429: judged a failure when alone)
        const refusedEnds = ends.filter((l) => !coded.includes(l));
        const definite = refusedEnds.filter(
          (l) =>
            (atRp(l.url) && l.url.searchParams.has('error')) ||
            (l.response.status >= 400 && l.response.status < 500 && l.response.status !== 429),
        );
        const judged = coded.length > 1 ? coded[1]! : (definite[0] ?? refusedEnds[0]!);
        for (const end of ends) if (end !== judged) await end.response.body?.cancel();
        return judged;
      },
    }),
  }),
  refusal({
    id: 'SAML-RPL-02',
    title: 'An earlier Response is refused in a new login',
    source: 'SAML 2.0 profiles §4.1.4.5; security-conformance.md SAML-RPL-01 (old assertion, new response)',
    sent: 'a first honest login; a second login (prompt=login) in the same browser posts the first Response with its own RelayState',
    reference: 'SAML_REPLAY',
    input: async (ctx) => {
      const browser = new Browser();
      const first = await ctx.login({ browser });
      const old = first.acsForm?.fields.SAMLResponse;
      if (first.code === null || old === undefined)
        throw new Error('the honest first login gave no code: posting its Response again would prove nothing');
      return { browser, authorize: { prompt: 'login' }, mutateForm: (f) => ({ ...f, SAMLResponse: old }) };
    },
  }),
  refusal({
    id: 'SAML-IRT-01',
    title: 'An unknown InResponseTo is refused',
    source: 'SAML 2.0 profiles §4.1.4.3; security-conformance.md SAML-IRT-01',
    sent: 'InResponseTo = an ID the gateway never issued',
    reference: 'SAML_INRESPONSETO_UNKNOWN',
    input: () => ({ overrides: { inResponseTo: '_0123456789abcdef0123456789abcdef' } }),
  }),
  refusal({
    id: 'SAML-IRT-02',
    title: 'A Response to another pending request (mismatched InResponseTo) is refused',
    source: 'SAML 2.0 profiles §4.1.4.3; security-conformance.md SAML-IRT-02',
    sent: "two logins in one browser; the Response to the second is posted with the first login's RelayState",
    reference: 'SAML_INRESPONSETO_MISMATCH',
    input: async (ctx) => {
      const browser = new Browser();
      const other = await ctx.login({ browser, stopAtAuthnRequest: true });
      const relay = other.authnRequestForm?.fields.RelayState ?? '';
      return { browser, mutateForm: (f) => ({ ...f, RelayState: relay }) };
    },
  }),
  refusal({
    id: 'SAML-IRT-03',
    title: 'A Response posted from another browser session is refused',
    source: 'security-conformance.md SAML-IRT-03 (login CSRF / session swap)',
    sent: "the victim's Response (and RelayState) posted from the attacker's browser, which has its own pending login",
    reference: 'SAML_INRESPONSETO_SESSION_MISMATCH',
    input: (ctx) => ({
      post: async (form: Form, _victim: Browser, base: URL) => {
        const attacker = new Browser();
        await ctx.login({ browser: attacker, stopAtAuthnRequest: true });
        return attacker.submit(form, base, {}, (u) => u.href.startsWith(ctx.rp.client.redirectUri));
      },
    }),
  }),
  refusal({
    id: 'SAML-IRT-04',
    title: 'An unsolicited Response (no InResponseTo) is refused',
    source: 'SAML 2.0 profiles §4.1.5; security-conformance.md SAML-IRT-03 (unsolicited)',
    sent: 'the Response and SubjectConfirmationData without InResponseTo',
    reference: 'SAML_UNSOLICITED',
    input: () => ({ overrides: { inResponseTo: null } }),
  }),
  refusal({
    id: 'SAML-RS-01',
    title: 'An unknown RelayState is refused',
    source: 'SAML 2.0 bindings §3.5.3; security-conformance.md SAML-RS-01',
    sent: 'the honest Response with RelayState = a value the gateway never issued',
    reference: 'SAML_RELAYSTATE_INVALID',
    input: () => ({ mutateForm: (f) => ({ ...f, RelayState: 'not-a-relay-state-we-issued' }) }),
  }),
  refusal({
    id: 'SAML-RS-02',
    title: 'A Response without RelayState is refused',
    source: 'SAML 2.0 bindings §3.5.3',
    sent: 'the honest Response, RelayState removed',
    reference: 'SAML_RELAYSTATE_INVALID',
    input: () => ({ mutateForm: (f) => Object.fromEntries(Object.entries(f).filter(([k]) => k !== 'RelayState')) }),
  }),
];
