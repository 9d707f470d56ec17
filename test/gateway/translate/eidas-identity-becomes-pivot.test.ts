/**
 * An eIDAS natural person becomes a valid pivot identity: birthcountry from CountryOfBirth or else the
 * issuing node's country, birthplace empty abroad (and never invented for France), gender `unspecified`
 * when absent (eIDAS only), eIDAS Gender values mapped.
 */
import test from 'ava';
import { ATTRIBUTE_MAP, internalValueOf } from '../../../adapters/attributes/attribute-map.ts';
import { issuingNodeCountry } from '../../../gateway/translate/eidas-origin.ts';
import { EIDAS_GENDER } from '../../../gateway/translate/gender.ts';
import { toPivotIdentity } from '../../../gateway/translate/to-pivot.ts';
import { eidas, legacy, refused, today } from './identity-fixture.ts';

test('the eIDAS minimum data set alone is a valid pivot identity', (t) => {
  t.deepEqual(toPivotIdentity(eidas(), today), {
    given_name: 'Erika',
    family_name: 'Mustermann',
    birthdate: '1964-08-12',
    gender: 'unspecified',
    birthplace: '',
    birthcountry: '99109',
    acr: 'eidas3',
  });
});

test('CountryOfBirth decides birthcountry over the issuing node', (t) => {
  t.is(toPivotIdentity(eidas({ country_of_birth: ['AT'] }), today).birthcountry, '99110');
  t.is(toPivotIdentity(eidas({ country_of_birth: ['EL'] }), today).birthcountry, '99126', 'EU abbreviation for Greece');
  t.is(
    toPivotIdentity(eidas({ person_identifier: ['PL/FR/x'], country_of_birth: ['PT'] }), today).birthcountry,
    '99139',
  );
});

test('without CountryOfBirth, birthcountry is the issuing node country', (t) => {
  t.is(toPivotIdentity(eidas({ person_identifier: ['ES/FR/12345678Z'] }), today).birthcountry, '99134');
  t.is(toPivotIdentity(eidas({ person_identifier: ['EL/FR/ABC'] }), today).birthcountry, '99126');
  t.is(issuingNodeCountry(eidas({ person_identifier: ['IT/FR/x'] })), 'IT');
});

test('nationality and place of birth never decide birthcountry or birthplace', (t) => {
  const pivot = toPivotIdentity(
    eidas({
      nationality: ['TR'],
      place_of_birth: ['Paris'],
      birth_name: ['Gabler'],
      current_address: ['PGVpZGFzOlBvc3ROYW1lPkJlcmxpbjwvZWlkYXM6UG9zdE5hbWU+'],
    }),
    today,
  );
  t.is(pivot.birthcountry, '99109');
  t.is(pivot.birthplace, '');
});

test('a bad or unknown CountryOfBirth is refused, never replaced', (t) => {
  t.regex(refused(t, eidas({ country_of_birth: ['Germany'] }), 'birthcountry'), /not an ISO 3166-1 alpha-2/);
  t.regex(refused(t, eidas({ country_of_birth: ['de'] }), 'birthcountry'), /not an ISO 3166-1 alpha-2/);
  t.regex(
    refused(t, eidas({ country_of_birth: ['ZZ'] }), 'birthcountry'),
    /no COG code is known for country_of_birth ZZ/,
  );
});

