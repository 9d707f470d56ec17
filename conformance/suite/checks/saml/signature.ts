/**
 * Signature checks (security-conformance.md §3.2): exclusion, tampering, a signed Response over an
 * unsigned Assertion, KeyInfo substitution (CVE-2024-32962), SHA-1 downgrade and HMAC key confusion
 * (GHSA-c27r-x354-4m68), a commented DigestValue (CVE-2025-29775), #WithComments and too many transforms
 * (CVE-2021-39171), and comment injection in NameID (CVE-2017-11427 family).
 */
import { parseXml, responseParts, removeOwnSignature, serialize } from '../../../saml-idp/hostile/dom.ts';
import { ALG, signSamlElement } from '../../../saml-idp/hostile/sign.ts';
import { evilNameId } from '../../../saml-idp/hostile/wrap.ts';
import type { SuiteContext } from '../../context.ts';
import { describe, refusedWithoutCode, NO_CODE } from '../../verdicts.ts';
import { judge, skip, type CheckDefinition } from '../../types.ts';

import { refusal, resign, SAML_BASE } from './refusal.ts';

function replaceNameId(xml: string, value: string): string {
  return xml.replace(/(<saml:NameID[^>]*>)[^<]*(<\/saml:NameID>)/, `$1${value}$2`);
}

function stripAll(xml: string): string {
  const doc = parseXml(xml);
  const { response, assertion } = responseParts(doc);
  removeOwnSignature(assertion);
  removeOwnSignature(response);
  return serialize(doc);
}

async function commentedDigest(ctx: SuiteContext, xml: string): Promise<string> {
  const evil = replaceNameId(xml, evilNameId);
  const probe = signSamlElement(stripAll(evil), { key: await ctx.attacker(), target: 'assertion' });
  const forged = /<ds:DigestValue>([^<]+)<\/ds:DigestValue>/.exec(probe)?.[1] ?? '';
  return evil.replace(
    /<ds:DigestValue>([^<]+)<\/ds:DigestValue>/,
    `<ds:DigestValue><!--${forged}-->$1</ds:DigestValue>`,
  );
}

