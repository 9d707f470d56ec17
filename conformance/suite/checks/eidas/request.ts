/**
 * eIDAS AuthnRequest shape (security-conformance.md §5 EID-R1…R6, EID-C1), read from the request the
 * gateway sends to the suite IdP. LoA comparison and the acr→LoA mapping apply to every SAML request and
 * always run; the eIDAS-only rules are skipped (with the reason) when the deployment shows no eIDAS profile.
 */
import { judge, skip, type CheckDefinition } from '../../types.ts';
import { attr, eidasOnly, element, eidasEvidence } from './profile.ts';

const NOTIFIED = [
  'http://eidas.europa.eu/LoA/low',
  'http://eidas.europa.eu/LoA/substantial',
  'http://eidas.europa.eu/LoA/high',
];
const MINIMUM_SET = ['PersonIdentifier', 'CurrentFamilyName', 'CurrentGivenName', 'DateOfBirth'].map(
  (n) => `http://eidas.europa.eu/attributes/naturalperson/${n}`,
);

function classRefs(xml: string): string[] {
  return [...xml.matchAll(/<(?:[A-Za-z0-9_-]+:)?AuthnContextClassRef(?:\s[^>]*)?>([^<]*)</g)].map((m) =>
    (m[1] ?? '').trim(),
  );
}

