/**
 * How the suite judges a login black-box. A rejection is proven only when **no authorization code was
 * issued**: the browser ends at the RP redirect URI with `error=access_denied` and no `code`, or at a 4xx
 * page of the deployment — and a `code` never appears anywhere on the way.
 */
import type { LoginOutcome } from './login.ts';
import type { SuiteContext } from './context.ts';
import { judge, skip, type Outcome } from './types.ts';
import type { LoginInput } from './login.ts';

/** The expectation text of every "must be rejected" check. */
export const NO_CODE =
  'no authorization code: the RP gets error=access_denied (no code), or the gateway answers with a 4xx page';

/**
 * A short, human-readable description of where a login ended.
 *
 * @example describe(outcome) // 'redirected to the RP with error=access_denied, no code (gateway code SAML_AUDIENCE_INVALID)'
 */
export function describe(out: LoginOutcome): string {
  const code = out.errorCode === null ? '' : ` (error code ${out.errorCode})`;
  if (out.at === 'rp') {
    const via = out.responseMode === 'form_post' ? 'form-posted' : 'redirected';
    if (out.code !== null)
      return `${via} to the RP WITH an authorization code${out.error === null ? '' : ` and error=${out.error}`}`;
    return `${via} to the RP with error=${out.error ?? '(none)'}, no code${code}`;
  }
  return `HTTP ${out.status} page at ${out.url.origin}${out.url.pathname}${code}`;
}

/** True when the login was refused without any code (see the module comment). */
/**
 * The errors an RP may be refused with: `access_denied`, or `unmet_authentication_requirements` when the
 * level asked for cannot be reached (OpenID Connect Core errors; a gateway that says why is better).
 */
const REFUSALS: ReadonlySet<string> = new Set(['access_denied', 'unmet_authentication_requirements']);

/** Answers that judge nothing: the deployment was rate limiting or overloaded, not refusing what was sent. */
const NOT_JUDGED: ReadonlySet<number> = new Set([429, 503]);

export function refusedWithoutCode(out: LoginOutcome, target: URL): boolean {
  if (out.code !== null || out.params.has('code')) return false;
  if (out.at === 'rp') return REFUSALS.has(out.error ?? '');
  return out.status >= 400 && out.status < 500 && !NOT_JUDGED.has(out.status) && out.url.origin === target.origin;
}

/**
 * The verdict of a hostile login whose attack is in the IdP's Response (`inResponse`): a pass only when that Response
 * reached the ACS and no code was issued. A refusal before the ACS (at the authorization request, the chooser, a
 * proxy or WAF in front) proves nothing about the Response: a fail, saying so. A refusal whose visible error code is
 * not the reference reason is still a pass (the gateway may find another fault first), and the report says which.
 */
export function judgeRefusal(
  out: LoginOutcome,
  target: URL,
  observation: { sent: string; reference: string; inResponse: boolean },
): Outcome {
  const { sent, reference, inResponse } = observation;
  const reached = !inResponse || out.acsForm !== undefined;
  const notes = [
    reached ? '' : '; the Response never reached the ACS (refused before it): this proves nothing about it',
    NOT_JUDGED.has(out.status) ? `; HTTP ${out.status} is a rate limit or an overload, not a refusal` : '',
    reference !== '' && out.errorCode !== null && out.errorCode !== reference
      ? `; refused with ${out.errorCode}, not the reference reason ${reference}`
      : '',
  ].join('');
  return judge(reached && refusedWithoutCode(out, target), {
    sent,
    expected: reference === '' ? NO_CODE : `${NO_CODE}; reference reason ${reference}`,
    observed: `${describe(out)}${notes}`,
  });
}

/**
 * Runs a hostile login and judges it: pass only when no code was issued.
 *
 * @example return expectRefused(ctx, 'Audience = https://other.example', { overrides: { audience: 'https://other.example' } });
 */
export async function expectRefused(
  ctx: SuiteContext,
  sent: string,
  input: LoginInput,
  reference = '',
): Promise<Outcome> {
  if (ctx.idp === undefined) return skip('no suite IdP is registered (--idp-id)', { sent });
  const out = await ctx.login(input);
  const inResponse =
    input.overrides !== undefined ||
    input.mutate !== undefined ||
    input.mutateForm !== undefined ||
    input.post !== undefined;
  return judgeRefusal(out, ctx.target, { sent, reference, inResponse });
}
