/**
 * When an existing oidc-provider session may answer an authorization request without a new gateway
 * login. oidc-provider's default policy lets any session answer any RP (only `prompt=login`, `max_age`,
 * `id_token_hint` and essential acr claims ask for a login), which would issue codes that no translation
 * point, risk assessment, policy or audit record ever saw. The gateway adds one login check,
 * `gateway_login_required`, which asks for the gateway login unless this very request already went
 * through it, or all of these hold:
 *
 * - the session was established by a gateway login for this same RP (the session holds a grant for it:
 *   another RP gets its own login, under its own policy and level);
 * - the request states no transaction (`authorization_details`, or its deprecated alias `risk_transaction`):
 *   what is at stake must be assessed by the risk pipeline before a token carries it;
 * - the session's acr is known and meets the lowest acr this request accepts (`acr_values`, else the
 *   client's `default_acr_values`; a value the gateway does not know is never met).
 *
 * With `prompt=none` the RP then gets `login_required` (OIDC Core §3.1.2.6), never a code.
 */
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { acrRank, isAcr } from '../translate/acr.ts';

const { Check, base } = interactionPolicy;

/** The lowest acr a request accepts, or `null` when it names a value the gateway does not know. */
function lowestAccepted(values: readonly string[]): number | null {
  let lowest = Number.POSITIVE_INFINITY;
  for (const value of values) {
    if (!isAcr(value)) return null;
    lowest = Math.min(lowest, acrRank(value));
  }
  return lowest;
}

/** Whether the session may answer this request without a new gateway login (see the file comment). */
export function sessionMayAnswer(ctx: KoaContextWithOIDC): boolean {
  const { oidc } = ctx;
  const session = oidc.session;
  const client = oidc.client;
  if (!session?.accountId || !client) return false;
  if (!session.grantIdFor(client.clientId)) return false;
  const params = oidc.params ?? {};
  if (params.authorization_details !== undefined || params.risk_transaction !== undefined) return false;
  const requested = typeof params.acr_values === 'string' ? params.acr_values.split(' ').filter(Boolean) : [];
  const accepted = requested.length > 0 ? requested : (client.defaultAcrValues ?? []);
  const held = session.acr;
  if (typeof held !== 'string' || !isAcr(held)) return false;
  if (accepted.length === 0) return true;
  const lowest = lowestAccepted(accepted);
  return lowest !== null && acrRank(held) >= lowest;
}

/**
 * The `gateway_login_required` check of the login prompt. Without a session it stays silent (oidc-provider's
 * `no_session` asks for the login), so its reason appears only when a session exists and may not answer.
 */
export const gatewayLoginRequired = new Check(
  'gateway_login_required',
  'this request needs its own gateway login',
  'login_required',
  (ctx) => {
    if (ctx.oidc.result?.login || !ctx.oidc.session?.accountId) return Check.NO_NEED_TO_PROMPT;
    return sessionMayAnswer(ctx) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
  },
);

/** oidc-provider's default interaction policy with the gateway's check added to the login prompt. */
export function interactionPolicyWithGatewayLogin(): ReturnType<typeof base> {
  const policy = base();
  const login = policy.get('login');
  if (!login) throw new Error('oidc-provider policy has no login prompt');
  login.checks.add(gatewayLoginRequired);
  return policy;
}
