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

/** The characters refused, as a character class's ranges (escapes: no such character is in this file). */
const HIDDEN_RANGES =
  '\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u00ad\\u034f\\u061c\\u115f\\u1160\\u17b4\\u17b5\\u180b-\\u180f' +
  '\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2069\\u3164\\ufe00-\\ufe0f\\ufeff\\uffa0' +
  // the tag characters (they spell hidden ASCII) and the variation selectors' supplement, beyond the basic plane
  '\\u{e0000}-\\u{e007f}\\u{e0100}-\\u{e01ef}';
// eslint-disable-next-line no-misleading-character-class -- a variation selector is refused on its own, as a character
const HIDDEN = new RegExp(`[${HIDDEN_RANGES}]`, 'u');
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
  // eslint-disable-next-line no-misleading-character-class -- as above
  return text.replace(new RegExp(`[${HIDDEN_RANGES}\\t\\n]`, 'gu'), '\ufffd');
}
