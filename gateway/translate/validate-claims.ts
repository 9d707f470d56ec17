/**
 * Rules for pivot claims (FranceConnect's, tightened):
 * - given_name, family_name: 1–256 characters, no control characters;
 * - birthdate: `YYYY-MM-DD` that exists in the calendar, or presumed `YYYY-MM-00` / `YYYY-00-00`, not in the future;
 * - gender: female | male | unspecified;
 * - birthcountry: a COG code; birthplace: a COG code when birthcountry is 99100 (France), else empty;
 * - email: a plausible address; preferred_username: 1–256 characters;
 * - eIDAS identifiers (PersonIdentifier, LegalPersonIdentifier): `XX/YY/…`, two ISO 3166-1 alpha-2 codes
 *   (issuing country, receiving country) and 1–256 characters without spaces or control characters;
 * - ISO 3166-1 alpha-2 country codes: two capital letters;
 * - free legal-person texts: 1–`max` characters, no control characters, no surrounding spaces;
 * - LEI (ISO 17442): 18 alphanumerics and 2 check digits, ISO 7064 MOD 97-10.
 */
const COG = /^(?:2[AB]|[0-9]{2})[0-9]{3}$/;
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const EIDAS_IDENTIFIER = /^([A-Z]{2})\/([A-Z]{2})\/(\S{1,256})$/;

export function validName(value: string): boolean {
  return validText(value, 256);
}

/** 1–`max` characters, no control characters (C0, DEL, C1), no leading or trailing space. */
export function validText(value: string, max: number): boolean {
  return value.length >= 1 && value.length <= max && !CONTROL.test(value) && value.trim() === value;
}

export function validBirthdate(value: string, today: Date): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < 1850) return false;
  if (month === 0) return day === 0 && year <= today.getUTCFullYear();
  if (month > 12) return false;
  if (day === 0) return new Date(Date.UTC(year, month - 1, 1)) <= today;
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day && date <= today;
}

export function validGender(value: string): value is 'female' | 'male' | 'unspecified' {
  return value === 'female' || value === 'male' || value === 'unspecified';
}

export function validCog(value: string): boolean {
  return COG.test(value);
}

export function validEmail(value: string): boolean {
  return value.length <= 254 && /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/.test(value);
}

/** Two capital letters (ISO 3166-1 alpha-2 form; whether the country exists is the COG table's business). */
export function validIsoCountry(value: string): boolean {
  return /^[A-Z]{2}$/.test(value);
}

/**
 * The parts of an eIDAS identifier `XX/YY/value`, or undefined when it does not have that form.
 *
 * @example
 * eidasIdentifierParts('DE/FR/0123456789'); // { issuing: 'DE', receiving: 'FR', value: '0123456789' }
 */
export function eidasIdentifierParts(value: string): { issuing: string; receiving: string; value: string } | undefined {
  if (CONTROL.test(value)) return undefined;
  const m = EIDAS_IDENTIFIER.exec(value);
  return m ? { issuing: m[1]!, receiving: m[2]!, value: m[3]! } : undefined;
}

/** An ISO 17442 Legal Entity Identifier with valid check digits. */
export function validLei(value: string): boolean {
  if (!/^[A-Z0-9]{18}[0-9]{2}$/.test(value)) return false;
  let remainder = 0;
  for (const char of value) {
    const digits = /[0-9]/.test(char) ? char : String(char.charCodeAt(0) - 55);
    for (const digit of digits) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}
