/**
 * The operator CLIs (review, session, idps) read their command line with gateway/cli-arguments.ts: a base64url
 * id that begins with '-' or '--' is a positional, only the CLI's own long options are options, and a
 * mistyped option is never silently taken as one.
 */
import test from 'ava';
import { parseCommandLine, valuesMayBeginWithDash } from '../../../gateway/cli-arguments.ts';

const OPTIONS = { note: { type: 'string' }, dry: { type: 'boolean' } } as const;

const cases: Array<[string, string[], { positionals: string[]; values: Record<string, unknown> }]> = [
  ['an id with one dash', ['deny', '-nQLaq'], { positionals: ['deny', '-nQLaq'], values: {} }],
  ['an id with two dashes', ['deny', '--x7Lk'], { positionals: ['deny', '--x7Lk'], values: {} }],
  [
    'an id, then an option with its value apart',
    ['approve', '-n', '--note', 'called back'],
    { positionals: ['approve', '-n'], values: { note: 'called back' } },
  ],
  [
    'an option value that begins with a dash',
    ['--note', '-x', 'deny', 'abc'],
    { positionals: ['deny', 'abc'], values: { note: '-x' } },
  ],
  ['an option in = form', ['deny', '-n', '--note=ok'], { positionals: ['deny', '-n'], values: { note: 'ok' } }],
  ['a boolean option', ['--dry', 'deny', '-n'], { positionals: ['deny', '-n'], values: { dry: true } }],
  [
    'everything after -- is positional',
    ['deny', '--', '--note', 'x'],
    { positionals: ['deny', '--note', 'x'], values: {} },
  ],
  [
    'a mistyped option stays a positional, for the CLI to refuse by its place',
    ['--nte', 'x', 'deny', 'abc'],
    { positionals: ['--nte', 'x', 'deny', 'abc'], values: {} },
  ],
];

for (const [name, argv, expected] of cases) {
  test(`the command line: ${name}`, (t) => {
    const parsed = parseCommandLine(argv, OPTIONS);
    t.deepEqual(parsed.positionals, expected.positionals);
    t.deepEqual({ ...parsed.values }, expected.values);
  });
}

test('an option that needs a value and has none is still a usage error', (t) => {
  t.throws(() => parseCommandLine(['deny', 'abc', '--note'], OPTIONS), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
});

test('the rewritten line puts options first, then -- and the positionals in their order', (t) => {
  t.deepEqual(valuesMayBeginWithDash(['deny', '-n', '--note', 'x'], OPTIONS), ['--note=x', '--', 'deny', '-n']);
});
