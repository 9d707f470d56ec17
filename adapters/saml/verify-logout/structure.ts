/**
 * Logout step 2, lexical and structure checks, on the received DOM (the same rules as a login response).
 *
 * - No DOCTYPE or entity, the strict parser, one root, which is the `samlp:LogoutRequest` or
 *   `samlp:LogoutResponse` expected (`SAML_DTD_FORBIDDEN`, `SAML_MALFORMED_XML`, `SAML_SCHEMA_INVALID`).
 * - No ID value on two elements (`SAML_DUPLICATE_ID`); a ds:Signature only as a direct child of the root,
 *   one at most, never with ds:Object (`SAML_SIGNATURE_WRAPPING`).
 * - No comment inside Issuer, NameID or SessionIndex (`SAML_COMMENT_IN_IDENTITY`).
 * - An EncryptedID or BaseID instead of a NameID is refused (`SAML_SCHEMA_INVALID`): our requests and
 *   logins use plain NameIDs.
 */
import { samlError } from '../errors.ts';
import { allElements, containsComment, descendantsNamed, isElement } from '../xml/dom.ts';
import { NS } from '../xml/namespaces.ts';
import { parseStrictXml } from '../xml/parse.ts';
import { need } from '../verify/context.ts';
import { checkSignaturePlacement, rejectCommentsInIdentity, rejectDuplicateIds } from '../verify/structure.ts';
import type { LogoutVerifyContext } from './context.ts';

export function checkLogoutStructure(ctx: LogoutVerifyContext): void {
  const root = parseStrictXml(need(ctx.xml, 'xml')).documentElement!;
  if (!isElement(root, NS.protocol, ctx.expect))
    throw samlError('SAML_SCHEMA_INVALID', { detail: `root is not samlp:${ctx.expect}` });
  rejectDuplicateIds(allElements(root));
  checkSignaturePlacement(root, undefined);
  rejectCommentsInIdentity(root);
  if (descendantsNamed(root, NS.protocol, 'SessionIndex').some((e) => containsComment(e)))
    throw samlError('SAML_COMMENT_IN_IDENTITY', { detail: 'comment inside SessionIndex' });
  for (const local of ['EncryptedID', 'BaseID']) {
    if (descendantsNamed(root, NS.assertion, local).length > 0)
      throw samlError('SAML_SCHEMA_INVALID', { detail: `${local} is not accepted` });
  }
  ctx.root = root;
}
