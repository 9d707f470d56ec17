/**
 * eIDAS Response rules (security-conformance.md §5 EID-R7…R12, EID-C1/C2), driven through the suite's
 * eIDAS node (a programmable Proxy-Service the operator registers as an eIDAS IdP):
 *
 * - Positive controls first: EIDAS-BASE-00 (the eIDAS-Node default: AES-256-GCM, RSA-OAEP-MGF1P, Response
 *   signed RSA-PSS SHA-256), then the other shapes the profile allows (AES-128-GCM with xmlenc11#rsa-oaep,
 *   OAEP SHA-256, ECDSA, Assertion signed too) — each must give a code.
 * - Then one falsified thing per check; each passes only when no code is issued.
 * Skipped, with the reason, without the node or when the deployment shows no eIDAS profile.
 */
import { ENC } from '../../../saml-idp/eidas/encrypt-assertion.ts';
import { EIDAS_LOA, NATURAL_PERSON, type EidasOverrides } from '../../../saml-idp/eidas/index.ts';
import { SIG } from '../../../saml-idp/eidas/node-signature.ts';
import type { SuiteContext } from '../../context.ts';
import { describeTokenAnswer } from '../oidc/flows.ts';
import { describe, judgeRefusal } from '../../verdicts.ts';
import { judge, type CheckDefinition, type Outcome } from '../../types.ts';
import { eidasNodeCheck } from './profile.ts';

/** The eIDAS positive control. */
export const EIDAS_BASE = 'EIDAS-BASE-00';
const ACR: Readonly<Record<string, string>> = {
  [EIDAS_LOA.low]: 'eidas1',
  [EIDAS_LOA.substantial]: 'eidas2',
  [EIDAS_LOA.high]: 'eidas3',
};

/** An accepted eIDAS login: a code, tokens, a valid ID token whose acr is exactly the asserted LoA's. */
async function expectAccepted(
  ctx: SuiteContext,
  sent: string,
  eidas: EidasOverrides,
  authorize: Record<string, string> = {},
): Promise<Outcome> {
  const out = await ctx.eidasLogin({ eidas, authorize });
  const expected =
    "a code; tokens; a valid ID token whose acr is the asserted LoA's (low→eidas1, substantial→eidas2, high→eidas3)";
  if (out.code === null) return judge(false, { sent, expected, observed: describe(out) });
  const tokens = await ctx.rp.exchange(out.code, out.request);
  if (typeof tokens.json.id_token !== 'string')
    return judge(false, { sent, expected, observed: `${describe(out)}; ${describeTokenAnswer(tokens)}` });
  const { payload } = await ctx.rp.verifyIdToken(tokens.json.id_token, out.request.nonce);
  const asserted = /<(?:\w+:)?AuthnContextClassRef(?:\s[^>]*)?>([^<]+)</.exec(
    ctx.eidasNode?.requests.at(-1) ?? '',
  )?.[1];
  const loa = eidas.loa ?? asserted ?? '';
  const ok = payload.acr === ACR[loa];
  return judge(ok, {
    sent,
    expected,
    observed: `${describe(out)}; ${describeTokenAnswer(tokens)}; ID token valid, acr=${String(payload.acr)} for asserted ${loa}`,
  });
}

/** A hostile eIDAS login: passes only when no code is issued. */
async function expectRefused(
  ctx: SuiteContext,
  sent: string,
  eidas: EidasOverrides,
  authorize: Record<string, string> = {},
  reference = '',
): Promise<Outcome> {
  const out = await ctx.eidasLogin({ eidas, authorize });
  return judgeRefusal(out, ctx.target, { sent, reference, inResponse: Object.keys(eidas).length > 0 });
}

function accepted(
  id: string,
  title: string,
  source: string,
  sent: string,
  eidas: EidasOverrides,
  authorize: Record<string, string> = {},
): CheckDefinition {
  return eidasNodeCheck({
    id,
    title,
    source,
    ...(id === EIDAS_BASE ? {} : { requires: [EIDAS_BASE] }),
    run: (ctx) => expectAccepted(ctx, sent, eidas, authorize),
  });
}

function refused(
  id: string,
  title: string,
  source: string,
  sent: string,
  reference: string,
  eidas: EidasOverrides,
  authorize: Record<string, string> = {},
): CheckDefinition {
  return eidasNodeCheck({
    id,
    title,
    source,
    requires: [EIDAS_BASE],
    run: (ctx) => expectRefused(ctx, sent, eidas, authorize, reference),
  });
}

