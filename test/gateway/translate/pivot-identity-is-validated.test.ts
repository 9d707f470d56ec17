/** UpstreamIdentity → PivotIdentity: every claim validated, acr derived from the LoA and never raised. */
import test, { type ExecutionContext } from 'ava';
import type { UpstreamIdentity } from '../../../adapters/contract.ts';
import { GatewayError } from '../../../gateway/errors.ts';
import { acrOfLoa, loaOfAcr, LOA_URIS, ACR_VALUES, minLoa } from '../../../gateway/translate/acr.ts';
import { toPivotIdentity } from '../../../gateway/translate/to-pivot.ts';

const today = new Date('2026-11-22T00:00:00Z');

function identity(
  attributes: Record<string, string[]>,
  loa = 'http://eidas.europa.eu/LoA/substantial',
): UpstreamIdentity {
  return {
    idp: 'idp',
    origin: { kind: 'national' },
    subject: 's',
    nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    loa: loa as UpstreamIdentity['loa'],
    authnInstant: today.toISOString(),
    attributes: {
      given_name: ['Marie'],
      family_name: ['Dupont'],
      birthdate: ['1985-04-12'],
      gender: ['female'],
      birthplace: ['75056'],
      birthcountry: ['99100'],
      ...attributes,
    },
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

function rejects(t: ExecutionContext, attributes: Record<string, string[]>, claim: string) {
  const error = t.throws(() => toPivotIdentity(identity(attributes), today), { instanceOf: GatewayError });
  t.is(error?.code, 'IDENTITY_INVALID');
  t.true(error!.detail!.startsWith(`${claim}:`), error!.detail);
}

test('a valid identity becomes the pivot identity with the acr of its LoA', (t) => {
  const pivot = toPivotIdentity(identity({ email: ['marie@example.org'] }), today);
  t.deepEqual(pivot, {
    given_name: 'Marie',
    family_name: 'Dupont',
    birthdate: '1985-04-12',
    gender: 'female',
    birthplace: '75056',
    birthcountry: '99100',
    email: 'marie@example.org',
    acr: 'eidas2',
  });
});

test('presumed birthdates are accepted; impossible or future dates are not', (t) => {
  t.notThrows(() => toPivotIdentity(identity({ birthdate: ['1985-04-00'] }), today));
  t.notThrows(() => toPivotIdentity(identity({ birthdate: ['1985-00-00'] }), today));
  rejects(t, { birthdate: ['1985-02-30'] }, 'birthdate');
  rejects(t, { birthdate: ['2030-01-01'] }, 'birthdate');
  rejects(t, { birthdate: ['12/04/1985'] }, 'birthdate');
});

test('mandatory claims must be present', (t) => {
  rejects(t, { given_name: [] }, 'given_name');
  rejects(t, { family_name: [''] }, 'family_name');
});

test('gender, COG codes and names are checked', (t) => {
  rejects(t, { gender: ['F'] }, 'gender');
  rejects(t, { birthcountry: ['France'] }, 'birthcountry');
  rejects(t, { birthplace: [''] }, 'birthplace');
  rejects(t, { birthcountry: ['99134'], birthplace: ['75056'] }, 'birthplace');
  t.notThrows(() => toPivotIdentity(identity({ birthcountry: ['99134'], birthplace: [] }), today));
  t.notThrows(() => toPivotIdentity(identity({ birthplace: ['2A004'] }), today), 'Corsican COG codes');
  rejects(t, { given_name: ['Marie\u0000'] }, 'given_name');
  rejects(t, { email: ['not-an-address'] }, 'email');
});

test('LoA ↔ acr is one table, in both directions, and never raises a level', (t) => {
  t.deepEqual(LOA_URIS.map(acrOfLoa), [...ACR_VALUES]);
  t.deepEqual(ACR_VALUES.map(loaOfAcr), [...LOA_URIS]);
  t.is(acrOfLoa('http://eidas.europa.eu/LoA/low'), 'eidas1', 'low is eidas1, not eidas2 (FranceConnect bridge bug)');
  t.is(
    minLoa('http://eidas.europa.eu/LoA/high', 'http://eidas.europa.eu/LoA/substantial'),
    'http://eidas.europa.eu/LoA/substantial',
  );
});

test('an unknown LoA or acr is an error, not a default', (t) => {
  t.is(
    t.throws(() => acrOfLoa('http://eidas.europa.eu/LoA/NotNotified'), { instanceOf: GatewayError })?.code,
    'LOA_UNKNOWN',
  );
  t.is(t.throws(() => loaOfAcr('eidas4'), { instanceOf: GatewayError })?.code, 'ACR_UNKNOWN');
  t.is(
    t.throws(() => toPivotIdentity(identity({}, 'urn:oasis:names:tc:SAML:2.0:ac:classes:Password'), today), {
      instanceOf: GatewayError,
    })?.code,
    'LOA_UNKNOWN',
  );
});
