/**
 * A seeded mutation fuzzer (no dependency): the same seed gives the same inputs, so a failure found in
 * `make test` or `make bench` is reproduced by its seed and index.
 *
 * Mutations of a text (an XML document, a form value, a JSON file): flip bytes, delete / duplicate / move a
 * span, insert random or hostile fragments (deep nesting, entities, comments in identifiers, huge attribute
 * values, NUL and odd Unicode), truncate, change the encoding declaration.
 */

/** mulberry32: a small, fast, seeded PRNG (uniform in [0, 1)). */
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

const HOSTILE = [
  '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
  '<!ENTITY a "aaaaaaaaaa">',
  '&e;',
  '<!--x-->',
  ']]>',
  '<![CDATA[<x/>]]>',
  '\u0000',
  '\uFEFF',
  '\uD800',
  '%00',
  '<?xml version="1.0" encoding="UTF-16"?>',
  'xmlns:saml="urn:evil"',
  '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>',
  '<saml:Assertion ID="_dup"/>',
  'ID="_dup"',
];

/** One mutation of `input`, chosen by `random`. */
export function mutate(input: string, random: () => number): string {
  const n = input.length;
  const at = () => Math.floor(random() * (n + 1));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  switch (Math.floor(random() * 10)) {
    case 0: {
      // flip a few characters
      const chars = [...input];
      for (let i = 0; i < 1 + Math.floor(random() * 4) && chars.length > 0; i++) {
        const j = Math.floor(random() * chars.length);
        chars[j] = String.fromCharCode(chars[j]!.charCodeAt(0) ^ (1 << Math.floor(random() * 7)) || 32);
      }
      return chars.join('');
    }
    case 1: {
      const a = at();
      const b = Math.min(n, a + Math.floor(random() * 200));
      return input.slice(0, a) + input.slice(b);
    }
    case 2: {
      const a = at();
      const b = Math.min(n, a + Math.floor(random() * 400));
      return input.slice(0, b) + input.slice(a, b) + input.slice(b);
    }
    case 3: {
      const a = at();
      return input.slice(0, a) + pick(HOSTILE) + input.slice(a);
    }
    case 4: {
      // deep nesting
      const depth = 100 + Math.floor(random() * 5000);
      const a = at();
      return input.slice(0, a) + '<a>'.repeat(depth) + '</a>'.repeat(depth) + input.slice(a);
    }
    case 5: {
      // a huge attribute value or text
      const a = input.indexOf('="', at());
      const cut = a === -1 ? at() : a + 2;
      return input.slice(0, cut) + 'A'.repeat(1000 + Math.floor(random() * 200_000)) + input.slice(cut);
    }
    case 6:
      return input.slice(0, at());
    case 7: {
      // random bytes
      const a = at();
      const junk = Array.from({ length: 1 + Math.floor(random() * 64) }, () =>
        String.fromCharCode(Math.floor(random() * 0xffff)),
      ).join('');
      return input.slice(0, a) + junk + input.slice(a);
    }
    case 8: {
      // move a span elsewhere
      const a = at();
      const b = Math.min(n, a + Math.floor(random() * 300));
      const span = input.slice(a, b);
      const rest = input.slice(0, a) + input.slice(b);
      const c = Math.floor(random() * (rest.length + 1));
      return rest.slice(0, c) + span + rest.slice(c);
    }
    case 9:
      // two mutations
      return mutate(mutate(input, random), random);
    default:
      throw new Error('unreachable: the switch covers 0..9');
  }
}

/** `count` mutated inputs from `seed`, each with its index (for reproduction). */
export function* mutations(input: string, seed: number, count: number): Generator<{ index: number; value: string }> {
  const random = prng(seed);
  for (let index = 0; index < count; index++) yield { index, value: mutate(input, random) };
}
