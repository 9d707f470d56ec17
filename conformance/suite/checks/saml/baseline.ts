/**
 * SAML positive control (SAML-BASE-00): the suite IdP's honest, signed Response produces a code that
 * exchanges for a valid ID token. Every hostile SAML check requires it: a refusal proves nothing if the
 * honest path is broken too.
 */
import { describe } from '../../verdicts.ts';
import { judge, skip, type CheckDefinition } from '../../types.ts';
import { describeTokenAnswer } from '../oidc/flows.ts';
import { SAML_BASE } from './refusal.ts';

/** The baseline check. */
export const baselineChecks: readonly CheckDefinition[] = [
  {
    id: SAML_BASE,
    title: 'Positive control: an honest signed Response gives a code and a valid ID token',
    plan: 'saml',
    source: 'SAML 2.0 Web Browser SSO profile §4.1; security-conformance.md baseline B',
    run: async (ctx) => {
      if (ctx.idp === undefined) return skip('no suite IdP is registered (--idp-id)');
      const out = await ctx.login();
      const tokens = out.code === null ? undefined : await ctx.rp.exchange(out.code, out.request);
      let verified = 'no ID token';
      if (typeof tokens?.json.id_token === 'string') {
        const { payload } = await ctx.rp.verifyIdToken(tokens.json.id_token, out.request.nonce);
        verified = `ID token valid, acr=${String(payload.acr)}`;
      }
      return judge(out.code !== null && tokens?.status === 200 && verified.startsWith('ID token valid'), {
        sent: `login at ${ctx.idp.entityId} as ${ctx.idp.user.username}, Assertion signed (rsa-sha256)`,
        expected: 'a code; tokens; a valid ID token',
        observed: `${describe(out)}${tokens === undefined ? '' : `; ${describeTokenAnswer(tokens)}`}; ${verified}`,
      });
    },
  },
];
