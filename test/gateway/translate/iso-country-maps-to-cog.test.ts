/** The ISO 3166-1 alpha-2 ↔ INSEE COG table: known INSEE codes, both directions, complete for the EU/EEA. */
import test from 'ava';
import { cogOfIsoCountry, ISO_TO_COG, isoCountryOfCog } from '../../../gateway/translate/iso-to-cog.ts';
import { validCog } from '../../../gateway/translate/validate-claims.ts';

const EU = [
  'AT',
  'BE',
  'BG',
  'CY',
  'CZ',
  'DE',
  'DK',
  'EE',
  'ES',
  'FI',
  'FR',
  'GR',
  'HR',
  'HU',
  'IE',
  'IT',
  'LT',
  'LU',
  'LV',
  'MT',
  'NL',
  'PL',
  'PT',
  'RO',
  'SE',
  'SI',
  'SK',
];
const EEA_CH_GB = ['IS', 'LI', 'NO', 'CH', 'GB'];

/** Codes of INSEE's country list (COG, "pays et territoires étrangers"). */
const KNOWN: Record<string, string> = {
  FR: '99100',
  DE: '99109',
  ES: '99134',
  IT: '99127',
  BE: '99131',
  NL: '99135',
  PT: '99139',
  AT: '99110',
  PL: '99122',
  CH: '99140',
  GB: '99132',
  CY: '99254',
  GR: '99126',
  LU: '99137',
  IE: '99136',
};

test('known INSEE country codes', (t) => {
  for (const [iso, cog] of Object.entries(KNOWN)) t.is(cogOfIsoCountry(iso), cog, iso);
});

test('every EU and EEA country, Switzerland and the United Kingdom has a row', (t) => {
  t.is(EU.length, 27);
  for (const iso of [...EU, ...EEA_CH_GB]) t.truthy(cogOfIsoCountry(iso), iso);
});

test('the table reads both ways: one COG code per country, one country per COG code', (t) => {
  const codes = Object.values(ISO_TO_COG);
  t.is(new Set(codes).size, codes.length, 'no two countries share a COG code');
  for (const [iso, cog] of Object.entries(ISO_TO_COG)) {
    t.true(/^[A-Z]{2}$/.test(iso), iso);
    t.true(validCog(cog) && cog.startsWith('99'), cog);
    t.is(isoCountryOfCog(cog), iso);
    t.is(cogOfIsoCountry(iso), cog);
  }
});

test('EU abbreviations EL and UK are read, never produced', (t) => {
  t.is(cogOfIsoCountry('EL'), '99126');
  t.is(cogOfIsoCountry('UK'), '99132');
  t.is(isoCountryOfCog('99126'), 'GR');
  t.is(isoCountryOfCog('99132'), 'GB');
});

test('an unknown country or code is undefined, never a default', (t) => {
  t.is(cogOfIsoCountry('ZZ'), undefined);
  t.is(cogOfIsoCountry('de'), undefined, 'codes are upper case');
  t.is(cogOfIsoCountry('toString'), undefined, 'no prototype keys');
  t.is(cogOfIsoCountry('DEU'), undefined, 'alpha-3 is not alpha-2');
  t.is(isoCountryOfCog('99999'), undefined);
  t.is(isoCountryOfCog('75056'), undefined, 'a commune is not a country');
  t.is(isoCountryOfCog('99115'), undefined, 'historical codes (Czechoslovakia) are not produced');
});
