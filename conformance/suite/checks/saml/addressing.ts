/**
 * Addressing (SAML 2.0 core §3.2.2, §2.5.1.4; profiles §4.1.4.2–3): Audience, Destination, Recipient and
 * Issuer must name exactly this SP / the registered IdP — wrong values and near-miss variants (trailing
 * slash, case) are refused without a code.
 */
import type { SuiteContext } from '../../context.ts';
import type { CheckDefinition } from '../../types.ts';
import { refusal, resign } from './refusal.ts';

const CORE = 'SAML 2.0 core';

async function sp(ctx: SuiteContext): Promise<{ entityId: string; acs: string }> {
  const xml = (await ctx.spMetadata()) ?? '';
  const entityId = /entityID="([^"]+)"/.exec(xml)?.[1];
  const acs = /AssertionConsumerService[^>]*Location="([^"]+)"/.exec(xml)?.[1];
  // without them, the look-alike Audience or Recipient would be "/", which any deployment refuses: the check would
  // pass proving nothing
  if (entityId === undefined || acs === undefined)
    throw new Error(
      "the deployment's SP metadata could not be read (its entityID and ACS): the look-alike proves nothing",
    );
  return { entityId, acs };
}

function caseVariant(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname.toUpperCase()}${u.search}`;
}

/** The addressing checks. */
export const addressingChecks: readonly CheckDefinition[] = [
  refusal({
    id: 'SAML-AUD-01',
    title: 'A wrong Audience is refused',
    source: `${CORE} §2.5.1.4; CVE-2017-1000452 class`,
    sent: 'Audience = https://other-sp.example/metadata',
    reference: 'SAML_AUDIENCE_INVALID',
    input: () => ({ overrides: { audience: 'https://other-sp.example/metadata' } }),
  }),
  refusal({
    id: 'SAML-AUD-02',
    title: 'An Audience with a trailing slash is refused',
    source: `${CORE} §2.5.1.4 (exact URI)`,
    sent: 'Audience = our entityID + "/"',
    reference: 'SAML_AUDIENCE_INVALID',
    input: async (ctx) => ({ overrides: { audience: `${(await sp(ctx)).entityId}/` } }),
  }),
  refusal({
    id: 'SAML-AUD-03',
    title: 'An Assertion without AudienceRestriction is refused',
    source: 'SAML 2.0 profiles §4.1.4.2 (AudienceRestriction MUST be present)',
    sent: 'Conditions without AudienceRestriction, re-signed by the genuine IdP key',
    reference: 'SAML_AUDIENCE_INVALID',
    input: (ctx) => ({
      mutate: resign(ctx, (x) => x.replace(/<saml:AudienceRestriction>[\s\S]*?<\/saml:AudienceRestriction>/, '')),
    }),
  }),
  refusal({
    id: 'SAML-DST-01',
    title: 'A wrong Destination is refused',
    source: `${CORE} §3.2.2; bindings §3.5.5.2`,
    sent: 'Response Destination = https://other-sp.example/acs',
    reference: 'SAML_DESTINATION_INVALID',
    input: () => ({ overrides: { destination: 'https://other-sp.example/acs' } }),
  }),
  refusal({
    id: 'SAML-DST-02',
    title: 'A Destination differing in case is refused',
    source: `${CORE} §3.2.2 (exact URI)`,
    sent: 'Destination = our ACS with its path upper-cased',
    reference: 'SAML_DESTINATION_INVALID',
    input: async (ctx) => ({ overrides: { destination: caseVariant((await sp(ctx)).acs) } }),
  }),
  refusal({
    id: 'SAML-RCP-01',
    title: 'A wrong SubjectConfirmationData Recipient is refused',
    source: 'SAML 2.0 profiles §4.1.4.2',
    sent: 'Recipient = https://other-sp.example/acs',
    reference: 'SAML_RECIPIENT_INVALID',
    input: () => ({ overrides: { recipient: 'https://other-sp.example/acs' } }),
  }),
  refusal({
    id: 'SAML-RCP-02',
    title: 'A Recipient with a trailing slash is refused',
    source: 'SAML 2.0 profiles §4.1.4.2 (exact URI)',
    sent: 'Recipient = our ACS + "/"',
    reference: 'SAML_RECIPIENT_INVALID',
    input: async (ctx) => ({ overrides: { recipient: `${(await sp(ctx)).acs}/` } }),
  }),
  refusal({
    id: 'SAML-ISS-01',
    title: 'A Response from an unknown Issuer is refused',
    source: `${CORE} §2.2.5; profiles §4.1.4.2`,
    sent: 'Issuer = https://unknown-idp.example/metadata (signed by the suite IdP)',
    reference: 'SAML_ISSUER_UNTRUSTED',
    input: () => ({ overrides: { issuer: 'https://unknown-idp.example/metadata' } }),
  }),
  refusal({
    id: 'SAML-ISS-02',
    title: 'An Assertion Issuer differing from the Response Issuer is refused',
    source: 'SAML 2.0 profiles §4.1.4.2 (Issuer of the assertion = the IdP)',
    sent: 'Response Issuer = the suite IdP; Assertion Issuer = https://unknown-idp.example/metadata; re-signed by the genuine key',
    reference: 'SAML_ISSUER_INVALID',
    input: (ctx) => ({
      mutate: resign(ctx, (x) =>
        x.replace(/(<saml:Assertion[\s\S]*?<saml:Issuer[^>]*>)[^<]*/, '$1https://unknown-idp.example/metadata'),
      ),
    }),
  }),
];
