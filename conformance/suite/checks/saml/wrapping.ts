/**
 * XML signature wrapping (Somorovsky et al. 2012; SAML Raider XSW1–8; CVE-2017-1000452, CVE-2025-47949)
 * and its later variants: the decoy signature (OneUptime #2981), duplicated SignedInfo (CVE-2025-29774),
 * trailing / second roots (CVE-2022-39299, CVE-2022-39353), DOCTYPE round trips (CVE-2025-25291/25292).
 * Each must end without a code.
 */
import { wrapSignature, xswNeedsSignedResponse, XSW_VARIANTS, evilNameId } from '../../../saml-idp/hostile/wrap.ts';
import {
  NS,
  child,
  descendants,
  evilClone,
  parseXml,
  responseParts,
  serialize,
} from '../../../saml-idp/hostile/dom.ts';
import { judge, skip, type CheckDefinition } from '../../types.ts';
import { describe, refusedWithoutCode } from '../../verdicts.ts';
import { refusal } from './refusal.ts';

const shapes: Record<(typeof XSW_VARIANTS)[number], string> = {
  XSW1: 'evil Response holds the signature; the signed original is cloned inside the Signature',
  XSW2: 'evil Response holds the signature; the signed original is placed before it (detached)',
  XSW3: 'an unsigned evil Assertion (new ID) before the signed one',
  XSW4: 'the signed Assertion nested inside an evil Assertion',
  XSW5: 'evil Assertion carries the Signature; the original (unsigned copy) appended to the Response',
  XSW6: 'evil Assertion carries the Signature; the original inside the Signature',
  XSW7: "samlp:Extensions holding an evil Assertion with the signed Assertion's ID",
  XSW8: 'evil Assertion carries the Signature; the original inside ds:Object',
  XSW9: 'decoy second Signature repeating the SignatureValue, evil Assertion in its ds:Object',
};

/** What XSW1/2 ask of the IdP: the Response signed, the Assertion not (the signature they move is the Response's). */
const RESPONSE_SIGNED_ONLY = { signResponse: true, signAssertion: false } as const;

const xsw: CheckDefinition[] = XSW_VARIANTS.map((variant, i) => {
  const check = refusal({
    id: `SAML-XSW-0${i + 1}`,
    title: `Signature wrapping ${variant} is refused`,
    source:
      i < 8
        ? 'Somorovsky et al., USENIX Security 2012; SAML Raider XSWHelpers; CVE-2017-1000452'
        : 'OneUptime #2981; xml-crypto src/enveloped-signature.ts',
    sent: `${shapes[variant]} (NameID ${evilNameId})`,
    reference: variant === 'XSW7' ? 'SAML_DUPLICATE_ID' : 'SAML_SIGNATURE_WRAPPING',
    input: () => ({
      ...(xswNeedsSignedResponse(variant) ? { overrides: RESPONSE_SIGNED_ONLY } : {}),
      mutate: (xml) => wrapSignature(variant, xml),
    }),
  });
  if (!xswNeedsSignedResponse(variant)) return check;
  // a deployment that requires the Assertion signed refuses any Response signed only at its root: the wrapping would be
  // refused for that, proving nothing about it. An honest login signed so first: no code, the check is skipped
  return {
    ...check,
    run: async (ctx) => {
      if (ctx.idp === undefined) return check.run(ctx);
      const honest = await ctx.memo('saml-response-signed-only', () => ctx.login({ overrides: RESPONSE_SIGNED_ONLY }));
      // refused (the IdP's entry requires a signed Assertion): nothing to judge; not judged at all (a rate limit, an
      // error page of something else): the check cannot say, and fails saying so
      if (honest.code === null && (honest.acsForm === undefined || !refusedWithoutCode(honest, ctx.target)))
        return judge(false, {
          sent: 'an honest Response signed at its root only',
          expected: 'a code, or a refusal of the Response (then XSW1/2 are skipped)',
          observed: `${describe(honest)}: neither, so the wrapping cannot be judged`,
        });
      if (honest.code === null)
        return skip(
          'the IdP is registered to require a signed Assertion: a Response signed only at its root is refused, so Response wrapping cannot be judged (XSW3–9 judge the Assertion); register it with requiredSignatures "either" or "response" to run it',
          { sent: 'an honest Response signed at its root only' },
        );
      return check.run(ctx);
    },
  };
});

