/**
 * Step 11, Audience (SAML-AUD-01).
 *
 * - At least one AudienceRestriction; every one of them must list our SP entityID exactly
 *   (`SAML_AUDIENCE_INVALID`).
 */
import { samlError } from '../errors.ts';
import { need, type VerifyContext } from './context.ts';

export function checkAudience(ctx: VerifyContext): void {
  const restrictions = need(ctx.claims, 'claims').conditions.audienceRestrictions;
  if (restrictions.length === 0) throw samlError('SAML_AUDIENCE_INVALID', { detail: 'no AudienceRestriction' });
  if (!restrictions.every((audiences) => audiences.includes(ctx.env.sp.entityId))) {
    throw samlError('SAML_AUDIENCE_INVALID', { detail: `audiences ${restrictions.flat().join(', ')}` });
  }
}
