/**
 * A small scripted browser for end-to-end tests: a cookie jar (host + path, HttpOnly respected as a
 * browser would: scripts never read it), manual redirects so each hop can be inspected, and HTML form
 * reading (action, method, inputs) so auto-posting forms and login forms can be submitted.
 */
export interface Form {
  action: string;
  method: string;
  fields: Record<string, string>;
}

interface Cookie {
  name: string;
  value: string;
  host: string;
  path: string;
}

export class Browser {
  readonly #cookies: Cookie[] = [];
  readonly trail: string[] = [];

  cookieHeader(url: URL): string {
    return this.#cookies
      .filter((c) => c.host === url.hostname && url.pathname.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  #store(url: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      let path = '/';
      let expired = false;
      for (const attr of attrs) {
        const [k, v] = attr.split('=');
        if (k!.toLowerCase() === 'path' && v) path = v;
        if (k!.toLowerCase() === 'expires' && v && Date.parse(v) < Date.now()) expired = true;
        if (k!.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      }
      const index = this.#cookies.findIndex((c) => c.name === name && c.host === url.hostname && c.path === path);
      if (index !== -1) this.#cookies.splice(index, 1);
      if (!expired) this.#cookies.push({ name, value, host: url.hostname, path });
    }
  }

  /** One request, no redirect following. */
  async request(url: string | URL, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const target = new URL(url);
    const headers: Record<string, string> = { accept: 'text/html' };
    const cookie = this.cookieHeader(target);
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const method = init.method ?? (init.form ? 'POST' : 'GET');
    this.trail.push(`${method} ${target.origin}${target.pathname}`);
    const response = await fetch(target, { method, headers, body, redirect: 'manual' });
    this.#store(target, response.headers);
    return response;
  }

  /** Follows redirects until a non-redirect response or a URL for which `stop` returns true. */
  async follow(url: string | URL, init: { method?: string; form?: Record<string, string> } = {}, stop: (u: URL) => boolean = () => false): Promise<{ response: Response; url: URL }> {
    let current = new URL(url);
    let response = await this.request(current, init);
    for (let hops = 0; hops < 20; hops++) {
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { response, url: current };
      current = new URL(location, current);
      if (stop(current)) return { response, url: current };
      response = await this.request(current);
    }
    throw new Error(`too many redirects: ${this.trail.slice(-5).join(' → ')}`);
  }

  /** Submits a form found in HTML (relative actions resolve against `base`), following redirects. */
  async submit(form: Form, base: URL, overrides: Record<string, string> = {}, stop?: (u: URL) => boolean) {
    return this.follow(new URL(form.action, base), { method: form.method, form: { ...form.fields, ...overrides } }, stop);
  }
}

function decode(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#x2F;/g, '/')
    .replace(/&amp;/g, '&');
}

function attribute(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`, 'i').exec(tag);
  return m ? decode(m[2] ?? m[3] ?? '') : undefined;
}

/** Reads every form of an HTML page: action, method and the values of its inputs. */
export function formsIn(html: string): Form[] {
  const forms: Form[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const fields: Record<string, string> = {};
    for (const input of m[2]!.matchAll(/<input\b[^>]*>/gi)) {
      const name = attribute(input[0], 'name');
      if (name && (attribute(input[0], 'type') ?? 'text') !== 'submit') fields[name] = attribute(input[0], 'value') ?? '';
    }
    forms.push({ action: attribute(m[1]!, 'action') ?? '', method: (attribute(m[1]!, 'method') ?? 'GET').toUpperCase(), fields });
  }
  return forms;
}