/** The signature checks. */
export const signatureChecks: readonly CheckDefinition[] = [
  refusal({
    id: 'SAML-SIG-01',
    title: 'A Response whose signatures were removed is refused',
    source: 'SAML 2.0 profiles §4.1.3.5; security-conformance.md SAML-SIG-01 (signature exclusion)',
    sent: 'the honest Response with every ds:Signature removed',
    reference: 'SAML_SIGNATURE_MISSING',
    input: () => ({ mutate: stripAll }),
  }),
  refusal({
    id: 'SAML-SIG-02',
    title: 'A signature whose value does not verify is refused',
    source: 'XML-DSig core §3.2; security-conformance.md SAML-SIG-02',
    sent: 'the SignatureValue replaced by another valid-looking base64 value',
    reference: 'SAML_SIGNATURE_INVALID',
    input: () => ({
      mutate: (xml) =>
        xml.replace(
          /(<ds:SignatureValue>)([^<]+)(<\/ds:SignatureValue>)/,
          (_m, a: string, v: string, b: string) =>
            `${a}${Buffer.from(Buffer.from(v, 'base64').map((x) => x ^ 0x5a)).toString('base64')}${b}`,
        ),
    }),
  }),
  refusal({
    id: 'SAML-SIG-03',
    title: 'A signed Response with an unsigned Assertion is refused (legacy profile)',
    source: 'SAML 2.0 profiles §4.1.3.5; security-conformance.md SAML-SIG-03',
    sent: 'Response signed by the IdP, Assertion unsigned',
    reference: 'SAML_ASSERTION_NOT_SIGNED',
    input: () => ({ overrides: { signAssertion: false, signResponse: true } }),
  }),
  refusal({
    id: 'SAML-SIG-04',
    title: 'An attribute changed after signing is refused',
    source: 'XML-DSig core §3.2.1 (reference validation)',
    sent: 'given_name changed from the signed value to "Mallory"',
    reference: 'SAML_SIGNATURE_INVALID',
    input: () => ({
      mutate: (xml) =>
        xml.replace(/(<saml:Attribute Name="given_name"[^>]*><saml:AttributeValue[^>]*>)[^<]*/, '$1Mallory'),
    }),
  }),
  refusal({
    id: 'SAML-SIG-05',
    title: "KeyInfo substitution: an attacker's inline certificate is not trusted",
    source: 'CVE-2024-32962 (GHSA-2xp3-57p7-qf4v); security-conformance.md SAML-SIG-05',
    sent: `Assertion (NameID ${evilNameId}) re-signed by an attacker key, its self-signed certificate inline in KeyInfo`,
    reference: 'SAML_SIGNATURE_UNTRUSTED_KEY',
    input: async (ctx) => {
      const attacker = await ctx.attacker();
      return { mutate: resign(ctx, (xml) => replaceNameId(xml, evilNameId), { key: attacker }) };
    },
  }),
  refusal({
    id: 'SAML-SIG-08',
    title: 'SHA-1 downgrade (rsa-sha1 + sha1 digest) is refused even with the genuine key',
    source: 'security-conformance.md SAML-SIG-08; eIDAS crypto requirements (EID-C1); RFC 9231 §2.2',
    sent: 'the Assertion signed by the genuine IdP key with rsa-sha1 and a SHA-1 digest',
    reference: 'SAML_ALG_NOT_ALLOWED',
    input: (ctx) => ({ mutate: resign(ctx, (x) => x, { signatureAlgorithm: ALG.rsaSha1, digestAlgorithm: ALG.sha1 }) }),
  }),
  refusal({
    id: 'SAML-SIG-09',
    title: 'A DigestValue hiding a forged digest in a comment is refused',
    source: 'CVE-2025-29775 (GHSA-x3m8-899r-f7c3)',
    sent: `NameID changed to ${evilNameId}; DigestValue = <!--digest of the forged Assertion-->genuine digest`,
    reference: 'SAML_SIGNATURE_INVALID',
    input: (ctx) => ({ mutate: (xml) => commentedDigest(ctx, xml) }),
  }),
  refusal({
    id: 'SAML-SIG-10',
    title: "HMAC signature keyed with the IdP's public certificate is refused",
    source: 'GHSA-c27r-x354-4m68 (xml-crypto < 2.0.0); RFC 8725 §2.1 (key confusion)',
    sent: `Assertion (NameID ${evilNameId}) "signed" with hmac-sha1 keyed by the IdP certificate PEM`,
    reference: 'SAML_ALG_NOT_ALLOWED',
    input: (ctx) => ({ mutate: resign(ctx, (x) => replaceNameId(x, evilNameId), { hmacWithCertificate: true }) }),
  }),
  refusal({
    id: 'SAML-SIG-12',
    title: 'A SHA-1 digest under an RSA-SHA256 signature is refused',
    source: 'security-conformance.md SAML-SIG-08; XML-DSig 1.1 §6.2 (SHA-1 discouraged)',
    sent: 'the Assertion signed by the genuine key with rsa-sha256 but a SHA-1 DigestMethod',
    reference: 'SAML_ALG_NOT_ALLOWED',
    input: (ctx) => ({ mutate: resign(ctx, (x) => x, { digestAlgorithm: ALG.sha1 }) }),
  }),
  refusal({
    id: 'SAML-C14N-03',
    title: 'Canonicalization #WithComments is refused',
    source: 'xml-crypto issue #586; security-conformance.md SAML-C14N-03',
    sent: 'the Assertion signed by the genuine key with exc-c14n#WithComments',
    reference: 'SAML_TRANSFORM_NOT_ALLOWED',
    input: (ctx) => ({
      mutate: resign(ctx, (x) => x, {
        canonicalization: ALG.excC14nWithComments,
        transforms: [ALG.enveloped, ALG.excC14nWithComments],
      }),
    }),
  }),
  refusal({
    id: 'SAML-C14N-04',
    title: 'More than two transforms are refused',
    source: 'CVE-2021-39171 (GHSA-5379-r78w-42h2)',
    sent: 'the Assertion signed by the genuine key with three transforms',
    reference: 'SAML_TRANSFORM_NOT_ALLOWED',
    input: (ctx) => ({ mutate: resign(ctx, (x) => x, { transforms: [ALG.enveloped, ALG.excC14n, ALG.excC14n] }) }),
  }),
  {
    id: 'SAML-C14N-01',
    title: 'A comment inside NameID never truncates the identity',
    plan: 'saml',
    source: 'CVE-2017-11427 / 11428 / 11429 / 11430; CVE-2018-0489; security-conformance.md SAML-C14N-01',
    requires: [SAML_BASE],
    run: async (ctx) => {
      if (ctx.idp === undefined) return skip('no suite IdP is registered (--idp-id)');
      const victim = 'victim@gov.example';
      const sent = `NameID "${victim}<!---->.attacker.example" signed by the genuine key (exc-c14n drops the comment)`;
      const expected = `${NO_CODE}; or a sub different from the one of NameID ${victim}`;
      const victimLogin = await ctx.login({ overrides: { nameId: victim } });
      const victimTokens =
        victimLogin.code === null ? undefined : await ctx.rp.exchange(victimLogin.code, victimLogin.request);
      const victimSub =
        typeof victimTokens?.json.id_token === 'string'
          ? (await ctx.rp.verifyIdToken(victimTokens.json.id_token)).payload.sub
          : undefined;
      const attack = await ctx.login({
        overrides: { nameId: `${victim}.attacker.example` },
        mutate: resign(ctx, (x) => x.replace(`>${victim}.attacker.example<`, `>${victim}<!---->.attacker.example<`)),
      });
      if (refusedWithoutCode(attack, ctx.target)) return judge(true, { sent, expected, observed: describe(attack) });
      if (attack.code === null) return judge(false, { sent, expected, observed: describe(attack) });
      const tokens = await ctx.rp.exchange(attack.code, attack.request);
      const sub =
        typeof tokens.json.id_token === 'string'
          ? (await ctx.rp.verifyIdToken(tokens.json.id_token)).payload.sub
          : undefined;
      return judge(victimSub !== undefined && sub !== undefined && sub !== victimSub, {
        sent,
        expected,
        observed: `${describe(attack)}; sub ${sub === victimSub ? "EQUALS the victim's" : "differs from the victim's"}`,
      });
    },
  },
];
