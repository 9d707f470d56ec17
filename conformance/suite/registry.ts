/**
 * THE catalogue: every check of every plan, in run order, as one table of imports. Ids are unique and
 * stable (security-conformance.md ids where they exist); adding a check = adding it to its group file.
 */
import { discoveryChecks } from './checks/oidc/discovery.ts';
import { basicChecks } from './checks/oidc/basic.ts';
import { pkceChecks } from './checks/oidc/pkce.ts';
import { redirectUriChecks } from './checks/oidc/redirect-uri.ts';
import { codeChecks } from './checks/oidc/code.ts';
import { oneTimeAndOriginChecks } from './checks/oidc/one-time-and-origin.ts';
import { operationsSurfaceChecks } from './checks/oidc/operations-surface.ts';
import { formPostChecks } from './checks/oidc/form-post.ts';
import { jwtChecks } from './checks/oidc/jwt.ts';
import { dpopChecks } from './checks/oidc/dpop.ts';
import { logoutChecks } from './checks/oidc/logout.ts';
import { backchannelChecks } from './checks/oidc/backchannel.ts';
import { refreshChecks } from './checks/oidc/refresh.ts';
import { ssoChecks } from './checks/oidc/sso.ts';
import { webauthnEnrolmentChecks } from './checks/oidc/webauthn-enrolment.ts';
import { relyingPartyChecks } from './checks/oidc/relying-party.ts';
import { baselineChecks } from './checks/saml/baseline.ts';
import { wrappingChecks } from './checks/saml/wrapping.ts';
import { signatureChecks } from './checks/saml/signature.ts';
import { xmlChecks } from './checks/saml/xml.ts';
import { sessionChecks } from './checks/saml/session.ts';
import { addressingChecks } from './checks/saml/addressing.ts';
import { timeChecks } from './checks/saml/time.ts';
import { conditionChecks } from './checks/saml/conditions.ts';
import { structureChecks } from './checks/saml/structure.ts';
import { bindingChecks } from './checks/saml/bindings.ts';
import { singleLogoutChecks } from './checks/saml/logout.ts';
import { logoutRefusalChecks } from './checks/saml/logout-refusal.ts';
import { eidasRequestChecks } from './checks/eidas/request.ts';
import { eidasLoaChecks } from './checks/eidas/loa.ts';
import { eidasResponseChecks } from './checks/eidas/response.ts';
import { eidasMetadataChecks } from './checks/eidas/metadata.ts';
import { jwksChecks } from './checks/crypto/jwks.ts';
import { samlMetadataChecks } from './checks/crypto/saml-metadata.ts';
import { discoveryPostureChecks } from './checks/crypto/discovery-posture.ts';
import type { CheckDefinition, PlanName } from './types.ts';

/** Every check, in run order. */
export const CATALOGUE: readonly CheckDefinition[] = Object.freeze([
  // oidc
  ...discoveryChecks,
  ...basicChecks,
  ...pkceChecks,
  ...redirectUriChecks,
  ...codeChecks,
  ...oneTimeAndOriginChecks,
  ...operationsSurfaceChecks,
  ...formPostChecks,
  ...jwtChecks,
  ...dpopChecks,
  ...logoutChecks,
  ...backchannelChecks,
  ...refreshChecks,
  ...ssoChecks,
  ...webauthnEnrolmentChecks,
  ...relyingPartyChecks,
  // saml
  ...baselineChecks,
  ...wrappingChecks,
  ...signatureChecks,
  ...xmlChecks,
  ...sessionChecks,
  ...addressingChecks,
  ...timeChecks,
  ...conditionChecks,
  ...structureChecks,
  ...bindingChecks,
  ...singleLogoutChecks,
  ...logoutRefusalChecks,
  // eidas
  ...eidasRequestChecks,
  ...eidasLoaChecks,
  ...eidasResponseChecks,
  ...eidasMetadataChecks,
  // crypto
  ...jwksChecks,
  ...samlMetadataChecks,
  ...discoveryPostureChecks,
]);

const seen = new Set<string>();
for (const check of CATALOGUE) {
  if (seen.has(check.id)) throw new Error(`duplicate check id ${check.id}`);
  seen.add(check.id);
}

/**
 * The checks of `plans`, in catalogue order, optionally narrowed to ids (exact, or a prefix ending in `*`),
 * plus the positive controls they require.
 *
 * @example selectChecks(['saml'], ['SAML-XSW-*'])
 */
export function selectChecks(plans: readonly PlanName[], only?: readonly string[]): CheckDefinition[] {
  const wanted = (id: string): boolean =>
    only === undefined ||
    only.length === 0 ||
    only.some((p) => (p.endsWith('*') ? id.startsWith(p.slice(0, -1)) : id === p));
  const chosen = new Set(CATALOGUE.filter((c) => plans.includes(c.plan) && wanted(c.id)).map((c) => c.id));
  // Positive controls a chosen check relies on run too (a negative proves nothing without them).
  for (const check of [...CATALOGUE].reverse()) {
    if (chosen.has(check.id)) for (const id of check.requires ?? []) chosen.add(id);
  }
  return CATALOGUE.filter((c) => chosen.has(c.id));
}
