/**
 * Reads HTML forms the way the suite's scripted browser needs them: action, method and input values.
 *
 * - Only `<input>` elements are read (the gateway, the IdP and oidc-provider post hidden inputs).
 * - Entities in attribute values are decoded; nothing is executed.
 */

/** A form found in a page. */
export interface Form {
  action: string;
  method: string;
  /** `id` attribute, when present. */
  id?: string;
  fields: Record<string, string>;
}

function decode(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#x27;/gi, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#x2F;/gi, '/')
    .replace(/&#(\d+);/g, (_m, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, '&');
}

function attribute(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  return m ? decode(m[2] ?? m[3] ?? m[4] ?? '') : undefined;
}

/**
 * Every form of a page.
 *
 * @example const [form] = formsIn(html); form.fields.SAMLResponse
 */
export function formsIn(html: string): Form[] {
  const forms: Form[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const fields: Record<string, string> = {};
    for (const input of (m[2] ?? '').matchAll(/<input\b[^>]*>/gi)) {
      const name = attribute(input[0], 'name');
      const type = (attribute(input[0], 'type') ?? 'text').toLowerCase();
      if (name !== undefined && type !== 'submit') fields[name] = attribute(input[0], 'value') ?? '';
    }
    const head = m[1] ?? '';
    const id = attribute(head, 'id');
    forms.push({
      action: attribute(head, 'action') ?? '',
      method: (attribute(head, 'method') ?? 'GET').toUpperCase(),
      fields,
      ...(id === undefined ? {} : { id }),
    });
  }
  return forms;
}