test('an issuing node country without a COG code is refused', (t) => {
  t.regex(refused(t, eidas({ person_identifier: ['ZZ/FR/x'] }), 'birthcountry'), /issuing node's country ZZ/);
});

test('a French birth is never invented: not from a French node, and not without a commune code', (t) => {
  t.regex(refused(t, eidas({ person_identifier: ['FR/FR/x'] }), 'birthcountry'), /French node/);
  t.regex(refused(t, eidas({ country_of_birth: ['FR'] }), 'birthplace'), /none is invented/);
  const mapped = toPivotIdentity(eidas({ country_of_birth: ['FR'], birthplace: ['75056'] }), today);
  t.deepEqual(
    [mapped.birthcountry, mapped.birthplace],
    ['99100', '75056'],
    'a commune code an operator maps in is kept',
  );
});

test('a birthplace for someone born abroad is refused', (t) => {
  refused(t, eidas({ birthplace: ['75056'] }), 'birthplace');
});

test('a declared birthcountry must agree with CountryOfBirth', (t) => {
  t.is(
    toPivotIdentity(eidas({ birthcountry: ['99134'] }), today).birthcountry,
    '99134',
    'a declared COG code wins over the node',
  );
  t.is(toPivotIdentity(eidas({ birthcountry: ['99134'], country_of_birth: ['ES'] }), today).birthcountry, '99134');
  t.regex(
    refused(t, eidas({ birthcountry: ['99134'], country_of_birth: ['DE'] }), 'birthcountry'),
    /contradicts country_of_birth/,
  );
  t.regex(refused(t, eidas({ birthcountry: ['Spain'] }), 'birthcountry'), /not a COG code/);
});

test('eIDAS Gender values are mapped; absent is unspecified', (t) => {
  t.is(toPivotIdentity(eidas({ gender: ['male'] }), today).gender, 'male', 'as the adapter hands it');
  t.is(toPivotIdentity(eidas({ gender: ['Female'] }), today).gender, 'female', 'the profile vocabulary');
  t.is(toPivotIdentity(eidas({ gender: ['Unspecified'] }), today).gender, 'unspecified');
  t.is(toPivotIdentity(eidas({ gender: ['Not Specified'] }), today).gender, 'unspecified', 'eIDAS 1.1');
  t.is(toPivotIdentity(eidas({ gender: [] }), today).gender, 'unspecified');
  t.regex(refused(t, eidas({ gender: ['F'] }), 'gender'), /not female, male or unspecified/);
});

test('the eIDAS Gender table is the attribute map one', (t) => {
  const row = ATTRIBUTE_MAP.find((r) => r.internal === 'gender')!;
  t.deepEqual(Object.keys(EIDAS_GENDER).sort(), Object.keys(row.eidasValues!).sort());
  for (const [value, gender] of Object.entries(EIDAS_GENDER)) t.is(internalValueOf('gender', value), gender, value);
});

test('legacy IdPs must still send gender and birthcountry', (t) => {
  t.regex(refused(t, legacy({ gender: [] }), 'gender'), /missing/);
  t.regex(refused(t, legacy({ birthcountry: [], birthplace: [] }), 'birthcountry'), /missing/);
  t.regex(
    refused(t, legacy({ gender: ['Female'] }), 'gender'),
    /not female, male or unspecified/,
    'the eIDAS vocabulary is for eIDAS only',
  );
  t.regex(refused(t, legacy({ birthcountry: ['99100'], birthplace: [] }), 'birthplace'), /a COG code is required/);
});

test("only an eIDAS node's entry makes an identity eIDAS, whatever the attributes look like", (t) => {
  refused(t, legacy({ gender: [], person_identifier: ['jdupont'] }), 'gender');
  refused(t, legacy({ gender: [], person_identifier: ['DE/FR/0123456789'] }), 'gender');
  refused(t, legacy({ gender: [], person_identifier: ['DE/FR/ x'] }), 'gender');
  refused(t, legacy({ gender: [], person_identifier: ['DE/FR/x\u0085'] }), 'gender');
  refused(t, legacy({ birthcountry: [], birthplace: [], person_identifier: ['DE/FR/0123456789'] }), 'birthcountry');
  refused(t, legacy({ gender: [], country_of_birth: ['DE'], nationality: ['DE'], birth_name: ['X'] }), 'gender');
  t.is(issuingNodeCountry(legacy()), undefined);
  t.is(
    toPivotIdentity(legacy({ country_of_birth: ['FR'] }), today).birthcountry,
    '99100',
    'a legacy CountryOfBirth must agree too',
  );
  refused(t, legacy({ country_of_birth: ['BE'] }), 'birthcountry');
});

test("an eIDAS identity carries a PersonIdentifier in its node's country", (t) => {
  const german = { kind: 'eidas-node', country: 'DE', legalPerson: false } as const;
  t.regex(refused(t, eidas({ person_identifier: [] }), 'person_identifier'), /missing/);
  t.regex(refused(t, eidas({ person_identifier: ['AT/FR/x'] }, undefined, german), 'person_identifier'), /not DE\//);
  refused(t, eidas({ person_identifier: ['jdupont'] }, undefined, german), 'person_identifier');
  t.is(issuingNodeCountry(eidas({}, undefined, german)), 'DE');
});
