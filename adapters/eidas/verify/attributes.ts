/**
 * eIDAS step 2, attributes (EID-R10, EID-R11, eIDAS SAML Attribute Profile).
 *
 * - Every attribute Name is a URI with NameFormat uri (`EIDAS_ATTRIBUTE_NAME_FORMAT_INVALID`); unknown
 *   names are dropped, never passed through.
 * - Every attribute requested with isRequired="true" is present with a value: the natural-person
 *   minimum data set (`EIDAS_MANDATORY_ATTRIBUTE_MISSING`) and, for a legal-person login, the legal-person
 *   one (`EIDAS_LEGAL_PERSON_ATTRIBUTE_MISSING`).
 * - Values are well-formed (`EIDAS_ATTRIBUTE_INVALID`): single-valued where the profile says so, names
 *   1–256 characters without control characters, DateOfBirth an existing xs:date YYYY-MM-DD not in the
 *   future, Gender from its vocabulary, CurrentAddress base64 of UTF-8 text without markup declarations.
 * - PersonIdentifier and LegalPersonIdentifier are `XX/YY/…` with XX the node's configured country and YY
 *   ours (`EIDAS_PERSON_IDENTIFIER_INVALID`).
 * - The legal-person attributes are kept only when the entry asks for the legal-person data set
 *   (`legalPerson: true`); otherwise they are dropped like any attribute not asked for.
 * The result (`ctx.eidasAttributes`) holds internal names and internal values.
 */
import type { InternalAttribute, UpstreamIdentity } from '../../contract.ts';
import { internalValueOf, rowOfName } from '../../attributes/attribute-map.ts';
import { samlError } from '../../saml/errors.ts';
import { need, type VerifyContext } from '../../saml/verify/context.ts';
import { ATTRNAME_URI } from '../../saml/xml/namespaces.ts';
import { LEGAL_MINIMUM, LEGAL_PERSON, type ResolvedEidasConfig } from '../config.ts';

// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL = /[\u0000-\u001f\u007f]/;
const SINGLE: readonly InternalAttribute[] = [
  'person_identifier',
  'family_name',
  'given_name',
  'birthdate',
  'gender',
  'legal_person_identifier',
];

type Check = (value: string, idp: ResolvedEidasConfig, now: Date) => boolean;
const text: Check = (v) => v.length >= 1 && v.length <= 256 && !CONTROL.test(v) && v.trim() === v;
const identifier = (v: string, idp: ResolvedEidasConfig): boolean => {
  const m = /^([A-Z]{2})\/([A-Z]{2})\/(\S{1,256})$/.exec(v);
  return !!m && m[2] === idp.spCountry && m[1] === idp.country;
};

/** Per internal name, how a value must look (attributes absent here only need to be text). */
const FORMAT: Partial<Record<InternalAttribute, Check>> = {
  birthdate: (v, _idp, now) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
    if (!m) return false;
    const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    return (
      date.getUTCMonth() === Number(m[2]) - 1 && date.getUTCDate() === Number(m[3]) && date.getTime() <= now.getTime()
    );
  },
  current_address: (v) => {
    if (!/^[A-Za-z0-9+/\r\n]+={0,2}$/.test(v) || v.length > 8192) return false;
    try {
      const decoded = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(v, 'base64'));
      return decoded.length > 0 && !/<!/.test(decoded);
    } catch {
      return false;
    }
  },
};

export function checkEidasAttributes(ctx: VerifyContext, idp: ResolvedEidasConfig): UpstreamIdentity['attributes'] {
  const received = need(ctx.claims, 'claims').attributes;
  const out: UpstreamIdentity['attributes'] = {};
  for (const attribute of received) {
    if (attribute.nameFormat !== ATTRNAME_URI || !URL.canParse(attribute.name)) {
      throw samlError('EIDAS_ATTRIBUTE_NAME_FORMAT_INVALID', {
        detail: `attribute ${attribute.name} (${attribute.nameFormat ?? 'no NameFormat'})`,
      });
    }
    const internal = Object.hasOwn(idp.attributeNames, attribute.name)
      ? idp.attributeNames[attribute.name]
      : rowOfName(attribute.name)?.internal;
    if (!internal || (LEGAL_PERSON.includes(internal) && !idp.legalPerson)) continue;
    const values = attribute.values.map((value) => {
      const mapped = internalValueOf(internal, value);
      if (mapped === undefined)
        throw samlError('EIDAS_ATTRIBUTE_INVALID', { detail: `${internal}: value outside its vocabulary` });
      return mapped;
    });
    (out[internal] ??= []).push(...values);
  }
  for (const { name, required } of idp.requested) {
    if (!required || (out[name]?.length ?? 0) > 0) continue;
    const code = LEGAL_MINIMUM.includes(name)
      ? 'EIDAS_LEGAL_PERSON_ATTRIBUTE_MISSING'
      : 'EIDAS_MANDATORY_ATTRIBUTE_MISSING';
    throw samlError(code, { detail: `${name} missing` });
  }
  for (const [name, values] of Object.entries(out) as [InternalAttribute, string[]][]) {
    if (SINGLE.includes(name) && values.length !== 1)
      throw samlError('EIDAS_ATTRIBUTE_INVALID', { detail: `${name} has ${values.length} values` });
    if (name === 'person_identifier' || name === 'legal_person_identifier') {
      if (!values.every((v) => identifier(v, idp)))
        throw samlError('EIDAS_PERSON_IDENTIFIER_INVALID', {
          detail: `${name} is not ${idp.country}/${idp.spCountry}/…`,
        });
      continue;
    }
    const check = FORMAT[name] ?? text;
    if (!values.every((v) => check(v, idp, ctx.env.now)))
      throw samlError('EIDAS_ATTRIBUTE_INVALID', { detail: `${name} is not well-formed` });
  }
  return out;
}
