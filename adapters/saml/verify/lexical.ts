/**
 * Step 2, lexical checks (SAML-XML-01/03/04, SAML-XSW-12/14).
 *
 * - Any `<!DOCTYPE`/`<!ENTITY` is refused before parsing (`SAML_DTD_FORBIDDEN`).
 * - The strict parser: warnings are errors, one root, nothing after it, bounded depth.
 * - The root is `samlp:Response` (by namespace), else `SAML_SCHEMA_INVALID`.
 */
import { samlError } from '../errors.ts';
import { isElement } from '../xml/dom.ts';
import { NS } from '../xml/namespaces.ts';
import { parseStrictXml } from '../xml/parse.ts';
import { need, type VerifyContext } from './context.ts';

export function checkLexical(ctx: VerifyContext): void {
  const doc = parseStrictXml(need(ctx.xml, 'xml'));
  const root = doc.documentElement;
  if (!isElement(root, NS.protocol, 'Response'))
    throw samlError('SAML_SCHEMA_INVALID', { detail: 'root is not samlp:Response' });
  ctx.doc = doc;
  ctx.response = root;
}
