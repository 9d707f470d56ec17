/**
 * Step 4, issuer known (SAML-ISS-01). Selects whose keys verify the signatures.
 *
 * - The Assertion's Issuer (or, without an Assertion, the Response's) names the IdP; it must equal
 *   this adapter's IdP entityID from its metadata, else `SAML_ISSUER_UNTRUSTED`.
 * - A Response Issuer, when present, must name the same entity (`SAML_ISSUER_INVALID`).
 * - An Issuer Format other than `entity` is refused.
 * These values are unsigned here; step 6 re-reads them from the signed bytes.
 */
import type { Element } from '@xmldom/xmldom';
import { samlError } from '../errors.ts';
import { attr, optionalChild, requiredChild, textOnly } from '../xml/dom.ts';
import { NS } from '../xml/namespaces.ts';
import { need, type VerifyContext } from './context.ts';

const ENTITY_FORMAT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity';

export function checkIssuerKnown(ctx: VerifyContext): void {
  const response = need(ctx.response, 'response');
  const fromResponse = optionalChild(response, NS.assertion, 'Issuer');
  const fromAssertion = ctx.assertion ? requiredChild(ctx.assertion, NS.assertion, 'Issuer') : undefined;
  const named = fromAssertion ?? fromResponse;
  if (!named) throw samlError('SAML_ISSUER_INVALID', { detail: 'no Issuer' });
  const issuer = issuerText(named);
  if (fromResponse && issuerText(fromResponse) !== issuer) {
    throw samlError('SAML_ISSUER_INVALID', { detail: 'Response and Assertion issuers differ' });
  }
  if (issuer !== ctx.env.metadata.entityId) throw samlError('SAML_ISSUER_UNTRUSTED', { detail: `issuer ${issuer}` });
  ctx.issuer = issuer;
}

/** The entityID an Issuer element carries; refuses non-entity formats. */
export function issuerText(issuer: Element): string {
  const format = attr(issuer, 'Format');
  if (format !== undefined && format !== ENTITY_FORMAT)
    throw samlError('SAML_ISSUER_INVALID', { detail: `Issuer Format ${format}` });
  return textOnly(issuer).trim();
}
