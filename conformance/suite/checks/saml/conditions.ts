/**
 * Conditions and NameID format (SAML 2.0 core §2.5.1, §2.2.2, §3.4.1.1): every condition must be
 * evaluated; one the SP does not understand makes the assertion invalid (Indeterminate is not Valid);
 * `ProxyRestriction Count="0"` forbids the further assertion an ID token is; a ProxyRestriction Audience
 * list without the relying party forbids it too; a NameID in another format than the one the SP
 * registered (and asked for) is refused. Each hostile assertion is re-signed by the genuine IdP key.
 */
import type { CheckDefinition } from '../../types.ts';
import { refusal, resign } from './refusal.ts';

const CORE = 'SAML 2.0 core';
const afterAudience = (extra: string) => (xml: string) =>
  xml.replace('</saml:AudienceRestriction>', `</saml:AudienceRestriction>${extra}`);

/** The condition and NameID-format checks. */
export const conditionChecks: readonly CheckDefinition[] = [
  refusal({
    id: 'SAML-CND-01',
    title: 'An Assertion with a condition the SP cannot understand is refused',
    source: `${CORE} §2.5.1 (Indeterminate is not Valid)`,
    sent: 'Conditions + <saml:Condition xsi:type="x:Weekday"/>, re-signed by the genuine IdP key',
    reference: 'SAML_SCHEMA_INVALID',
    input: (ctx) => ({
      mutate: resign(
        ctx,
        afterAudience(
          '<saml:Condition xmlns:x="urn:x" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="x:Weekday"/>',
        ),
      ),
    }),
  }),
  refusal({
    id: 'SAML-CND-02',
    title: 'ProxyRestriction Count="0" is honoured (no ID token from it)',
    source: `${CORE} §2.5.1.6`,
    sent: 'Conditions + <saml:ProxyRestriction Count="0"/>, re-signed by the genuine IdP key',
    reference: 'SAML_PROXY_RESTRICTED',
    input: (ctx) => ({ mutate: resign(ctx, afterAudience('<saml:ProxyRestriction Count="0"/>')) }),
  }),
  refusal({
    id: 'SAML-CND-03',
    title: 'A ProxyRestriction Audience list that does not name the relying party is honoured',
    source: `${CORE} §2.5.1.6`,
    sent: 'Conditions + <saml:ProxyRestriction Count="1"><saml:Audience>https://other-rp.example</saml:Audience></saml:ProxyRestriction>, re-signed',
    reference: 'UPSTREAM_AUDIENCE_EXCLUDES_RP',
    input: (ctx) => ({
      mutate: resign(
        ctx,
        afterAudience(
          '<saml:ProxyRestriction Count="1"><saml:Audience>https://other-rp.example</saml:Audience></saml:ProxyRestriction>',
        ),
      ),
    }),
  }),
  refusal({
    id: 'SAML-NID-02',
    title: 'A NameID in another format than the registered one is refused',
    source: `${CORE} §3.4.1.1 (NameIDPolicy Format); the suite IdP must be registered with a concrete nameIdFormat`,
    sent: 'NameID Format = urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    reference: 'SAML_NAMEID_FORMAT_MISMATCH',
    input: () => ({ overrides: { nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress' } }),
  }),
];
