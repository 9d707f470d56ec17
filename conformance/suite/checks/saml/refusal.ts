/**
 * Building blocks of the SAML plan: a factory for "this hostile Response must not produce a code" checks
 * (all require the positive control SAML-BASE-00), and the re-signing helper that lets a check make the
 * genuine IdP sign a crafted Assertion (the suite owns the IdP's key).
 */
import { removeOwnSignature, parseXml, responseParts, serialize } from '../../../saml-idp/hostile/dom.ts';
import { signSamlElement, type SignOptions } from '../../../saml-idp/hostile/sign.ts';
import type { SuiteContext } from '../../context.ts';
import type { LoginInput } from '../../login.ts';
import { skip, type CheckDefinition } from '../../types.ts';
import { expectRefused } from '../../verdicts.ts';

/** The SAML positive control. */
export const SAML_BASE = 'SAML-BASE-00';

/** What a refusal check declares. */
export interface RefusalSpec {
  id: string;
  title: string;
  source: string;
  /** What is sent, for the report. */
  sent: string;
  /** The reason code security-conformance.md expects (informational: the suite judges black-box). */
  reference: string;
  input(ctx: SuiteContext): LoginInput | Promise<LoginInput>;
}

/**
 * A check that runs a hostile login and passes only when no code is issued.
 *
 * @example refusal({ id: 'SAML-AUD-01', title: 'Wrong Audience', source: 'SAML core §2.5.1.4', sent: 'Audience=…', reference: 'SAML_AUDIENCE_INVALID', input: () => ({ overrides: { audience: 'x' } }) })
 */
export function refusal(spec: RefusalSpec): CheckDefinition {
  return {
    id: spec.id,
    title: spec.title,
    plan: 'saml',
    source: spec.source,
    requires: [SAML_BASE],
    run: async (ctx) => {
      if (ctx.idp === undefined) return skip('no suite IdP is registered (--idp-id)', { sent: spec.sent });
      return expectRefused(ctx, spec.sent, await spec.input(ctx), spec.reference);
    },
  };
}

/**
 * Strips the Assertion's signature, applies `change` to the unsigned Response, and signs the Assertion
 * again with the genuine IdP key (or `options.key`), as the IdP itself could.
 *
 * @example mutate: resign(ctx, (xml) => xml.replace('bearer', 'holder-of-key'))
 */
export function resign(
  ctx: SuiteContext,
  change: (xml: string) => string,
  options: Partial<SignOptions> = {},
): (xml: string) => string {
  return (xml) => {
    const doc = parseXml(xml);
    const { response, assertion } = responseParts(doc);
    removeOwnSignature(assertion);
    removeOwnSignature(response);
    const key = options.key ?? ctx.idp?.keys;
    if (key === undefined) throw new Error('no IdP key');
    return signSamlElement(change(serialize(doc)), { target: 'assertion', ...options, key });
  };
}
