/**
 * Message structure (security-conformance.md §3.1 step 4, SAML-MUL-01, SAML-STA-01, SAML-SCD-01):
 * exactly one Assertion (CVE-2022-41912), Success status only, a bearer SubjectConfirmation.
 */
import { parseXml, responseParts, serialize, removeOwnSignature } from '../../../saml-idp/hostile/dom.ts';
import { signSamlElement } from '../../../saml-idp/hostile/sign.ts';
import type { CheckDefinition } from '../../types.ts';
import { refusal, resign } from './refusal.ts';

/** The structure checks. */
export const structureChecks: readonly CheckDefinition[] = [
  refusal({
    id: 'SAML-MUL-01',
    title: 'A Response with two signed Assertions is refused',
    source: 'CVE-2022-41912 (crewjam/saml); SAML 2.0 profiles §4.1.4.2',
    sent: 'two Assertions (second with another NameID), each signed by the genuine IdP key',
    reference: 'SAML_MULTIPLE_ASSERTIONS',
    input: (ctx) => ({
      mutate: (xml) => {
        const doc = parseXml(xml);
        const { response, assertion } = responseParts(doc);
        removeOwnSignature(assertion);
        const second = assertion.cloneNode(true) as typeof assertion;
        second.setAttribute('ID', `${assertion.getAttribute('ID') ?? '_a'}-2`);
        response.appendChild(second);
        const key = ctx.idp!.keys;
        let out = serialize(doc).replace(
          /(<saml:Assertion[\s\S]*?<saml:Assertion[\s\S]*?<saml:NameID[^>]*>)[^<]*/,
          '$1second-identity',
        );
        out = signSamlElement(out, { key, target: 'assertion', assertionIndex: 0 });
        return signSamlElement(out, { key, target: 'assertion', assertionIndex: 1 });
      },
    }),
  }),
  refusal({
    id: 'SAML-STA-01',
    title: 'A non-Success status (Responder) is refused',
    source: 'SAML 2.0 core §3.2.2.2; security-conformance.md SAML-STA-01',
    sent: 'StatusCode = urn:oasis:names:tc:SAML:2.0:status:Responder (with a signed Assertion)',
    reference: 'SAML_STATUS_NOT_SUCCESS',
    input: () => ({ overrides: { statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Responder' } }),
  }),
  refusal({
    id: 'SAML-STA-02',
    title: 'A Requester status is refused',
    source: 'SAML 2.0 core §3.2.2.2; eIDAS EID-R12',
    sent: 'StatusCode = urn:oasis:names:tc:SAML:2.0:status:Requester (with a signed Assertion)',
    reference: 'SAML_STATUS_NOT_SUCCESS',
    input: () => ({ overrides: { statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Requester' } }),
  }),
  refusal({
    id: 'SAML-SCD-01',
    title: 'A SubjectConfirmation other than bearer is refused',
    source: 'SAML 2.0 profiles §4.1.4.2 (bearer); security-conformance.md SAML-SCD-01',
    sent: 'SubjectConfirmation Method = holder-of-key, re-signed by the genuine key',
    reference: 'SAML_SUBJECT_CONFIRMATION_INVALID',
    input: (ctx) => ({
      mutate: resign(ctx, (x) =>
        x.replace('urn:oasis:names:tc:SAML:2.0:cm:bearer', 'urn:oasis:names:tc:SAML:2.0:cm:holder-of-key'),
      ),
    }),
  }),
  refusal({
    id: 'SAML-SCD-02',
    title: 'An Assertion without SubjectConfirmation is refused',
    source: 'SAML 2.0 profiles §4.1.4.2',
    sent: 'Subject with NameID only, re-signed by the genuine key',
    reference: 'SAML_SUBJECT_CONFIRMATION_INVALID',
    input: (ctx) => ({
      mutate: resign(ctx, (x) => x.replace(/<saml:SubjectConfirmation [\s\S]*?<\/saml:SubjectConfirmation>/, '')),
    }),
  }),
];
