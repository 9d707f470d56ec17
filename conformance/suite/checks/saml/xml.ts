/**
 * Parser and size attacks (security-conformance.md SAML-XML-01/03/04/06): XXE, entity expansion, any
 * DOCTYPE, deep nesting, oversized and deflate-bomb messages, and a SAMLResponse that is not base64.
 * Each must end without a code (a 4xx such as 413 counts as a refusal).
 */
import { deflateRawSync } from 'node:zlib';
import type { CheckDefinition } from '../../types.ts';
import { refusal } from './refusal.ts';

function withoutDecl(xml: string): string {
  return xml.replace(/^<\?xml[^>]*>/, '');
}

function setResponse(fields: Record<string, string>, value: string): Record<string, string> {
  return { ...fields, SAMLResponse: value };
}

/** The XML checks. */
export const xmlChecks: readonly CheckDefinition[] = [
  refusal({
    id: 'SAML-XML-01',
    title: 'XXE: a DOCTYPE with an external entity is refused',
    source: 'CWE-611; security-conformance.md SAML-XML-01',
    sent: 'DOCTYPE declaring SYSTEM "file:///etc/passwd", used in NameID',
    reference: 'SAML_DTD_FORBIDDEN',
    input: () => ({
      mutate: (xml) =>
        `<!DOCTYPE samlp:Response [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>${withoutDecl(xml).replace(/(<saml:NameID[^>]*>)[^<]*/, '$1&xxe;')}`,
    }),
  }),
  refusal({
    id: 'SAML-XML-02',
    title: 'Any DOCTYPE is refused',
    source: 'SAML 2.0 core §1.3 (no DTD processing); security-conformance.md SAML-XML-01',
    sent: 'the honest Response preceded by <!DOCTYPE samlp:Response>',
    reference: 'SAML_DTD_FORBIDDEN',
    input: () => ({ mutate: (xml) => `<!DOCTYPE samlp:Response>${withoutDecl(xml)}` }),
  }),
  refusal({
    id: 'SAML-XML-03',
    title: 'Entity expansion ("billion laughs") is refused',
    source: 'CWE-776; security-conformance.md SAML-XML-03',
    sent: 'nested entity declarations expanding to 10^9 characters',
    reference: 'SAML_DTD_FORBIDDEN',
    input: () => {
      const entities = [
        '<!ENTITY l0 "lol">',
        ...Array.from({ length: 9 }, (_v, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`),
      ].join('');
      return {
        mutate: (xml) =>
          `<!DOCTYPE samlp:Response [${entities}]>${withoutDecl(xml).replace(/(<saml:NameID[^>]*>)[^<]*/, '$1&l9;')}`,
      };
    },
  }),
  refusal({
    id: 'SAML-XML-04',
    title: 'A deeply nested document is refused',
    source: 'GHSA-2v35-w6hq-6mfw (CVE-2026-41673); security-conformance.md SAML-XML-04',
    sent: '20 000 nested elements inside samlp:Extensions',
    reference: 'SAML_MALFORMED_XML',
    input: () => ({
      mutate: (xml) =>
        xml.replace(
          /(<\/saml:Issuer>)/,
          `$1<samlp:Extensions>${'<x>'.repeat(20_000)}${'</x>'.repeat(20_000)}</samlp:Extensions>`,
        ),
    }),
  }),
  refusal({
    id: 'SAML-XML-06',
    title: 'A SAMLResponse over 256 KiB is refused',
    source: 'security-conformance.md SAML-XML-06 (cap 256 KiB)',
    sent: 'the honest Response padded with a 300 KiB comment',
    reference: 'SAML_TOO_LARGE',
    input: () => ({ mutate: (xml) => `${xml}<!--${'A'.repeat(300 * 1024)}-->` }),
  }),
  refusal({
    id: 'SAML-XML-07',
    title: 'A 2 MiB POST to the ACS is refused',
    source: 'RFC 9110 §15.5.14 (413); security-conformance.md SAML-XML-06',
    sent: 'SAMLResponse field of 2 MiB',
    reference: 'HTTP 413',
    input: () => ({ mutateForm: (f) => setResponse(f, 'A'.repeat(2 * 1024 * 1024)) }),
  }),
  refusal({
    id: 'SAML-XML-08',
    title: 'A deflate bomb posted as SAMLResponse is refused',
    source: 'security-conformance.md SAML-XML-06 (inflate cap); CWE-409',
    sent: 'SAMLResponse = base64(raw deflate of 50 MiB of "<"), HTTP-Redirect encoding over POST',
    reference: 'SAML_MALFORMED_XML',
    input: () => ({
      mutateForm: (f) => setResponse(f, deflateRawSync(Buffer.alloc(50 * 1024 * 1024, '<')).toString('base64')),
    }),
  }),
  refusal({
    id: 'SAML-XML-09',
    title: 'A deflate bomb over the HTTP-Redirect binding (GET) is refused',
    source: 'SAML 2.0 bindings §3.4.4.1; CWE-409',
    sent: "GET ACS?SAMLResponse=<deflated 50 MiB>&RelayState=<the login's>",
    reference: 'HTTP 4xx',
    input: () => ({
      post: (form, browser, base) => {
        const url = new URL(form.action, base);
        url.searchParams.set('SAMLResponse', deflateRawSync(Buffer.alloc(50 * 1024 * 1024, '<')).toString('base64'));
        if (form.fields.RelayState !== undefined) url.searchParams.set('RelayState', form.fields.RelayState);
        return browser.follow(url);
      },
    }),
  }),
  refusal({
    id: 'SAML-XML-10',
    title: 'A SAMLResponse that is not base64 is refused',
    source: 'SAML 2.0 bindings §3.5.4',
    sent: 'SAMLResponse = "%%%not-base64%%%"',
    reference: 'SAML_TRANSPORT_INVALID',
    input: () => ({ mutateForm: (f) => setResponse(f, '%%%not-base64%%%') }),
  }),
];
