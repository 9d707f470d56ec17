/**
 * A `NetworkResolver` from a GeoIP file the operator supplies (`risk.geoipFile`): without one the gateway knows an
 * address's prefix only (country `ZZ`, no coordinates), and the impossible-travel and new-location checks cannot
 * fire. The file is CSV, one address range per line, sorted by its first address, ranges not overlapping, IPv4
 * and IPv6 alike; either layout:
 *
 * - DB-IP "IP to City Lite" (CC BY 4.0, monthly, https://db-ip.com/db/download/ip-to-city-lite), as downloaded:
 *   `ip_start,ip_end,continent,country,stateprov,city,latitude,longitude`;
 * - the gateway's own: `ip_start,ip_end,country,latitude,longitude[,asn]` (a header line `ip_start,...` is skipped).
 *
 * Read once at boot, line by line over the file's bytes (never one string), into typed arrays and shared places; a
 * malformed line stops the boot naming the line (`ConfigError` at `risk.geoipFile`). A lookup is a binary search.
 */
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { ConfigError } from '../errors.ts';
import { prefixOf, type NetworkResolver } from './network.ts';
import type { NetworkInfo } from './types.ts';

interface Place {
  country: string;
  lat: number | null;
  lon: number | null;
  asn: string | null;
}

/**
 * Ranges of one address family, sorted, in typed arrays (a City Lite file holds millions): IPv4 starts and ends as
 * numbers, IPv6 ones as their two 64-bit halves; each range's place an index into places shared by all ranges.
 */
interface Ranges {
  starts: Float64Array | BigUint64Array;
  ends: Float64Array | BigUint64Array;
  /** IPv6 only: the low halves (`starts`/`ends` hold the high ones). */
  startsLow?: BigUint64Array;
  endsLow?: BigUint64Array;
  place: Uint32Array;
}

const FIELD = 'risk.geoipFile';

/** One CSV line's fields (double quotes around a field, `""` inside one). */
function fieldsOf(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i += 1;
      for (;;) {
        const quote = line.indexOf('"', i);
        if (quote < 0) throw new Error('an unclosed quote');
        value += line.slice(i, quote);
        if (line[quote + 1] === '"') {
          value += '"';
          i = quote + 2;
          continue;
        }
        i = quote + 1;
        break;
      }
      out.push(value);
      if (i < line.length && line[i] !== ',') throw new Error('text after a quoted field');
      i += 1;
    } else {
      const comma = line.indexOf(',', i);
      const end = comma < 0 ? line.length : comma;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

function ipv4Number(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function ipv6Number(ip: string): bigint {
  const [head = '', tail] = ip.split('::') as [string, string | undefined];
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const expand = (parts: string[]) =>
    parts.flatMap((p) => {
      if (!isIPv4(p)) return [p];
      const n = ipv4Number(p);
      return [(n >>> 16).toString(16), (n & 0xffff).toString(16)];
    });
  const left = expand(groups(head));
  const right = tail === undefined ? [] : expand(groups(tail));
  const all = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return all.reduce((n, g) => (n << 16n) + BigInt(parseInt(g, 16)), 0n);
}

function placeOf(fields: string[]): Place {
  // DB-IP City Lite has 8 columns (continent, country, region, city, latitude, longitude); ours 5 or 6
  const [country, lat, lon, asn] =
    fields.length === 8 ? [fields[3], fields[6], fields[7], undefined] : [fields[2], fields[3], fields[4], fields[5]];
  if (!country || !/^[A-Z]{2}$/.test(country)) throw new Error(`country ${JSON.stringify(country)} is not ISO 3166`);
  const coordinate = (value: string | undefined, bound: number) => {
    if (value === undefined || value.trim() === '') return null;
    const n = Number(value);
    if (!Number.isFinite(n) || Math.abs(n) > bound) throw new Error(`coordinate ${JSON.stringify(value)}`);
    return n;
  };
  return {
    country,
    lat: coordinate(lat, 90),
    lon: coordinate(lon, 180),
    asn: asn === undefined || asn === '' ? null : asn,
  };
}

const HALF = 0xffff_ffff_ffff_ffffn;

function find4(r: Ranges, address: number): number | undefined {
  const starts = r.starts as Float64Array;
  const ends = r.ends as Float64Array;
  let low = 0;
  let high = starts.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (starts[middle]! > address) high = middle - 1;
    else if (ends[middle]! < address) low = middle + 1;
    else return r.place[middle];
  }
  return undefined;
}

function find6(r: Ranges, address: bigint): number | undefined {
  const at = (high: BigUint64Array, lowHalf: BigUint64Array, i: number) => (high[i]! << 64n) | lowHalf[i]!;
  let low = 0;
  let high = r.starts.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (at(r.starts as BigUint64Array, r.startsLow!, middle) > address) high = middle - 1;
    else if (at(r.ends as BigUint64Array, r.endsLow!, middle) < address) low = middle + 1;
    else return r.place[middle];
  }
  return undefined;
}

