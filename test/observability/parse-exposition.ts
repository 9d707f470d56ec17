/**
 * A strict little parser of the Prometheus text exposition format 0.0.4, for tests: every line is a
 * HELP, a TYPE, a sample of a declared family (`_bucket`, `_sum`, `_count` of a histogram or summary) or an
 * empty line between families; label values are unescaped; anything else throws.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"(,|$)/;

function unescape(value: string): string {
  return value.replace(/\\(\\|"|n)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function number(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  // Prometheus reads special values case-insensitively (Go's ParseFloat); prom-client 15 writes `Nan`
  if (/^nan$/i.test(text)) return NaN;
  if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) throw new Error(`not a sample value: ${text}`);
  return Number(text);
}

/** The family a sample belongs to: itself, or the histogram/summary it is a `_bucket`/`_sum`/`_count` of. */
function familyOf(name: string, types: Map<string, string>): string {
  const base = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
  return base !== undefined && !types.has(name) && ['histogram', 'summary'].includes(types.get(base) ?? '')
    ? base
    : name;
}

/** Parses an exposition; throws on the first malformed line. */
export function parseExposition(text: string): Exposition {
  if (text !== '' && !text.endsWith('\n')) throw new Error('the exposition must end with a line feed');
  const out: Exposition = { types: new Map(), help: new Map(), samples: [] };
  for (const line of text.split('\n').slice(0, -1)) {
    let m: RegExpExecArray | null;
    if (line === '') continue;
    if ((m = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line))) {
      out.help.set(m[1]!, m[2]!);
    } else if ((m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line))) {
      if (out.types.has(m[1]!)) throw new Error(`TYPE given twice for ${m[1]}`);
      out.types.set(m[1]!, m[2]!);
    } else if ((m = SAMPLE.exec(line))) {
      const [, name, body, value] = m;
      if (!out.types.has(familyOf(name!, out.types))) throw new Error(`sample before its TYPE: ${line}`);
      const labels: Record<string, string> = {};
      let rest = body ?? '';
      while (rest) {
        const l = LABEL.exec(rest);
        if (!l) throw new Error(`bad labels: ${line}`);
        labels[l[1]!] = unescape(l[2]!);
        rest = rest.slice(l[0].length);
      }
      out.samples.push({ name: name!, labels, value: number(value!) });
    } else {
      throw new Error(`not an exposition line: ${JSON.stringify(line)}`);
    }
  }
  return out;
}

/** The value of the sample `name` whose labels include `labels` (0 when absent). */
export function valueOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  const found = exposition.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return found.reduce((sum, s) => sum + s.value, 0);
}
