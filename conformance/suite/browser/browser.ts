/**
 * The suite's scripted browser: a cookie jar (host + path, expiry honoured), manual redirects so every
 * hop can be inspected, form submission, and a trail of what it did (for the report's "sent" column).
 *
 * - It never runs scripts: auto-posting forms are read and submitted explicitly.
 * - Each request has a timeout, so a hanging deployment fails a check instead of hanging the suite.
 */
import type { Form } from './forms.ts';

interface Cookie {
  name: string;
  value: string;
  host: string;
  path: string;
  /** Set with `Expires` or `Max-Age`: kept when the browser restarts (a session cookie is not). */
  persistent?: boolean;
}

/** What a request may carry. */
export interface RequestInit2 {
  method?: string;
  form?: Record<string, string>;
  headers?: Record<string, string>;
}

/** Where a redirect chain ended. */
export interface Landing {
  response: Response;
  url: URL;
}

const TIMEOUT_MS = 15_000;

/** A browser with its own cookies. */
export class Browser {
  readonly #cookies: Cookie[] = [];
  /** `METHOD origin/path` of every request, in order. */
  readonly trail: string[] = [];

  /** The Cookie header this browser sends to `url`. */
  cookieHeader(url: URL): string {
    return this.#cookies
      .filter((c) => c.host === url.hostname && url.pathname.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** Forgets the cookies named `names` (any host and path): a browser that lost or never had them. */
  forget(...names: string[]): void {
    for (let i = this.#cookies.length - 1; i >= 0; i--)
      if (names.includes(this.#cookies[i]!.name)) this.#cookies.splice(i, 1);
  }

  /** The browser closed and opened again: its session cookies (set without `Expires` or `Max-Age`) are gone. */
  restart(): void {
    for (let i = this.#cookies.length - 1; i >= 0; i--) if (!this.#cookies[i]!.persistent) this.#cookies.splice(i, 1);
  }

  /**
   * Stores a cookie as if another site had set it for `url`'s host: a sibling subdomain's `Domain=` cookie,
   * which a browser sends to the whole domain. A `__Host-` name cannot be planted so, and is refused here.
   */
  plant(url: URL, name: string, value: string, path = '/'): void {
    // RFC 6265bis §5.4: the prefixes are matched without regard to case
    if (name.toLowerCase().startsWith('__host-')) throw new Error(`a browser takes no ${name} from another site`);
    this.adopt(url, name, value, path);
  }

  /** Stores a cookie as `url`'s site itself set it: the copy of another browser's (a control, not an attack). */
  adopt(url: URL, name: string, value: string, path = '/'): void {
    const index = this.#cookies.findIndex((c) => c.name === name && c.host === url.hostname && c.path === path);
    if (index !== -1) this.#cookies.splice(index, 1);
    this.#cookies.push({ name, value, host: url.hostname, path });
  }

  /** Every cookie this browser holds for `url`'s host, whatever its path. */
  cookiesOf(url: URL): Array<{ name: string; value: string; path: string }> {
    return this.#cookies.filter((c) => c.host === url.hostname).map(({ name, value, path }) => ({ name, value, path }));
  }

  /** The value of the cookie `name` this browser sends to `url`, if any. */
  cookie(url: URL, name: string): string | undefined {
    return this.#cookies.find((c) => c.name === name && c.host === url.hostname && url.pathname.startsWith(c.path))
      ?.value;
  }

  #store(url: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = false;
      let persistent = false;
      for (const attr of attrs) {
        const [k = '', v] = attr.split('=');
        const key = k.toLowerCase();
        if (key === 'path' && v) path = v;
        if (key === 'expires' || key === 'max-age') persistent = true;
        if (key === 'expires' && v && Date.parse(v) < Date.now()) expired = true;
        if (key === 'max-age' && Number(v) <= 0) expired = true;
      }
      const index = this.#cookies.findIndex((c) => c.name === name && c.host === url.hostname && c.path === path);
      if (index !== -1) this.#cookies.splice(index, 1);
      if (!expired) this.#cookies.push({ name, value, host: url.hostname, path, persistent });
    }
  }

  /** One request, no redirect following. */
  async request(url: string | URL, init: RequestInit2 = {}): Promise<Response> {
    const target = new URL(url);
    const headers: Record<string, string> = { accept: 'text/html', ...init.headers };
    const cookie = this.cookieHeader(target);
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const method = init.method ?? (init.form ? 'POST' : 'GET');
    this.trail.push(`${method} ${target.origin}${target.pathname}`);
    const response = await fetch(target, {
      method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    this.#store(target, response.headers);
    return response;
  }

  /** Follows redirects until a non-redirect answer, or a URL for which `stop` is true (not requested). */
  async follow(url: string | URL, init: RequestInit2 = {}, stop: (u: URL) => boolean = () => false): Promise<Landing> {
    let current = new URL(url);
    let response = await this.request(current, init);
    for (let hops = 0; hops < 20; hops++) {
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { response, url: current };
      current = new URL(location, current);
      if (stop(current)) return { response, url: current };
      await response.body?.cancel();
      response = await this.request(current);
    }
    throw new Error(`too many redirects: ${this.trail.slice(-5).join(' → ')}`);
  }

  /** Submits a form (relative actions resolve against `base`), following redirects. */
  async submit(
    form: Form,
    base: URL,
    overrides: Record<string, string> = {},
    stop?: (u: URL) => boolean,
  ): Promise<Landing> {
    const method = form.method === 'POST' ? 'POST' : 'GET';
    const target = new URL(form.action === '' ? base : new URL(form.action, base));
    const fields = { ...form.fields, ...overrides };
    if (method === 'GET') {
      for (const [k, v] of Object.entries(fields)) target.searchParams.set(k, v);
      return this.follow(target, {}, stop);
    }
    return this.follow(target, { method, form: fields }, stop);
  }
}
