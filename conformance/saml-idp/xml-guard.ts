/**
 * The XML gate of the demo IdP, installed as samlify's schema validator.
 *
 * - Refuses any DOCTYPE (and so any entity declaration): `XML_DOCTYPE_REFUSED`.
 * - Requires a well-formed document with one root element, parsed by @xmldom/xmldom with every
 *   warning and error treated as fatal: `XML_MALFORMED`.
 * - It is NOT full XSD validation of the SAML schemas: the demo IdP is a test peer, not a production
 *   verifier. The gateway's own pipeline does its schema checks; this gate only stops what must never be parsed.
 */
import { DOMParser } from '@xmldom/xmldom';
import * as samlify from 'samlify';
import { ConformanceError } from '../errors.ts';

/**
 * Checks that `xml` is a well-formed XML document without DOCTYPE.
 *
 * @throws ConformanceError `XML_DOCTYPE_REFUSED` or `XML_MALFORMED`.
 * @example assertWellFormedXml('<a/>');
 */
export function assertWellFormedXml(xml: string): void {
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) {
    throw new ConformanceError('XML_DOCTYPE_REFUSED', 400, 'XML with a DOCTYPE is refused');
  }
  let doc: ReturnType<DOMParser['parseFromString']>;
  try {
    doc = new DOMParser({
      onError: (level, message) => {
        throw new Error(`${level}: ${message}`);
      },
    }).parseFromString(xml, 'text/xml');
  } catch (cause) {
    throw new ConformanceError('XML_MALFORMED', 400, 'XML is not well-formed', { cause });
  }
  if (doc.doctype !== null) throw new ConformanceError('XML_DOCTYPE_REFUSED', 400, 'XML with a DOCTYPE is refused');
  if (doc.documentElement === null) throw new ConformanceError('XML_MALFORMED', 400, 'XML has no root element');
}

let installed = false;

/**
 * Installs `assertWellFormedXml` as samlify's (module-wide) schema validator. Idempotent.
 *
 * @example installSamlifyXmlGuard(); // before any samlify parse
 */
export function installSamlifyXmlGuard(): void {
  if (installed) return;
  samlify.setSchemaValidator({
    validate: async (xml: string) => {
      assertWellFormedXml(xml);
      return 'well-formed';
    },
  });
  installed = true;
}
