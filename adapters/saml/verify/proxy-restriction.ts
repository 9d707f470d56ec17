/**
 * Step 12b, ProxyRestriction (SAML Core §2.5.1.6): the gateway issues a further assertion (the ID token)
 * from every assertion it accepts, so
 *
 * - `Count="0"` (no further assertion may be issued) is refused: `SAML_PROXY_RESTRICTED`;
 * - the Audience list, when present, is carried in the identity's evidence (`onwardAudiences`): the
 *   gateway refuses to issue a token to a relying party the list does not name (it knows the RP; the
 *   adapter does not).
 */
import { samlError } from '../errors.ts';
import { need, type VerifyContext } from './context.ts';

export function checkProxyRestriction(ctx: VerifyContext): void {
  const restriction = need(ctx.claims, 'claims').conditions.proxyRestriction;
  if (restriction?.count === 0)
    throw samlError('SAML_PROXY_RESTRICTED', { detail: 'ProxyRestriction Count="0" forbids the ID token' });
}
