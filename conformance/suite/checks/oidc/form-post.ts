/**
 * OIDF Form Post OP plan: with `response_mode=form_post` the authorization response (success and error)
 * is delivered as an auto-submitting form to the redirect URI, carrying code/error, state and iss.
 */
import { Browser } from '../../browser/browser.ts';
import { describe } from '../../verdicts.ts';
import { judge, type CheckDefinition } from '../../types.ts';
import { describeTokenAnswer, sessionBrowser } from './flows.ts';

/** The form_post checks. */
export const formPostChecks: readonly CheckDefinition[] = [
  {
    id: 'OIDC-FP-01',
    title: 'response_mode=form_post delivers the code by an auto-posted form',
    plan: 'oidc',
    source: 'OAuth 2.0 Form Post Response Mode §2; oidcc-formpost-basic-certification-test-plan (oidcc-server)',
    requires: ['OIDC-BASE-00'],
    run: async (ctx) => {
      const { browser } = await sessionBrowser(ctx);
      const out = await ctx.login({ authorize: { response_mode: 'form_post', prompt: 'none' }, browser });
      const exchanged = out.code === null ? undefined : await ctx.rp.exchange(out.code, out.request);
      const ok =
        out.responseMode === 'form_post' &&
        out.params.get('state') === out.request.state &&
        out.params.get('iss') === ctx.rp.discovery.issuer &&
        exchanged?.status === 200;
      return judge(ok, {
        sent: 'response_mode=form_post (prompt=none, session present)',
        expected: 'an auto-posting form to the redirect URI with code, state and iss; the code exchanges',
        observed: `${describe(out)}${exchanged === undefined ? '' : `; exchange ${describeTokenAnswer(exchanged)}`}`,
      });
    },
  },
  {
    id: 'OIDC-FP-02',
    title: 'response_mode=form_post also delivers errors by form, with state and iss',
    plan: 'oidc',
    source: 'OAuth 2.0 Form Post Response Mode §2; RFC 9207 §2',
    run: async (ctx) => {
      const out = await ctx.login({
        authorize: { response_mode: 'form_post', prompt: 'none' },
        browser: new Browser(),
      });
      const ok =
        out.responseMode === 'form_post' &&
        out.error === 'login_required' &&
        out.params.get('state') === out.request.state &&
        out.params.get('iss') === ctx.rp.discovery.issuer;
      return judge(ok, {
        sent: 'response_mode=form_post, prompt=none, no session',
        expected: 'an auto-posting form with error=login_required, state and iss',
        observed: describe(out),
      });
    },
  },
];
