/**
 * Does the deployment speak the eIDAS profile? Evidence is read black-box: eIDAS extensions (SPType,
 * RequestedAttributes) in the AuthnRequest it sends — to the suite eIDAS node when the operator registered
 * it, else to the suite SAML IdP — or eIDAS entity attributes / SPType in its SP metadata. Checks that need
 * the profile are skipped with this reason when it is absent — never passed.
 */
import type { SuiteContext } from '../../context.ts';
import { skip, type CheckDefinition, type Outcome } from '../../types.ts';

const EIDAS_NS = 'http://eidas.europa.eu/saml-extensions';
const ENTITY_ATTRIBUTES = 'http://eidas.europa.eu/entity-attributes/';

/** What the suite saw of the deployment's SAML requests and metadata. */
export interface EidasEvidence {
  present: boolean;
  /** Why the profile is considered present or absent. */
  evidence: string;
  authnRequestXml: string | undefined;
  metadataXml: string | undefined;
}

/**
 * Reads (once per run) one AuthnRequest the gateway sends to the suite IdP, and its SP metadata.
 *
 * @example const { present, authnRequestXml } = await eidasEvidence(ctx);
 */
export function eidasEvidence(ctx: SuiteContext): Promise<EidasEvidence> {
  return ctx.memo('eidas-evidence', async () => {
    const metadataXml = await ctx.spMetadata();
    let authnRequestXml: string | undefined;
    if (ctx.eidasNode !== undefined)
      authnRequestXml = (await ctx.eidasLogin({ stopAtAuthnRequest: true })).authnRequestXml;
    else if (ctx.idp !== undefined) authnRequestXml = (await ctx.login({ stopAtAuthnRequest: true })).authnRequestXml;
    const to = ctx.eidasNode === undefined ? 'the suite IdP' : 'the suite eIDAS node';
    const inRequest = authnRequestXml !== undefined && authnRequestXml.includes(EIDAS_NS);
    const inMetadata =
      metadataXml !== undefined && (metadataXml.includes(EIDAS_NS) || metadataXml.includes(ENTITY_ATTRIBUTES));
    const evidence =
      inRequest || inMetadata
        ? `eIDAS ${inRequest ? `extensions in the AuthnRequest sent to ${to}` : ''}${inRequest && inMetadata ? ' and ' : ''}${inMetadata ? 'markers in the SP metadata' : ''}`
        : `neither the AuthnRequest sent to ${to} nor the SP metadata carries eIDAS extensions (SPType, RequestedAttributes, entity attributes)`;
    return { present: inRequest || inMetadata, evidence, authnRequestXml, metadataXml };
  });
}

/**
 * A check that runs only when the deployment shows the eIDAS profile.
 *
 * @example eidasOnly({ id: 'EIDAS-REQ-01', ..., run: (ctx, ev) => ... })
 */
export function eidasOnly(
  def: Omit<CheckDefinition, 'plan' | 'run'> & { run(ctx: SuiteContext, evidence: EidasEvidence): Promise<Outcome> },
): CheckDefinition {
  return {
    ...def,
    plan: 'eidas',
    run: async (ctx) => {
      if (ctx.idp === undefined && ctx.eidasNode === undefined)
        return skip('neither the suite IdP (--idp-id) nor the suite eIDAS node (--eidas-id) is registered');
      const evidence = await eidasEvidence(ctx);
      if (!evidence.present) return skip(`the deployment shows no eIDAS profile: ${evidence.evidence}`);
      return def.run(ctx, evidence);
    },
  };
}

/** Why eIDAS Response rules cannot run without the suite's eIDAS node. */
export const NO_NODE =
  'no suite eIDAS node is registered (--eidas-id): the eIDAS Response rules need the suite to play an eIDAS Proxy-Service (encrypted, PSS/ECDSA-signed assertions); enrol it as an eIDAS IdP to run them';

/**
 * A check that needs the eIDAS profile AND the suite eIDAS node (Response rules); skipped with the reason
 * otherwise. Requires the eIDAS positive control unless it is the control itself.
 *
 * @example eidasNodeCheck({ id: 'EIDAS-RSP-05', ..., run: (ctx) => expectEidasRefused(ctx, ...) })
 */
export function eidasNodeCheck(
  def: Omit<CheckDefinition, 'plan' | 'run'> & { run(ctx: SuiteContext): Promise<Outcome> },
): CheckDefinition {
  return {
    ...def,
    plan: 'eidas',
    run: async (ctx) => {
      if (ctx.eidasNode === undefined) return skip(NO_NODE);
      const evidence = await eidasEvidence(ctx);
      if (!evidence.present) return skip(`the deployment shows no eIDAS profile: ${evidence.evidence}`);
      return def.run(ctx);
    },
  };
}

/** The first element with this local name (any prefix) and its attributes/text, by regex on our own captured XML. */
export function element(xml: string, localName: string): { attrs: string; text: string } | undefined {
  const m = new RegExp(
    `<(?:[A-Za-z0-9_-]+:)?${localName}\\b([^>]*?)(?:/>|>([\\s\\S]*?)</(?:[A-Za-z0-9_-]+:)?${localName}>)`,
  ).exec(xml);
  return m === null ? undefined : { attrs: m[1] ?? '', text: m[2] ?? '' };
}

/** An attribute value from an attribute string. */
export function attr(attrs: string, name: string): string | undefined {
  return new RegExp(`\\b${name}="([^"]*)"`).exec(attrs)?.[1];
}
