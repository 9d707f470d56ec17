/**
 * Builders of upstream identities for the translation tests: a legacy French one, an eIDAS one, and one from an
 * eIDAS entry for company representatives.
 */
import type { ExecutionContext } from 'ava';
import type { IdentityOrigin, UpstreamIdentity } from '../../../adapters/contract.ts';
import { GatewayError } from '../../../gateway/errors.ts';
import { toPivotIdentity } from '../../../gateway/translate/to-pivot.ts';

export const today = new Date('2026-11-22T00:00:00Z');

function upstream(attributes: Record<string, string[]>, loa: string, origin: IdentityOrigin): UpstreamIdentity {
  return {
    idp: 'idp',
    origin,
    subject: 's',
    nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    loa: loa as UpstreamIdentity['loa'],
    authnInstant: today.toISOString(),
    attributes,
    evidence: {
      responseId: 'r',
      assertionId: 'a',
      inResponseTo: 'i',
      issuer: 'x',
      signaturesVerified: 1,
      oneTimeUse: false,
    },
  };
}

/** Marie, from a legacy French IdP: every pivot claim sent as such. */
export function legacy(
  attributes: Record<string, string[]> = {},
  loa = 'http://eidas.europa.eu/LoA/substantial',
): UpstreamIdentity {
  return upstream(
    {
      given_name: ['Marie'],
      family_name: ['Dupont'],
      birthdate: ['1985-04-12'],
      gender: ['female'],
      birthplace: ['75056'],
      birthcountry: ['99100'],
      ...attributes,
    },
    loa,
    { kind: 'national' },
  );
}

/**
 * Erika, from the German eIDAS node: the eIDAS minimum data set, nothing French. Another PersonIdentifier
 * `XX/FR/…` makes her come from the node of country XX, unless `origin` says otherwise.
 */
export function eidas(
  attributes: Record<string, string[]> = {},
  loa = 'http://eidas.europa.eu/LoA/high',
  origin: IdentityOrigin = {
    kind: 'eidas-node',
    country: attributes.person_identifier?.[0]?.slice(0, 2) ?? 'DE',
    legalPerson: false,
  },
): UpstreamIdentity {
  return upstream(
    {
      person_identifier: ['DE/FR/0123456789'],
      given_name: ['Erika'],
      family_name: ['Mustermann'],
      birthdate: ['1964-08-12'],
      ...attributes,
    },
    loa,
    origin,
  );
}

/** Erika again, through the German node's entry for company representatives (`legalPerson: true`). */
export function company(attributes: Record<string, string[]> = {}): UpstreamIdentity {
  return eidas(attributes, undefined, { kind: 'eidas-node', country: 'DE', legalPerson: true });
}

/** Asserts the identity is refused with IDENTITY_INVALID whose detail names `claim`; returns the detail. */
export function refused(t: ExecutionContext, identity: UpstreamIdentity, claim: string): string {
  const error = t.throws(() => toPivotIdentity(identity, today), { instanceOf: GatewayError });
  t.is(error?.code, 'IDENTITY_INVALID');
  t.true(error!.detail!.startsWith(`${claim}:`), error!.detail);
  return error!.detail!;
}
