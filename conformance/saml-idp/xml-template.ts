/**
 * Fills `{Tag}` placeholders of an XML template in ONE pass, so a value can never inject another placeholder.
 *
 * - Every value is XML-escaped (& < > " ').
 * - An attribute whose value is `null` is dropped entirely (`InResponseTo="{InResponseTo}"` → nothing).
 * - `raw` values are trusted markup built by the caller from escaped parts.
 * - A placeholder without a value throws: a template typo must not ship a literal `{Tag}`.
 */

/** Escapes text for XML element and attribute contexts. */
export function escapeXml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/**
 * @param template XML with `{Tag}` placeholders.
 * @param values text values (escaped here); `null` drops an attribute or empties an element.
 * @param raw trusted markup values (inserted as is).
 * @example fillXmlTemplate('<a ID="{ID}">{Name}</a>', { ID: '_1', Name: 'x & y' }) // '<a ID="_1">x &amp; y</a>'
 */
export function fillXmlTemplate(
  template: string,
  values: Record<string, string | null>,
  raw: Record<string, string> = {},
): string {
  const withoutNullAttributes = template.replace(/\s+[A-Za-z_:][\w:.-]*="\{(\w+)\}"/g, (match, tag: string) =>
    Object.hasOwn(values, tag) && values[tag] === null ? '' : match,
  );
  return withoutNullAttributes.replace(/\{(\w+)\}/g, (_match, tag: string) => {
    if (Object.hasOwn(raw, tag)) return raw[tag] as string;
    if (!Object.hasOwn(values, tag)) throw new Error(`template placeholder {${tag}} has no value`);
    const value = values[tag];
    return value === null || value === undefined ? '' : escapeXml(value);
  });
}