/**
 * Reads the file into a resolver. @throws ConfigError at `risk.geoipFile`, naming the line
 *
 * @example
 * const resolver = geoipFileResolver('/etc/gateway/dbip-city-lite.csv');
 * resolver.resolve('203.0.113.7'); // { prefix: '203.0.113.0/24', country: 'FR', lat: 48.85, lon: 2.35, asn: null }
 */
export function geoipFileResolver(file: string): NetworkResolver & { ranges: number } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new ConfigError(FIELD, `cannot read ${file}: ${(error as Error).message}`);
  }
  const places: Place[] = [];
  const placeIndex = new Map<string, number>();
  const v4 = { starts: [] as number[], ends: [] as number[], place: [] as number[] };
  const v6 = { starts: [] as bigint[], ends: [] as bigint[], place: [] as number[] };
  let lineNo = 0;
  // line by line over the bytes: a file of hundreds of megabytes is never one string
  for (let at = 0; at < bytes.length;) {
    const newline = bytes.indexOf(0x0a, at);
    const end = newline < 0 ? bytes.length : newline;
    const line = bytes.toString('utf8', at, end).replace(/\r$/, '');
    at = end + 1;
    lineNo += 1;
    if (line.trim() === '' || (lineNo === 1 && line.startsWith('ip_start'))) continue;
    try {
      const fields = fieldsOf(line);
      if (![5, 6, 8].includes(fields.length)) throw new Error(`${fields.length} fields (5, 6 or 8 expected)`);
      const [first = '', last = ''] = fields;
      const place = placeOf(fields);
      const key = `${place.country}|${place.lat}|${place.lon}|${place.asn}`;
      let index = placeIndex.get(key);
      if (index === undefined) {
        index = places.push(place) - 1;
        placeIndex.set(key, index);
      }
      if (isIPv4(first) && isIPv4(last)) add(v4, ipv4Number(first), ipv4Number(last), index);
      else if (isIPv6(first) && isIPv6(last) && !first.includes('%') && !last.includes('%'))
        add(v6, ipv6Number(first), ipv6Number(last), index);
      else throw new Error(`${JSON.stringify(first)}–${JSON.stringify(last)} is not a range of one address family`);
    } catch (error) {
      throw new ConfigError(FIELD, `${file} line ${lineNo}: ${(error as Error).message}`);
    }
  }
  const ranges4: Ranges = {
    starts: Float64Array.from(v4.starts),
    ends: Float64Array.from(v4.ends),
    place: Uint32Array.from(v4.place),
  };
  const ranges6: Ranges = {
    starts: BigUint64Array.from(v6.starts, (n) => n >> 64n),
    startsLow: BigUint64Array.from(v6.starts, (n) => n & HALF),
    ends: BigUint64Array.from(v6.ends, (n) => n >> 64n),
    endsLow: BigUint64Array.from(v6.ends, (n) => n & HALF),
    place: Uint32Array.from(v6.place),
  };
  return {
    ranges: v4.starts.length + v6.starts.length,
    resolve(ip: string): NetworkInfo {
      const bare = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
      const index = isIPv4(bare)
        ? find4(ranges4, ipv4Number(bare))
        : isIPv6(bare) && !bare.includes('%')
          ? find6(ranges6, ipv6Number(bare))
          : undefined;
      const place = index === undefined ? undefined : places[index];
      return {
        prefix: prefixOf(ip),
        asn: place?.asn ?? null,
        country: place?.country ?? 'ZZ',
        lat: place?.lat ?? null,
        lon: place?.lon ?? null,
      };
    },
  };
}

function add<T extends number | bigint>(
  ranges: { starts: T[]; ends: T[]; place: number[] },
  start: T,
  end: T,
  place: number,
): void {
  if (end < start) throw new Error('the range ends before it starts');
  const previous = ranges.ends.at(-1);
  if (previous !== undefined && start <= previous)
    throw new Error('ranges must be sorted by their first address and not overlap');
  ranges.starts.push(start);
  ranges.ends.push(end);
  ranges.place.push(place);
}