const HONEST =
  "Assertion encrypted (aes256-gcm, rsa-oaep-mgf1p SHA-1) to the SP metadata's encryption certificate, Response signed sha256-rsa-MGF1";

/** The response checks. */
export const eidasResponseChecks: readonly CheckDefinition[] = [
  accepted(
    EIDAS_BASE,
    'Positive control: an honest eIDAS Response gives a code and an ID token with the asserted LoA',
    'eIDAS SAML Message Format §2.4; security-conformance.md baseline E',
    HONEST,
    {},
  ),
  accepted(
    'EIDAS-ENC-01',
    'AES-128-GCM with xmlenc11#rsa-oaep (SHA-1, MGF1-SHA1) is accepted',
    'eIDAS Cryptographic Requirements §3 (EID-C2)',
    'aes128-gcm content, xmlenc11#rsa-oaep key transport with DigestMethod sha1 and mgf1sha1',
    { encrypt: { content: ENC.aes128Gcm, keyTransport: ENC.rsaOaep, oaepHash: 'sha1' } },
  ),
  accepted(
    'EIDAS-ENC-02',
    'xmlenc11#rsa-oaep with SHA-256 and MGF1-SHA256 is accepted',
    'eIDAS Cryptographic Requirements §3 (EID-C2); XML Encryption 1.1 §5.5.2',
    'aes256-gcm content, xmlenc11#rsa-oaep with DigestMethod sha256 and mgf1sha256',
    { encrypt: { keyTransport: ENC.rsaOaep, oaepHash: 'sha256' } },
  ),
  accepted(
    'EIDAS-SIG-01',
    'A Response signed with ECDSA P-256 (ecdsa-sha256) is accepted',
    'eIDAS Cryptographic Requirements §2 (EID-C1)',
    `${HONEST.replace('sha256-rsa-MGF1', 'ecdsa-sha256 (P-256 key of the node metadata)')}`,
    { signatureMethod: SIG.ecdsaSha256 },
  ),
  accepted(
    'EIDAS-SIG-02',
    'A Response and its (encrypted) Assertion both signed with RSA-PSS are accepted',
    'eIDAS SAML Message Format §2.4 (the eIDAS-Node signs both); security-conformance.md SAML-ENC-05',
    `${HONEST}; the Assertion signed sha256-rsa-MGF1 before encryption`,
    { signAssertion: true },
  ),
  accepted(
    'EIDAS-RSP-03',
    'A LoA above the requested one is accepted and mapped to exactly its acr (high → eidas3)',
    'eIDAS SAML Message Format §2.3 (minimum comparison); security-conformance.md EIDAS-RSP-03',
    'acr_values=eidas2; the node asserts http://eidas.europa.eu/LoA/high',
    { loa: EIDAS_LOA.high },
    { acr_values: 'eidas2' },
  ),
  refused(
    'EIDAS-RSP-01',
    'An asserted LoA below the requested one yields no code',
    'eIDAS SAML Message Format §2.3 (EID-R9); security-conformance.md EIDAS-RSP-01',
    'acr_values=eidas3; the node asserts http://eidas.europa.eu/LoA/substantial',
    'EIDAS_LOA_INSUFFICIENT',
    { loa: EIDAS_LOA.substantial },
    { acr_values: 'eidas3' },
  ),
  refused(
    'EIDAS-RSP-02',
    'A Response missing a mandatory attribute (DateOfBirth) is refused',
    'eIDAS SAML Attribute Profile §2.2 (EID-R10)',
    `${HONEST}; no DateOfBirth attribute`,
    'EIDAS_MANDATORY_ATTRIBUTE_MISSING',
    { attributes: { [`${NATURAL_PERSON}DateOfBirth`]: null } },
  ),
  refused(
    'EIDAS-RSP-04',
    'Attributes with NameFormat basic instead of uri are refused',
    'eIDAS SAML Attribute Profile §2.1 (EID-R10)',
    `${HONEST}; every Attribute NameFormat=…attrname-format:basic`,
    'EIDAS_ATTRIBUTE_NAME_FORMAT_INVALID',
    { nameFormat: 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic' },
  ),
  refused(
    'EIDAS-RSP-05',
    'A plain (unencrypted) Assertion is refused',
    'eIDAS SAML Message Format §2.4 (EID-R8); security-conformance.md EIDAS-RSP-05',
    'the Assertion in clear (not encrypted), Response signed sha256-rsa-MGF1',
    'EIDAS_ASSERTION_NOT_ENCRYPTED',
    { encrypt: false },
  ),
  refused(
    'EIDAS-RSP-06',
    'A PersonIdentifier not of the form XX/YY/… is refused',
    'eIDAS SAML Attribute Profile §2.2.1 (EID-R11)',
    `${HONEST}; PersonIdentifier=05012345678 (no country prefixes)`,
    'EIDAS_PERSON_IDENTIFIER_INVALID',
    { attributes: { [`${NATURAL_PERSON}PersonIdentifier`]: ['05012345678'] } },
  ),
  refused(
    'EIDAS-RSP-07',
    'A Response that is not signed (only its Assertion is) is refused',
    'eIDAS SAML Message Format §2.4 (EID-R7: Signature required on the Response)',
    'the Assertion signed and encrypted; the Response unsigned',
    'SAML_SIGNATURE_MISSING',
    { signResponse: false, signAssertion: true },
  ),
  refused(
    'EIDAS-RSP-08',
    'A DateOfBirth that is not an xs:date is refused',
    'eIDAS SAML Attribute Profile §2.2 (EID-R10)',
    `${HONEST}; DateOfBirth=12/08/1964`,
    'EIDAS_ATTRIBUTE_INVALID',
    { attributes: { [`${NATURAL_PERSON}DateOfBirth`]: ['12/08/1964'] } },
  ),
  refused(
    'EIDAS-CRY-01',
    'A Response signed with RSA PKCS#1 v1.5 is refused',
    'eIDAS Cryptographic Requirements §2 (EID-C1)',
    "the Response signed rsa-sha256 (PKCS#1 v1.5) by the node's registered RSA key",
    'SAML_ALG_NOT_ALLOWED',
    { signatureMethod: SIG.rsaSha256 },
  ),
  refused(
    'EIDAS-CRY-02',
    'An Assertion encrypted with AES-CBC is refused',
    'eIDAS Cryptographic Requirements §3 (EID-C2); Jager & Somorovsky CCS 2011',
    'content aes256-cbc (key transport rsa-oaep-mgf1p)',
    'SAML_ENC_ALG_NOT_ALLOWED',
    { encrypt: { content: ENC.aes256Cbc } },
  ),
  refused(
    'EIDAS-CRY-03',
    'A content key transported with RSA PKCS#1 v1.5 (rsa-1_5) is refused',
    'eIDAS Cryptographic Requirements §3 (EID-C2); Bleichenbacher-style oracles (Jager, Schinzel & Somorovsky ESORICS 2012)',
    'content aes256-gcm, key transport rsa-1_5',
    'SAML_ENC_ALG_NOT_ALLOWED',
    { encrypt: { keyTransport: ENC.rsa15 } },
  ),
  refused(
    'EIDAS-CRY-04',
    'A GCM ciphertext with a truncated (8-byte) tag is refused',
    'XML Encryption 1.1 §5.2.4 (128-bit tag); xmlseclibs CVE-2026-32313; security-conformance.md SAML-ENC-04',
    'aes256-gcm with the last 8 bytes of the tag removed',
    'SAML_DECRYPTION_FAILED',
    { encrypt: { truncateTag: 8 } },
  ),
  refused(
    'EIDAS-CRY-05',
    'A tampered GCM ciphertext is refused',
    'XML Encryption 1.1 §5.2.4 (authenticated encryption)',
    'aes256-gcm with one ciphertext bit flipped',
    'SAML_DECRYPTION_FAILED',
    { encrypt: { tamper: true } },
  ),
  eidasNodeCheck({
    id: 'EIDAS-CRY-06',
    title: "An Assertion encrypted to another key than the SP's is refused",
    source: 'eIDAS SAML Message Format §2.4 (EID-R8); SAML 2.0 core §6.2',
    requires: [EIDAS_BASE],
    run: async (ctx) =>
      expectRefused(
        ctx,
        "aes256-gcm, the content key wrapped for a certificate that is not the SP's",
        { encrypt: { recipientCertificatePem: (await ctx.attacker()).certPem } },
        {},
        'SAML_DECRYPTION_FAILED',
      ),
  }),
];
