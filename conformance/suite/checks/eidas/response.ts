/**
 * eIDAS Response rules (security-conformance.md EID-R7…R12): encryption required, mandatory attributes,
 * the eIDAS algorithm rules. Skipped when the deployment shows no eIDAS profile; where the suite IdP cannot
 * yet play an eIDAS Proxy-Service (EncryptedAssertion), the check says so instead of passing.
 */
import type { CheckDefinition } from '../../types.ts';
import { judge, skip } from '../../types.ts';
import { describe, refusedWithoutCode, NO_CODE } from '../../verdicts.ts';
import { eidasOnly } from './profile.ts';

const NO_PROXY_SERVICE = 'the suite IdP does not yet produce eIDAS EncryptedAssertions (ECDH-ES / RSA-OAEP + AES-GCM), so this rule cannot be isolated';

/** The response checks. */
export const eidasResponseChecks: readonly CheckDefinition[] = [
  eidasOnly({
    id: 'EIDAS-RSP-05',
    title: 'A plain (unencrypted) Assertion is refused',
    source: 'eIDAS SAML Message Format §2.4 (EID-R8); security-conformance.md EIDAS-RSP-05',
    run: async (ctx) => {
      const out = await ctx.login();
      return judge(refusedWithoutCode(out, ctx.target), { sent: 'a signed but unencrypted Assertion', expected: NO_CODE, observed: describe(out) });
    },
  }),
  eidasOnly({ id: 'EIDAS-RSP-02', title: 'A Response missing a mandatory attribute is refused', source: 'eIDAS SAML Attribute Profile §2.2 (EID-R10)', run: async () => skip(NO_PROXY_SERVICE) }),
  eidasOnly({ id: 'EIDAS-RSP-06', title: 'PersonIdentifier must read XX/YY/… with the right countries', source: 'eIDAS SAML Attribute Profile §2.2.1 (EID-R11)', run: async () => skip(NO_PROXY_SERVICE) }),
  eidasOnly({ id: 'EIDAS-CRY-01', title: 'A Response signed with RSA PKCS#1 v1.5 is refused', source: 'eIDAS Cryptographic Requirements §2 (EID-C1)', run: async () => skip(NO_PROXY_SERVICE) }),
  eidasOnly({ id: 'EIDAS-CRY-02', title: 'An Assertion encrypted with AES-CBC or RSA 1.5 is refused', source: 'eIDAS Cryptographic Requirements §3 (EID-C2); xmlseclibs CVE-2026-32313', run: async () => skip(NO_PROXY_SERVICE) }),
];
