/**
 * Text an operator types that goes into PostgreSQL and the audit chain: a revocation's reason, a review's note, a CLI's
 * `--actor`. One rule for all of them: no control character (C0 and C1, DEL, the line and paragraph separators) and no
 * invisible formatting character (the bidirectional marks, overrides and isolates, the zero-width ones, the soft hyphen,
 * the combining grapheme joiner, the Hangul and Khmer fillers, the Mongolian selectors, variation selectors and their
 * supplement, the tag characters, the byte-order mark),
 * which would let a value hide or reorder what an auditor reads; a line break and a tab only where the field takes
 * lines (a note). PostgreSQL refuses a NUL in text outright: such a reason once made a revocation that could never be
 * written.
 */

/**
 * The characters refused, by Unicode property: controls (`Cc`), format characters (`Cf`: the bidirectional marks and
 * isolates, the zero-width ones, the soft hyphen, the tag characters), the default-ignorable ones (variation selectors
 * and their supplement, the Hangul and Khmer fillers, the Mongolian selectors, the combining grapheme joiner) and the
 * line and paragraph separators. A line break and a tab are controls too: {@link LINE} says where they are text.
 */
const HIDDEN_CLASS = '\\p{Cc}\\p{Cf}\\p{Default_Ignorable_Code_Point}\\p{Zl}\\p{Zp}';
const HIDDEN = new RegExp(`[[${HIDDEN_CLASS}]--[\\t\\n]]`, 'v');
const LINE = /[\t\n]/;

/**
 * Whether `text` holds a character {@link HIDDEN} refuses (or, unless `lines`, a line break or a tab).
 *
 * @example
 * hidesSomething('stolen laptop')                 // false
 * hidesSomething('ok\u202egnp.exe')               // true (a right-to-left override)
 * hidesSomething('called back\n', { lines: true }) // false
 */
export function hidesSomething(text: string, options: { lines?: boolean } = {}): boolean {
  return HIDDEN.test(text) || (!options.lines && LINE.test(text));
}

/**
 * `text` with every character {@link hidesSomething} refuses replaced by U+FFFD: for what the gateway writes itself
 * (a revocation's reason built from a verdict or an IdP's message), which must never fail a revocation for its text.
 */
export function printable(text: string): string {
  return text.replace(new RegExp(`[${HIDDEN_CLASS}]`, 'gu'), '\ufffd');
}
