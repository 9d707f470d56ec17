/**
 * The one attribute map, both ways: every eIDAS URI and legacy name resolves to one internal name and
 * back; OIDC claims map to internal names and back; eIDAS value vocabularies translate both ways; no
 * name belongs to two rows. And LoA ↔ acr round-trips without ever raising a level.
 */
import test from 'ava';
import {
  ATTRIBUTE_MAP,
  eidasUriOf,
  eidasValueOf,
  internalNameOf,
  internalNameOfClaim,
  internalValueOf,
  rowOf,
} from '../../adapters/attributes/attribute-map.ts';
import { clipLoa, LOA_ORDER, loaRank } from '../../adapters/saml/loa.ts';
import { acrOfLoa, acrRank, loaOfAcr } from '../../gateway/translate/acr.ts';

test('eIDAS URI → internal → eIDAS URI, for every row that has one', (t) => {
  for (const row of ATTRIBUTE_MAP.filter((r) => r.eidas)) {
    const internal = internalNameOf(row.eidas!);
    t.is(internal, row.internal, row.eidas);
    t.is(eidasUriOf(internal!), row.eidas);
  }
});

test('legacy name → internal, and internal → its legacy names', (t) => {
  for (const row of ATTRIBUTE_MAP) {
    for (const name of row.legacy) t.is(internalNameOf(name), row.internal, name);
    t.true(rowOf(row.internal).legacy.includes(row.internal), `${row.internal} has its basic name`);
  }
});

test('OIDC claim ↔ internal', (t) => {
  for (const row of ATTRIBUTE_MAP.filter((r) => r.oidcClaim)) {
    t.is(internalNameOfClaim(row.oidcClaim!), row.internal);
    t.is(rowOf(internalNameOfClaim(row.oidcClaim!)!).oidcClaim, row.oidcClaim);
  }
  t.is(internalNameOfClaim('sub'), undefined);
});

test('no protocol name appears in two rows; internal names are unique', (t) => {
  const names = ATTRIBUTE_MAP.flatMap((r) => [...r.legacy, ...(r.eidas ? [r.eidas] : [])]);
  t.is(new Set(names).size, names.length);
  t.is(new Set(ATTRIBUTE_MAP.map((r) => r.internal)).size, ATTRIBUTE_MAP.length);
});

test('the natural- and legal-person minimum data sets have eIDAS URIs', (t) => {
  t.is(eidasUriOf('person_identifier'), 'http://eidas.europa.eu/attributes/naturalperson/PersonIdentifier');
  t.is(eidasUriOf('family_name'), 'http://eidas.europa.eu/attributes/naturalperson/CurrentFamilyName');
  t.is(eidasUriOf('given_name'), 'http://eidas.europa.eu/attributes/naturalperson/CurrentGivenName');
  t.is(eidasUriOf('birthdate'), 'http://eidas.europa.eu/attributes/naturalperson/DateOfBirth');
  t.is(eidasUriOf('legal_person_identifier'), 'http://eidas.europa.eu/attributes/legalperson/LegalPersonIdentifier');
  t.is(eidasUriOf('legal_name'), 'http://eidas.europa.eu/attributes/legalperson/LegalName');
  t.is(eidasUriOf('birthplace'), undefined, 'eIDAS PlaceOfBirth is free text, never the INSEE code');
});

test('eIDAS value vocabularies translate both ways; unknown values are refused', (t) => {
  for (const [eidas, internal] of [
    ['Male', 'male'],
    ['Female', 'female'],
    ['Unspecified', 'unspecified'],
  ]) {
    t.is(internalValueOf('gender', eidas!), internal);
    t.is(eidasValueOf('gender', internal!), eidas);
  }
  t.is(internalValueOf('gender', 'male'), undefined);
  t.is(internalValueOf('family_name', 'Muster'), 'Muster');
});

test('LoA ↔ acr round-trips and a LoA is never raised', (t) => {
  for (const loa of LOA_ORDER) {
    t.is(loaOfAcr(acrOfLoa(loa)), loa);
    for (const max of LOA_ORDER) {
      const clipped = clipLoa(loa, max);
      t.true(loaRank(clipped) <= loaRank(loa), 'never above what was asserted');
      t.true(acrRank(acrOfLoa(clipped)) <= acrRank(acrOfLoa(max)), 'never above the IdP maximum');
    }
  }
});