/** The wrapping checks. */
export const wrappingChecks: readonly CheckDefinition[] = [
  ...xsw,
  refusal({
    id: 'SAML-XSW-10',
    title: 'A second SignedInfo referencing an evil Assertion is refused',
    source: 'CVE-2025-29774 (GHSA-9p8x-f768-wp2g)',
    sent: 'evil Assertion before the signed one; the Signature gets a second SignedInfo whose Reference points at it',
    reference: 'SAML_SIGNATURE_INVALID',
    input: () => ({
      mutate: (xml) => {
        const doc = parseXml(xml);
        const { response, assertion } = responseParts(doc);
        const evil = evilClone(assertion, evilNameId, { newId: '_evil-signedinfo' });
        response.insertBefore(evil, assertion);
        const signature = child(assertion, NS.dsig, 'Signature')!;
        const info = child(signature, NS.dsig, 'SignedInfo')!;
        const second = info.cloneNode(true) as typeof info;
        for (const ref of descendants(second, NS.dsig, 'Reference')) ref.setAttribute('URI', '#_evil-signedinfo');
        signature.insertBefore(second, info);
        return serialize(doc);
      },
    }),
  }),
  refusal({
    id: 'SAML-XSW-15',
    title: 'A look-alike of ds:Signature (its name in other case) beside the real Signature is refused',
    source: 'xpath (npm) compares QName tests case-insensitively on @xmldom/xmldom documents; gateway issue #14',
    sent: 'the signed Assertion intact; a copy of its Signature renamed ds:SIGNATURE placed in the Response',
    reference: 'SAML_SIGNATURE_WRAPPING',
    input: () => ({
      mutate: (xml) => {
        const doc = parseXml(xml);
        const { response, assertion } = responseParts(doc);
        const signature = child(assertion, NS.dsig, 'Signature')!;
        const lookAlike = doc.createElementNS(NS.dsig, `${signature.prefix ? `${signature.prefix}:` : ''}SIGNATURE`);
        for (let node = signature.firstChild; node; node = node.nextSibling)
          lookAlike.appendChild(node.cloneNode(true));
        response.insertBefore(lookAlike, assertion);
        return serialize(doc);
      },
    }),
  }),
  refusal({
    id: 'SAML-XSW-16',
    title: 'A Signature whose children are out of the XML-DSig order (KeyInfo before SignedInfo) is refused',
    source:
      'XML-DSig 1.1 §4.1 schema; xml-crypto loadSignature takes CanonicalizationMethod as the first match anywhere under Signature',
    sent: 'the signed Assertion intact; its (unsigned) KeyInfo moved before SignedInfo, holding a CanonicalizationMethod in a foreign namespace',
    reference: 'SAML_SIGNATURE_INVALID',
    input: () => ({
      mutate: (xml) => {
        const doc = parseXml(xml);
        const { assertion } = responseParts(doc);
        const signature = child(assertion, NS.dsig, 'Signature')!;
        const keyInfo =
          child(signature, NS.dsig, 'KeyInfo') ?? doc.createElementNS(NS.dsig, `${signature.prefix ?? 'ds'}:KeyInfo`);
        const lookAlike = doc.createElementNS('urn:example:evil', 'evil:CanonicalizationMethod');
        lookAlike.setAttribute('Algorithm', 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315');
        keyInfo.insertBefore(lookAlike, keyInfo.firstChild);
        signature.insertBefore(keyInfo, child(signature, NS.dsig, 'SignedInfo')!);
        return serialize(doc);
      },
    }),
  }),
  refusal({
    id: 'SAML-XSW-12',
    title: 'Content after the root element (a second root) is refused',
    source: 'CVE-2022-39299; CVE-2022-39353; CVE-2021-21366',
    sent: 'the signed Response followed by a second, evil samlp:Response root',
    reference: 'SAML_MALFORMED_XML',
    input: () => ({
      mutate: (xml) => `${xml}${xml.replace(/<saml:NameID([^>]*)>[^<]*</, `<saml:NameID$1>${evilNameId}<`)}`,
    }),
  }),
  refusal({
    id: 'SAML-XSW-14',
    title: 'A DOCTYPE round trip (parser differential) is refused',
    source: 'CVE-2025-25291; CVE-2025-25292',
    sent: 'DOCTYPE with an internal subset and a comment/CDATA trick before the signed Response',
    reference: 'SAML_DTD_FORBIDDEN',
    input: () => ({
      mutate: (xml) => `<!DOCTYPE x [ <!ATTLIST x y CDATA "<!--"> ]>${xml.replace(/^<\?xml[^>]*>/, '')}`,
    }),
  }),
];