/** The request checks. */
export const eidasRequestChecks: readonly CheckDefinition[] = [
  {
    id: 'EIDAS-REQ-01',
    title: 'RequestedAuthnContext: Comparison=minimum with exactly one notified LoA',
    plan: 'eidas',
    source: 'eIDAS SAML Message Format §2.3 (EID-R2); eIDAS-Node EidasAuthnRequestValidator',
    run: async (ctx) => {
      if (ctx.idp === undefined) return skip('no suite IdP is registered (--idp-id)');
      const { authnRequestXml: xml } = await eidasEvidence(ctx);
      if (xml === undefined)
        return judge(false, {
          sent: 'a login up to the AuthnRequest',
          expected: 'an AuthnRequest',
          observed: 'no AuthnRequest reached the suite IdP',
        });
      const context = element(xml, 'RequestedAuthnContext');
      const refs = classRefs(xml);
      const ok =
        context !== undefined &&
        attr(context.attrs, 'Comparison') === 'minimum' &&
        refs.length === 1 &&
        NOTIFIED.includes(refs[0] ?? '');
      return judge(ok, {
        sent: 'a login up to the AuthnRequest sent to the suite IdP',
        expected: 'Comparison="minimum", one AuthnContextClassRef among the notified LoAs',
        observed:
          context === undefined
            ? 'no RequestedAuthnContext'
            : `Comparison=${attr(context.attrs, 'Comparison') ?? '(absent = exact)'}, class refs ${JSON.stringify(refs)}`,
      });
    },
  },
  {
    id: 'EIDAS-REQ-02',
    title: "The requested LoA follows the RP's acr (eidas3 → high)",
    plan: 'eidas',
    source: 'eIDAS Implementing Regulation 2015/1502; security-conformance.md EID-R2 mapping; franceconnect-sources.md',
    run: async (ctx) => {
      if (ctx.idp === undefined) return skip('no suite IdP is registered (--idp-id)');
      const out = await ctx.login({ authorize: { acr_values: 'eidas3' }, stopAtAuthnRequest: true });
      const refs = out.authnRequestXml === undefined ? [] : classRefs(out.authnRequestXml);
      return judge(refs.length === 1 && refs[0] === 'http://eidas.europa.eu/LoA/high', {
        sent: 'acr_values=eidas3, up to the AuthnRequest',
        expected: 'AuthnContextClassRef = http://eidas.europa.eu/LoA/high (minimum)',
        observed:
          out.authnRequestXml === undefined
            ? `no AuthnRequest (HTTP ${out.status})`
            : `class refs ${JSON.stringify(refs)}`,
      });
    },
  },
  eidasOnly({
    id: 'EIDAS-REQ-03',
    title: 'SPType is published in the metadata or the request, not both',
    source: 'eIDAS SAML Message Format §2.2 (EID-R5)',
    run: async (_ctx, ev) => {
      const inRequest = /SPType(?:\s[^>]*)?>\s*(public|private)\s*</.test(requestOf(ev));
      const inMetadata = /SPType(?:\s[^>]*)?>\s*(public|private)\s*</.test(ev.metadataXml ?? '');
      return judge(inRequest !== inMetadata, {
        sent: 'the AuthnRequest and SP metadata',
        expected: 'eidas:SPType (public|private) in exactly one of them',
        observed: `request: ${inRequest}, metadata: ${inMetadata}`,
      });
    },
  }),
  eidasOnly({
    id: 'EIDAS-REQ-04',
    title: 'RequestedAttributes holds the natural-person minimum data set, required',
    source: 'eIDAS SAML Attribute Profile §2.2 (EID-R3)',
    run: async (_ctx, ev) => {
      const xml = requestOf(ev);
      const missing = MINIMUM_SET.filter(
        (uri) =>
          !new RegExp(
            `RequestedAttribute\\b[^>]*Name="${uri}"[^>]*isRequired="true"|RequestedAttribute\\b[^>]*isRequired="true"[^>]*Name="${uri}"`,
          ).test(xml),
      );
      const format = /RequestedAttribute\b[^>]*NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri"/.test(xml);
      return judge(missing.length === 0 && format, {
        sent: 'the AuthnRequest',
        expected: `${MINIMUM_SET.length} minimum attributes with isRequired="true" and NameFormat uri`,
        observed:
          missing.length === 0
            ? `all present; NameFormat uri: ${format}`
            : `missing or optional: ${missing.map((u) => u.split('/').pop()).join(', ')}`,
      });
    },
  }),
  eidasOnly({
    id: 'EIDAS-REQ-05',
    title: 'ForceAuthn="true" and not passive',
    source: 'eIDAS SAML Message Format §2.3 (EID-R1)',
    run: async (_ctx, ev) => {
      const root = element(requestOf(ev), 'AuthnRequest');
      const force = root === undefined ? undefined : attr(root.attrs, 'ForceAuthn');
      const passive = root === undefined ? undefined : attr(root.attrs, 'IsPassive');
      return judge(force === 'true' && passive !== 'true', {
        sent: 'the AuthnRequest',
        expected: 'ForceAuthn="true", IsPassive absent or false',
        observed: `ForceAuthn=${force ?? '(absent)'}, IsPassive=${passive ?? '(absent)'}`,
      });
    },
  }),
  eidasOnly({
    id: 'EIDAS-REQ-06',
    title: 'NameIDPolicy Format is persistent, transient or unspecified',
    source: 'eIDAS SAML Message Format §2.3 (EID-R4)',
    run: async (_ctx, ev) => {
      const policy = element(requestOf(ev), 'NameIDPolicy');
      const format = policy === undefined ? undefined : attr(policy.attrs, 'Format');
      const allowed = [
        'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
        'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
        'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
      ];
      return judge(format === undefined || allowed.includes(format), {
        sent: 'the AuthnRequest',
        expected: 'no NameIDPolicy, or one of the three allowed formats',
        observed: `Format=${format ?? '(no policy)'}`,
      });
    },
  }),
  eidasOnly({
    id: 'EIDAS-REQ-07',
    title: 'The AuthnRequest is signed with RSASSA-PSS or ECDSA, SHA-256 or better',
    source: 'eIDAS Cryptographic Requirements §2 (EID-C1); eIDAS-Node signature.algorithm.whitelist',
    run: async (_ctx, ev) => {
      const method = attr(element(requestOf(ev), 'SignatureMethod')?.attrs ?? '', 'Algorithm') ?? '(none)';
      const ok = /xmldsig-more#(sha(256|384|512)-rsa-MGF1|ecdsa-sha(256|384|512))$/.test(method);
      return judge(ok, {
        sent: 'the AuthnRequest',
        expected: 'sha256/384/512-rsa-MGF1 or ecdsa-sha256/384/512',
        observed: `SignatureMethod=${method}`,
      });
    },
  }),
];

/**
 * The AuthnRequest the evidence captured; throws (the check fails, saying why) when none was: judged on an empty
 * request, "no NameIDPolicy" or "SPType only in the metadata" would pass proving nothing.
 */
function requestOf(ev: { authnRequestXml: string | undefined }): string {
  if (ev.authnRequestXml === undefined)
    throw new Error('no AuthnRequest was captured (the login did not reach the IdP): the check would judge nothing');
  return ev.authnRequestXml;
}
