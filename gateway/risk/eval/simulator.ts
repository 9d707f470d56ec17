/**
 * A synthetic login simulator for evaluating the device-trust model. SYNTHETIC: every person, address,
 * network and browser here is generated from a seeded pseudo-random generator; nothing comes from real
 * logins. It follows the shape of Wiefling et al.'s evaluation (ACM TOPS 2022), not its data.
 *
 * Population
 * - countries with weights (FR 80 %, then BE, DE, ES, IT, GB, US, MA, …); each has 6 access networks
 *   (ASNs) of unequal popularity, each network hands out addresses from its own /16;
 * - browsers: 400 user-agent strings (browser, 40 versions, OS, device type) with a Zipf-like popularity
 *   (the most common string is used by about 7 % of devices);
 * - each person: a home country, a home network, 1–3 home addresses, 1–3 devices (each with a signed
 *   device cookie id and fingerprint), a login count drawn in 1..40 (Wiefling plots 1–40).
 * Legitimate behaviour per login: primary device 75 % (else another of theirs; 3 % a brand-new device),
 *   a home address 65 %, another address of the home network 15 %, another network of the home country
 *   15 % (mobile, work), abroad 5 %; the device cookie is kept 90 % of the time on a known device.
 * Attackers (Wiefling's models), one attempt per person per model after their history:
 * - untargeted: random country (hosting-heavy), random network and address, a random popular browser;
 * - targeted: the victim's country, a random network there, a random popular browser;
 * - very targeted: the victim's country and, half the time, their network; the victim's exact primary
 *   device profile (user agent, languages, time zone, screen) — but not the signed device cookie.
 */

export type Login = Record<string, string>;

export interface Person {
  id: string;
  country: string;
  asn: string;
  addresses: string[];
  devices: Array<Record<string, string>>;
  logins: number;
}

/** mulberry32: a small, seeded PRNG (deterministic runs). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COUNTRIES: Array<[string, number]> = [
  ['FR', 80],
  ['BE', 3],
  ['DE', 3],
  ['ES', 3],
  ['IT', 3],
  ['GB', 2],
  ['US', 2],
  ['MA', 2],
  ['CN', 1],
  ['RU', 1],
];
const OS: Array<[string, string, string]> = [
  ['Windows', 'Windows NT 10.0; Win64; x64', 'desktop'],
  ['macOS', 'Macintosh; Intel Mac OS X 10_15_7', 'desktop'],
  ['Linux', 'X11; Linux x86_64', 'desktop'],
  ['Android', 'Linux; Android 14; Pixel 8', 'mobile'],
  ['iOS', 'iPhone; CPU iPhone OS 17_5 like Mac OS X', 'mobile'],
];
const BROWSERS = ['Chrome', 'Firefox', 'Safari', 'Edge'];
const ZONES: Record<string, string> = {
  FR: 'Europe/Paris',
  BE: 'Europe/Brussels',
  DE: 'Europe/Berlin',
  ES: 'Europe/Madrid',
  IT: 'Europe/Rome',
  GB: 'Europe/London',
  US: 'America/New_York',
  MA: 'Africa/Casablanca',
  CN: 'Asia/Shanghai',
  RU: 'Europe/Moscow',
};
const SCREENS = ['1920x1080', '1366x768', '1536x864', '2560x1440', '390x844', '412x915', '1440x900'];

export class World {
  readonly #r: () => number;
  readonly uas: Array<Record<string, string>>;

  constructor(seed: number) {
    this.#r = prng(seed);
    this.uas = [];
    for (let i = 0; i < 400; i += 1) {
      const [os, token, deviceType] = OS[i % OS.length]!;
      const browser = BROWSERS[Math.floor(i / OS.length) % BROWSERS.length]!;
      const version = String(100 + (Math.floor(i / 20) % 40));
      this.uas.push({
        ua: `Mozilla/5.0 (${token}) ${browser}/${version}.0 #${i}`,
        browser: `${browser} ${version}`,
        os,
        deviceType,
      });
    }
  }

  rand(): number {
    return this.#r();
  }

  int(n: number): number {
    return Math.floor(this.#r() * n);
  }

  /** Index with a Zipf-like skew (popular items first). */
  zipf(n: number): number {
    return Math.min(n - 1, Math.floor(n * this.#r() ** 2.2));
  }

  country(): string {
    let x = this.#r() * 100;
    for (const [c, w] of COUNTRIES) if ((x -= w) < 0) return c;
    return 'FR';
  }

  asnIn(country: string): string {
    return `${country}-AS${this.zipf(6)}`;
  }

  addressIn(asn: string): string {
    return `${asn}/${this.int(256)}.${this.int(256)}`;
  }

  device(country: string): Record<string, string> {
    return {
      ...this.uas[this.zipf(this.uas.length)]!,
      deviceId: `dev-${this.int(2 ** 31)}`,
      languages: country === 'FR' ? 'fr-fr,fr' : 'en-us,en',
      timeZone: ZONES[country]!,
      screen: SCREENS[this.int(SCREENS.length)]!,
    };
  }

  person(i: number): Person {
    const country = this.country();
    const asn = this.asnIn(country);
    return {
      id: `p${i}`,
      country,
      asn,
      addresses: Array.from({ length: 1 + this.int(3) }, () => this.addressIn(asn)),
      devices: Array.from({ length: 1 + this.int(3) }, () => this.device(country)),
      logins: 1 + this.int(40),
    };
  }

  /** One legitimate login of a person. */
  legit(p: Person): Login {
    let device = this.#r() < 0.75 ? p.devices[0]! : p.devices[this.int(p.devices.length)]!;
    if (this.#r() < 0.03) device = this.device(p.country);
    const cookie = this.#r() < 0.9 ? device.deviceId! : 'none';
    const x = this.#r();
    let country = p.country;
    let asn = p.asn;
    let ip: string;
    if (x < 0.65) ip = p.addresses[this.int(p.addresses.length)]!;
    else if (x < 0.8) ip = this.addressIn(asn);
    else if (x < 0.95) ip = this.addressIn((asn = this.asnIn(country)));
    else ip = this.addressIn((asn = this.asnIn((country = this.country()))));
    return { ip, asn, country, ...device, deviceId: cookie };
  }

  attack(p: Person, model: 'untargeted' | 'targeted' | 'very_targeted'): Login {
    if (model === 'untargeted') {
      const country =
        this.country() === 'FR' && this.#r() < 0.7 ? COUNTRIES[1 + this.int(COUNTRIES.length - 1)]![0] : this.country();
      const asn = this.asnIn(country);
      return { ip: this.addressIn(asn), asn, country, ...this.device(country), deviceId: 'none' };
    }
    if (model === 'targeted') {
      const asn = this.asnIn(p.country);
      return { ip: this.addressIn(asn), asn, country: p.country, ...this.device(p.country), deviceId: 'none' };
    }
    const asn = this.#r() < 0.5 ? p.asn : this.asnIn(p.country);
    return { ip: this.addressIn(asn), asn, country: p.country, ...p.devices[0]!, deviceId: 'none' };
  }
}
