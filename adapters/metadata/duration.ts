/**
 * `xs:duration` values of SAML metadata `cacheDuration` (e.g. `PT6H`, `P1D`, `P1DT12H30M`), in
 * milliseconds. Years and months are refused (their length is not fixed); anything else malformed
 * returns undefined and the caller treats the attribute as absent.
 */
const DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/**
 * @example
 * parseDuration('PT6H'); // 21600000
 */
export function parseDuration(value: string): number | undefined {
  const m = DURATION.exec(value);
  if (!m || value === 'P' || value.endsWith('T')) return undefined;
  const [days, hours, minutes, seconds] = [m[1], m[2], m[3], m[4]].map((v) => (v === undefined ? 0 : Number(v)));
  return Math.round((((days! * 24 + hours!) * 60 + minutes!) * 60 + seconds!) * 1000);
}
