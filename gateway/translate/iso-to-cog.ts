/**
 * ISO 3166-1 alpha-2 country code ↔ INSEE COG country code (the `99xxx` codes of the Code officiel
 * géographique, "pays et territoires étrangers"; France itself is 99100 in the pivot identity).
 *
 * - One row per sovereign state of Europe: every EU and EEA member, Switzerland, the United Kingdom, the
 *   microstates and the other European states. Territories (Faroe, Gibraltar, Åland, Svalbard, the Crown
 *   dependencies) are left out: INSEE groups them under codes that do not map one-to-one.
 * - One-to-one, so it reads both ways; a code the table does not know is `undefined`, never a default.
 * - `EL` (Greece) and `UK` (United Kingdom) are the EU's own abbreviations (Interinstitutional Style Guide),
 *   which some eIDAS nodes use in identifiers; they are accepted as aliases and never produced.
 * - Sources, cross-checked: INSEE's country list (COG "pays", data.gouv.fr, 2025 edition) and the OCA
 *   `l10n_fr_cog` ISO → COG mapping. Cyprus is 99254 (INSEE files it under Asia; the European code 99143
 *   closed in 1994). Every row below agreed in both sources; a row we could not confirm would carry a
 *   comment saying so (there is none today).
 * - Historical codes (99115 Czechoslovakia, 99141/99142 the two Germanys) are not produced: eIDAS sends a
 *   current ISO code, and the pivot carries the current state.
 */

/** ISO 3166-1 alpha-2 → INSEE COG, one readable row per country. */
export const ISO_TO_COG: Readonly<Record<string, string>> = {
  // European Union (27)
  AT: '99110', // Austria — Autriche
  BE: '99131', // Belgium — Belgique
  BG: '99111', // Bulgaria — Bulgarie
  CY: '99254', // Cyprus — Chypre (INSEE's Asian series)
  CZ: '99116', // Czechia — Tchéquie
  DE: '99109', // Germany — Allemagne
  DK: '99101', // Denmark — Danemark
  EE: '99106', // Estonia — Estonie
  ES: '99134', // Spain — Espagne
  FI: '99105', // Finland — Finlande
  FR: '99100', // France
  GR: '99126', // Greece — Grèce
  HR: '99119', // Croatia — Croatie
  HU: '99112', // Hungary — Hongrie
  IE: '99136', // Ireland — Irlande
  IT: '99127', // Italy — Italie
  LT: '99108', // Lithuania — Lituanie
  LU: '99137', // Luxembourg
  LV: '99107', // Latvia — Lettonie
  MT: '99144', // Malta — Malte
  NL: '99135', // Netherlands — Pays-Bas
  PL: '99122', // Poland — Pologne
  PT: '99139', // Portugal
  RO: '99114', // Romania — Roumanie
  SE: '99104', // Sweden — Suède
  SI: '99145', // Slovenia — Slovénie
  SK: '99117', // Slovakia — Slovaquie
  // European Economic Area (outside the EU), Switzerland, United Kingdom
  IS: '99102', // Iceland — Islande
  LI: '99113', // Liechtenstein
  NO: '99103', // Norway — Norvège
  CH: '99140', // Switzerland — Suisse
  GB: '99132', // United Kingdom — Royaume-Uni
  // European microstates
  AD: '99130', // Andorra — Andorre
  MC: '99138', // Monaco
  SM: '99128', // San Marino — Saint-Marin
  VA: '99129', // Holy See — Vatican
  // Other European states
  AL: '99125', // Albania — Albanie
  BA: '99118', // Bosnia and Herzegovina — Bosnie-Herzégovine
  BY: '99148', // Belarus — Biélorussie
  MD: '99151', // Moldova — Moldavie
  ME: '99120', // Montenegro — Monténégro
  MK: '99156', // North Macedonia — Macédoine du Nord
  RS: '99121', // Serbia — Serbie
  RU: '99123', // Russia — Russie
  TR: '99208', // Türkiye — Turquie (INSEE's Asian series)
  UA: '99155', // Ukraine
  XK: '99157', // Kosovo (XK is a user-assigned code, used by the EU)
};

/** EU abbreviations that differ from ISO 3166-1 → the ISO code. */
const EU_ALIASES: Readonly<Record<string, string>> = { EL: 'GR', UK: 'GB' };

/**
 * The INSEE COG code of a country given by its ISO 3166-1 alpha-2 code (or an EU alias), or undefined.
 *
 * @example
 * cogOfIsoCountry('DE'); // '99109'
 * cogOfIsoCountry('EL'); // '99126' (Greece, EU abbreviation)
 */
export function cogOfIsoCountry(iso: string): string | undefined {
  const code = Object.hasOwn(EU_ALIASES, iso) ? EU_ALIASES[iso]! : iso;
  return Object.hasOwn(ISO_TO_COG, code) ? ISO_TO_COG[code] : undefined;
}

/**
 * The ISO 3166-1 alpha-2 code of an INSEE COG country code, or undefined.
 *
 * @example
 * isoCountryOfCog('99134'); // 'ES'
 */
export function isoCountryOfCog(cog: string): string | undefined {
  return Object.entries(ISO_TO_COG).find(([, value]) => value === cog)?.[0];
}
