/**
 * Replay and request binding (security-conformance.md SAML-RPL-01, SAML-IRT-01/02/03, SAML-RS-01): a
 * Response is consumed once, answers exactly the pending request of this browser, and an unsolicited or
 * unknown one is refused — in every case without a code.
 */
import { Browser } from '../../browser/browser.ts';
import type { Form } from '../../browser/forms.ts';
import type { CheckDefinition } from '../../types.ts';
import { refusal } from './refusal.ts';

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
        return browser.submit(form, base, {}, atRp);
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
      const old = first.acsForm?.fields.SAMLResponse ?? '';
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
