/** A company representative's legal-person attributes become validated `legal_person` claims. */
import test from 'ava';
import { LEGAL_PERSON_CLAIMS } from '../../../gateway/translate/legal-person.ts';
import { toPivotIdentity } from '../../../gateway/translate/to-pivot.ts';
import { validLei } from '../../../gateway/translate/validate-claims.ts';
import { internalNameOfClaim } from '../../../adapters/attributes/attribute-map.ts';
import { company, eidas, legacy, refused, today } from './identity-fixture.ts';

const COMPANY = { legal_person_identifier: ['DE/FR/HRB-12345'], legal_name: ['Musterfirma GmbH'] };

test('the legal-person data set becomes claims next to the natural person ones', (t) => {
  const pivot = toPivotIdentity(
    company({
      ...COMPANY,
      legal_address: ['PGVpZGFzOlBvc3ROYW1lPkJlcmxpbjwvZWlkYXM6UG9zdE5hbWU+'],
      vat_registration_number: ['DE123456789'],
      lei: ['529900T8BM49AURSDO55'],
      tax_reference: ['12/345/67890'],
      eori: ['DE1234567'],
    }),
    today,
  );
  t.is(pivot.given_name, 'Erika');
  t.is(pivot.legal_person_identifier, 'DE/FR/HRB-12345');
  t.is(pivot.legal_name, 'Musterfirma GmbH');
  t.is(pivot.vat_registration_number, 'DE123456789');
  t.is(pivot.lei, '529900T8BM49AURSDO55');
  t.truthy(pivot.legal_address);
  t.false('tax_reference' in pivot || 'eori' in pivot, 'claims the attribute map does not release stay out');
});

test('a natural person has no legal claims', (t) => {
  const pivot = toPivotIdentity(company(), today);
  for (const claim of LEGAL_PERSON_CLAIMS) t.false(claim in pivot, claim);
});

test('only an eIDAS entry asking for the legal-person data set vouches for a company', (t) => {
  const all = { ...COMPANY, lei: ['529900T8BM49AURSDO55'], vat_registration_number: ['DE123456789'] };
  for (const [what, identity] of [
    ['a national IdP', legacy(all)],
    ['an eIDAS entry for natural persons', eidas(all)],
    ['an incomplete set from a national IdP', legacy({ legal_name: ['Musterfirma GmbH'] })],
  ] as const) {
    const pivot = toPivotIdentity(identity, today);
    for (const claim of LEGAL_PERSON_CLAIMS) t.false(claim in pivot, `${what}: ${claim}`);
  }
  t.is(toPivotIdentity(company(all), today).legal_name, 'Musterfirma GmbH');
});

test('every legal claim is an OIDC claim of the attribute map', (t) => {
  for (const claim of LEGAL_PERSON_CLAIMS) t.is(internalNameOfClaim(claim), claim);
});

test('the legal-person minimum data set must be complete', (t) => {
  t.regex(refused(t, company({ legal_name: ['Musterfirma GmbH'] }), 'legal_person_identifier'), /missing/);
  t.regex(refused(t, company({ legal_person_identifier: ['DE/FR/HRB-12345'] }), 'legal_name'), /missing/);
  t.regex(refused(t, company({ vat_registration_number: ['DE123456789'] }), 'legal_person_identifier'), /missing/);
});

test('LegalPersonIdentifier has the eIDAS form XX/YY/…', (t) => {
  for (const bad of [
    'HRB-12345',
    'de/fr/HRB-12345',
    'DE/FR/',
    'DE/FR/HRB 12345',
    'DE-FR-HRB',
    `DE/FR/${'x'.repeat(257)}`,
    'DE/FR/x\u0000',
  ]) {
    refused(t, company({ ...COMPANY, legal_person_identifier: [bad] }), 'legal_person_identifier');
  }
  t.regex(
    refused(t, company({ ...COMPANY, legal_person_identifier: ['AT/FR/FN-12345'] }), 'legal_person_identifier'),
    /not DE\//,
    'the German node speaks for German companies only',
  );
});

test('legal texts have lengths and no control characters', (t) => {
  refused(t, company({ ...COMPANY, legal_name: ['x'.repeat(257)] }), 'legal_name');
  refused(t, company({ ...COMPANY, legal_name: ['Muster\u0007firma'] }), 'legal_name');
  refused(t, company({ ...COMPANY, legal_name: [' Musterfirma'] }), 'legal_name');
  refused(t, company({ ...COMPANY, legal_name: ['Muster\u009bfirma'] }), 'legal_name');
  refused(t, company({ ...COMPANY, legal_address: ['x'.repeat(1025)] }), 'legal_address');
  refused(t, company({ ...COMPANY, legal_address: ['line1\nline2'] }), 'legal_address');
  refused(t, company({ ...COMPANY, vat_registration_number: ['x'.repeat(65)] }), 'vat_registration_number');
  refused(t, company({ ...COMPANY, vat_registration_number: ['DE\t123'] }), 'vat_registration_number');
  t.notThrows(() =>
    toPivotIdentity(
      company({
        ...COMPANY,
        legal_name: ['x'.repeat(256)],
        legal_address: ['x'.repeat(1024)],
        vat_registration_number: ['x'.repeat(64)],
      }),
      today,
    ),
  );
});

test('an LEI has ISO 17442 check digits', (t) => {
  t.true(validLei('529900T8BM49AURSDO55'));
  t.true(validLei('5493001KJTIIGC8Y1R12'));
  t.false(validLei('529900T8BM49AURSDO56'), 'wrong check digits');
  t.false(validLei('529900t8bm49aursdo55'), 'lower case');
  t.false(validLei('529900T8BM49AURSDO5'), 'too short');
  refused(t, company({ ...COMPANY, lei: ['529900T8BM49AURSDO56'] }), 'lei');
});
