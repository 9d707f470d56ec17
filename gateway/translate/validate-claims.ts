/**
 * Rules for pivot claims (FranceConnect's, tightened):
 * - given_name, family_name: 1–256 characters, no control characters;
 * - birthdate: `YYYY-MM-DD` that exists in the calendar, or presumed `YYYY-MM-00` / `YYYY-00-00`, not in the future;
 * - gender: female | male | unspecified;
 * - birthcountry: a COG code; birthplace: a COG code when birthcountry is 99100 (France), else empty;
 * - email: a plausible address; preferred_username: 1–256 characters.
 */
const COG = /^(?:2[AB]|[0-9]{2})[0-9]{3}$/;
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL = /[\u0000-\u001f\u007f]/;

export function validName(value: string): boolean {
  return value.length >= 1 && value.length <= 256 && !CONTROL.test(value) && value.trim() === value;
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
