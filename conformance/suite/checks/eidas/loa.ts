/**
 * Levels of assurance are never raised (security-conformance.md §0.9, EIDAS-RSP-01/03, OIDC-ACR-01): an
 * asserted LoA maps to exactly its acr, a LoA below the requested one yields no code, and an unknown or
 * non-notified LoA URI is never treated as a notified level.
 */
import type { SuiteContext } from '../../context.ts';
import { describe, refusedWithoutCode, NO_CODE } from '../../verdicts.ts';
import { judge, skip, type CheckDefinition, type Outcome } from '../../types.ts';

async function loaCheck(
  ctx: SuiteContext,
  sent: string,
  expected: string,
  asserted: string,
  authorize: Record<string, string>,
  accept: (acr: unknown) => boolean,
): Promise<Outcome> {
  if (ctx.idp === undefined) return skip('no suite IdP is registered (--idp-id)');
  const out = await ctx.login({ authorize, overrides: { authnContextClassRef: asserted } });
  // a refusal proves something only once the Response asserting that LoA reached the ACS: one at the authorization
  // request (this client may not ask for that level) says nothing about the asserted LoA
  if (out.acsForm !== undefined && refusedWithoutCode(out, ctx.target))
    return judge(true, { sent, expected, observed: describe(out) });
  if (out.code === null)
    return judge(false, {
      sent,
      expected,
      observed: `${describe(out)}${out.acsForm === undefined ? '; refused before the Response reached the ACS: this proves nothing about it' : ''}`,
    });
  const tokens = await ctx.rp.exchange(out.code, out.request);
  const acr =
    typeof tokens.json.id_token === 'string'
      ? (await ctx.rp.verifyIdToken(tokens.json.id_token)).payload.acr
      : undefined;
  return judge(accept(acr), { sent, expected, observed: `${describe(out)}; ID token acr=${String(acr)}` });
}

/** The LoA checks. */
export const eidasLoaChecks: readonly CheckDefinition[] = [
  {
    id: 'EIDAS-LOA-01',
    title: 'An asserted LoA low is never raised (acr eidas1 or no code)',
    plan: 'eidas',
    source: 'eIDAS Regulation 910/2014 art. 8; security-conformance.md §0.9 (OIDC-ACR-01)',
    requires: ['SAML-BASE-00'],
    run: (ctx) =>
      loaCheck(
        ctx,
        'no acr_values; the IdP asserts http://eidas.europa.eu/LoA/low',
        'acr = eidas1, or no code',
        'http://eidas.europa.eu/LoA/low',
        {},
        (acr) => acr === 'eidas1',
      ),
  },
  {
    id: 'EIDAS-LOA-02',
    title: 'An asserted LoA below the requested one yields no code',
    plan: 'eidas',
    source: 'eIDAS SAML Message Format (Comparison minimum, EID-R9); security-conformance.md EIDAS-RSP-01',
    requires: ['SAML-BASE-00'],
    run: (ctx) =>
      loaCheck(
        ctx,
        'acr_values=eidas3; the IdP asserts substantial (also on any step-up)',
        NO_CODE,
        'http://eidas.europa.eu/LoA/substantial',
        { acr_values: 'eidas3' },
        () => false,
      ),
  },
  {
    id: 'EIDAS-LOA-03',
    title: 'A non-notified LoA URI is never read as a notified level',
    plan: 'eidas',
    source: 'eIDAS SAML Message Format §2.3 (non-notified LoAs); security-conformance.md EID-R9',
    requires: ['SAML-BASE-00'],
    run: (ctx) =>
      loaCheck(
        ctx,
        'the IdP asserts http://eidas.europa.eu/NotNotified/LoA/high',
        `${NO_CODE}`,
        'http://eidas.europa.eu/NotNotified/LoA/high',
        {},
        () => false,
      ),
  },
  {
    id: 'EIDAS-LOA-04',
    title: 'An unknown AuthnContextClassRef yields no code',
    plan: 'eidas',
    source: 'security-conformance.md EID-R9 (notified LoA required)',
    requires: ['SAML-BASE-00'],
    run: (ctx) =>
      loaCheck(
        ctx,
        'the IdP asserts urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
        NO_CODE,
        'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
        {},
        () => false,
      ),
  },
];
