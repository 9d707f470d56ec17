/**
 * eIDAS metadata rules for the deployment's own SP metadata (security-conformance.md EID-M1…M4): signed
 * with PSS/ECDSA, `validUntil` in the future, eIDAS entity attributes, separate signing and encryption keys.
 * Skipped when the deployment shows no eIDAS profile.
 */
import { judge, type CheckDefinition } from '../../types.ts';
import { attr, eidasOnly, element } from './profile.ts';

/** The metadata checks. */
export const eidasMetadataChecks: readonly CheckDefinition[] = [
  eidasOnly({
    id: 'EIDAS-MD-01',
    title: 'SP metadata carries the eIDAS protocol-version and application-identifier',
    source: 'eIDAS SAML Message Format §2.1 (EID-M3)',
    run: async (_ctx, ev) => {
      const xml = ev.metadataXml ?? '';
      const version = xml.includes('http://eidas.europa.eu/entity-attributes/protocol-version');
      const app = xml.includes('http://eidas.europa.eu/entity-attributes/application-identifier');
      return judge(version && app, {
        sent: 'GET SP metadata',
        expected: 'both entity attributes',
        observed: `protocol-version: ${version}, application-identifier: ${app}`,
      });
    },
  }),
  eidasOnly({
    id: 'EIDAS-MD-02',
    title: 'SP metadata has separate signing and encryption keys',
    source: 'eIDAS SAML Message Format §2.1 (EID-M4)',
    run: async (_ctx, ev) => {
      const xml = ev.metadataXml ?? '';
      const signing = /KeyDescriptor[^>]*use="signing"/.test(xml);
      const encryption = /KeyDescriptor[^>]*use="encryption"/.test(xml);
      return judge(signing && encryption, {
        sent: 'GET SP metadata',
        expected: 'KeyDescriptor use="signing" and use="encryption"',
        observed: `signing: ${signing}, encryption: ${encryption}`,
      });
    },
  }),
  eidasOnly({
    id: 'EIDAS-MD-03',
    title: 'SP metadata has validUntil in the future',
    source: 'eIDAS SAML Message Format §2.1 (EID-M2); SAML metadata §2.3.2',
    run: async (_ctx, ev) => {
      const until = attr(element(ev.metadataXml ?? '', 'EntityDescriptor')?.attrs ?? '', 'validUntil');
      return judge(until !== undefined && Date.parse(until) > Date.now(), {
        sent: 'GET SP metadata',
        expected: 'validUntil in the future',
        observed: `validUntil=${until ?? '(absent)'}`,
      });
    },
  }),
  eidasOnly({
    id: 'EIDAS-MD-04',
    title: 'SP metadata is signed with RSASSA-PSS or ECDSA',
    source: 'eIDAS Cryptographic Requirements §2 (EID-M1, EID-C1)',
    run: async (_ctx, ev) => {
      const method = attr(element(ev.metadataXml ?? '', 'SignatureMethod')?.attrs ?? '', 'Algorithm') ?? '(unsigned)';
      return judge(/xmldsig-more#(sha(256|384|512)-rsa-MGF1|ecdsa-sha(256|384|512))$/.test(method), {
        sent: 'GET SP metadata',
        expected: 'a PSS or ECDSA signature, SHA-256+',
        observed: `SignatureMethod=${method}`,
      });
    },
  }),
];
