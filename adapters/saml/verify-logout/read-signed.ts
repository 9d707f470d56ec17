/**
 * Logout step 5, read the message only from what was verified (the signed canonical bytes for HTTP-POST,
 * the whole message for HTTP-Redirect).
 *
 * - ID (an `xs:ID`: an NCName), Version 2.0 and IssueInstant required (`SAML_SCHEMA_INVALID`); the signed Issuer equals the one keys
 *   were chosen for (`SAML_LOGOUT_ISSUER_INVALID`).
 * - LogoutRequest: exactly one NameID (value and Format; no Format reads as unspecified), its SessionIndexes,
 *   NotOnOrAfter when given.
 * - LogoutResponse: InResponseTo required, the StatusCode chain (`SAML_SCHEMA_INVALID` without one).
 */
import type { Element } from '@xmldom/xmldom';
import { samlError } from '../errors.ts';
import { requireXsId } from '../xml/xs-id.ts';
import { attr, childrenNamed, optionalChild, requiredChild, textOnly } from '../xml/dom.ts';
import { NAMEID_UNSPECIFIED, NS } from '../xml/namespaces.ts';
import { instant, need } from '../verify/context.ts';
import type { LogoutVerifyContext, SignedLogoutMessage } from './context.ts';
import { logoutIssuerText } from './issuer.ts';

export function readSignedLogout(ctx: LogoutVerifyContext): void {
  const root = need(ctx.signedRoot, 'signedRoot');
  const id = attr(root, 'ID');
  const issueInstant = attr(root, 'IssueInstant');
  if (!id || !issueInstant || attr(root, 'Version') !== '2.0')
    throw samlError('SAML_SCHEMA_INVALID', { detail: `${ctx.expect} ID, IssueInstant or Version missing` });
  requireXsId(id, `${ctx.expect} ID`); // before the replay guard keys it: `<issuer>:<id>`
  instant(issueInstant, 'IssueInstant');
  const issuer = logoutIssuerText(requiredChild(root, NS.assertion, 'Issuer'));
  if (issuer !== need(ctx.issuer, 'issuer'))
    throw samlError('SAML_LOGOUT_ISSUER_INVALID', { detail: 'signed Issuer differs' });
  const destination = attr(root, 'Destination');
  const signed: SignedLogoutMessage = {
    id,
    issuer,
    issueInstant,
    ...(destination === undefined ? {} : { destination }),
    statusCodes: [],
    sessionIndexes: [],
  };
  if (ctx.expect === 'LogoutRequest') readRequest(root, signed);
  else readResponse(root, signed);
  ctx.signed = signed;
}

function readRequest(root: Element, signed: SignedLogoutMessage): void {
  const notOnOrAfter = attr(root, 'NotOnOrAfter');
  if (notOnOrAfter !== undefined) {
    instant(notOnOrAfter, 'NotOnOrAfter');
    signed.notOnOrAfter = notOnOrAfter;
  }
  const nameIds = childrenNamed(root, NS.assertion, 'NameID');
  if (nameIds.length !== 1) throw samlError('SAML_SCHEMA_INVALID', { detail: `${nameIds.length} NameID elements` });
  const value = textOnly(nameIds[0]!).trim();
  if (value === '') throw samlError('SAML_NAMEID_INVALID', { detail: 'empty NameID' });
  signed.nameId = { value, format: attr(nameIds[0]!, 'Format') ?? NAMEID_UNSPECIFIED };
  signed.sessionIndexes = childrenNamed(root, NS.protocol, 'SessionIndex').map((e) => textOnly(e).trim());
  if (signed.sessionIndexes.some((s) => s === ''))
    throw samlError('SAML_SCHEMA_INVALID', { detail: 'empty SessionIndex' });
}

function readResponse(root: Element, signed: SignedLogoutMessage): void {
  const inResponseTo = attr(root, 'InResponseTo');
  if (!inResponseTo) throw samlError('SAML_LOGOUT_INRESPONSETO_UNKNOWN', { detail: 'no InResponseTo' });
  signed.inResponseTo = inResponseTo;
  const status = requiredChild(root, NS.protocol, 'Status');
  for (
    let code: Element | undefined = requiredChild(status, NS.protocol, 'StatusCode');
    code;
    code = optionalChild(code, NS.protocol, 'StatusCode')
  ) {
    signed.statusCodes.push(attr(code, 'Value') ?? '');
  }
}
