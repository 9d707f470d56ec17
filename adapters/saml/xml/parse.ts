/**
 * The one XML parser of the SAML adapters, in its strict form (security-conformance.md §3.1 step 2).
 *
 * - Any `<!DOCTYPE` or `<!ENTITY` is refused before parsing (XXE, billion laughs, parser differentials).
 * - @xmldom/xmldom with an `onError` that turns every warning and error into a refusal.
 * - Exactly one root element; nothing but the XML declaration and whitespace around it (no trailing
 *   element, text, comment or processing instruction).
 * - Element depth is bounded.
 * - Only characters XML 1.0 allows (`Char`, §2.2): a NUL, a C0 control, U+FFFE/U+FFFF or a lone surrogate
 *   makes the document not well-formed, and a lenient parser would drop or keep it silently (a parser
 *   differential inside signed content; found by the ACS fuzzer), nor named by a character reference (`&#0;`,
 *   `&#xD800;`), which the parser would put in the DOM as it stands.
 */
import { DOMParser } from '@xmldom/xmldom';
import type { Document, Element } from '@xmldom/xmldom';
import { samlError } from '../errors.ts';

const DTD = /<!\s*(DOCTYPE|ENTITY)/i;
// eslint-disable-next-line no-control-regex -- the control characters are what this finds
const NOT_XML_CHAR = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const MAX_DEPTH = 48;
const ELEMENT = 1;
const TEXT = 3;
const PROCESSING_INSTRUCTION = 7;

/**
 * Parses untrusted XML strictly. Throws `SAML_DTD_FORBIDDEN` or `SAML_MALFORMED_XML`.
 *
 * @example
 * const root = parseStrictXml(xml).documentElement;
 */
export function parseStrictXml(xml: string): Document {
  if (DTD.test(xml)) throw samlError('SAML_DTD_FORBIDDEN', { detail: 'document type declaration present' });
  const forbidden = NOT_XML_CHAR.exec(xml);
  if (forbidden)
    throw samlError('SAML_MALFORMED_XML', {
      detail: `character U+${(forbidden[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')} at ${forbidden.index} is not allowed in XML`,
    });
  const referenced = forbiddenReference(xml);
  if (referenced !== undefined)
    throw samlError('SAML_MALFORMED_XML', {
      detail: `character reference ${referenced.text} at ${referenced.index} names a character XML does not allow`,
    });
  let doc: Document;
  try {
    doc = new DOMParser({
      onError: (level, message) => {
        throw new Error(`${level}: ${message}`);
      },
    }).parseFromString(xml, 'text/xml');
  } catch (cause) {
    throw samlError('SAML_MALFORMED_XML', { detail: 'parser refused the document', cause });
  }
  let roots = 0;
  for (let node = doc.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === ELEMENT) roots += 1;
    else if (node.nodeType === PROCESSING_INSTRUCTION && node.nodeName === 'xml') continue;
    else if (node.nodeType === TEXT && /^[ \t\r\n]*$/.test(node.nodeValue ?? '')) continue;
    else throw samlError('SAML_MALFORMED_XML', { detail: `node of type ${node.nodeType} outside the root` });
  }
  if (roots !== 1 || !doc.documentElement) throw samlError('SAML_MALFORMED_XML', { detail: `${roots} root elements` });
  checkDepth(doc.documentElement);
  return doc;
}

/** Character references (`&#0;`, `&#xD800;`): the parser puts what they name in the DOM unchecked. */
const CHAR_REFERENCE = /&#(?:x([0-9A-Fa-f]+)|([0-9]+));/g;

/**
 * The first character reference naming a character XML 1.0 does not allow (well-formedness constraint "Legal
 * Character", §4.1): a NUL, a C0 control, a lone surrogate, U+FFFE/U+FFFF or beyond U+10FFFF. @xmldom accepts them, and
 * two NameIDs differing only by lone surrogates would become one once encoded (the same Redis keys, the same logout).
 */
function forbiddenReference(xml: string): { text: string; index: number } | undefined {
  if (!xml.includes('&#')) return undefined;
  for (const match of xml.matchAll(CHAR_REFERENCE)) {
    // any length (XML allows leading zeros, and the parser reads them all): past U+10FFFF by its digits alone
    const hex = match[1]?.replace(/^0+/, '');
    const dec = match[2]?.replace(/^0+/, '');
    const code =
      hex !== undefined
        ? hex.length > 6
          ? Infinity
          : parseInt(hex || '0', 16)
        : (dec ?? '').length > 7
          ? Infinity
          : Number(dec || '0');
    const allowed =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      (code >= 0x10000 && code <= 0x10ffff);
    if (!allowed) return { text: match[0], index: match.index };
  }
  return undefined;
}

function checkDepth(root: Element): void {
  const stack: [Element, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [element, depth] = stack.pop()!;
    if (depth > MAX_DEPTH) throw samlError('SAML_MALFORMED_XML', { detail: `deeper than ${MAX_DEPTH}` });
    for (let child = element.firstChild; child; child = child.nextSibling) {
      if (child.nodeType === ELEMENT) stack.push([child as Element, depth + 1]);
    }
  }
}
