/**
 * The key-ceremony CLI records keys, DEKs and `key_events` in PostgreSQL. A `GW_DATABASE_URL` with which node-postgres
 * would take any server certificate (a man in the middle then reads and rewrites the key records) is refused with
 * `HSM_CONFIG_INVALID`, before the token is touched: `init` and `kek init` make no key they could not record. The error
 * names the variable, never the URL (it may hold a password).
 */
import test from 'ava';
import { freshToken } from '../helpers/services.ts';
import { keyCli, type KeyCli } from './key-cli.ts';

const token = freshToken();
let operator: KeyCli;

test.before(async () => {
  operator = await keyCli(token);
});

/** The test database's URL with `query` added (a password put in, to see that it is never printed). */
function urlWith(query: string): string {
  const url = new URL(operator.db);
  url.password = 'pw-never-printed';
  url.search = query;
  return url.href;
}

/** [shape, the URL's query, more environment]. */
const UNVERIFIED: ReadonlyArray<[string, string, Record<string, string>]> = [
  ['sslmode=no-verify', 'sslmode=no-verify', {}],
  ['ssl=no-verify', 'ssl=no-verify', {}],
  ['a repeated sslmode whose last says no-verify', 'sslmode=verify-full&sslmode=no-verify', {}],
  ['PGSSLMODE=no-verify with a URL that says nothing', '', { PGSSLMODE: 'no-verify' }],
  ['libpq require without sslrootcert', 'sslmode=require&uselibpqcompat=true', {}],
  [
    'NODE_TLS_REJECT_UNAUTHORIZED=0 under a verifying sslmode',
    'sslmode=verify-full',
    { NODE_TLS_REJECT_UNAUTHORIZED: '0' },
  ],
];

for (const [shape, query, more] of UNVERIFIED) {
  test.serial(`every command is refused with ${shape}, and no key is made`, (t) => {
    const env = { GW_DATABASE_URL: urlWith(query), ...more };
    for (const args of [['init'], ['list'], ['kek', 'init'], ['dek', 'list'], ['generate', 'id_token', 'ES256']]) {
      const run = operator.run(args, env);
      t.is(run.status, 1, `${args.join(' ')}: ${run.stderr}`);
      t.regex(
        run.stderr,
        /^error HSM_CONFIG_INVALID: GW_DATABASE_URL is refused: its TLS takes any certificate( \(NODE_TLS_REJECT_UNAUTHORIZED=0\))?$/m,
      );
      t.false(run.stderr.includes('pw-never-printed'), 'the URL is never printed');
    }
    const keys = operator.run(['list'], { GW_DATABASE_URL: '' });
    t.is(keys.status, 0, keys.stderr);
    t.is(keys.stdout, 'no keys on the token', 'init made no key it could not record');
    t.regex(operator.run(['kek', 'show'], { GW_DATABASE_URL: '' }).stderr, /HSM_KEY_NOT_FOUND/, 'kek init made no KEK');
  });
}

test.serial('the same database over a URL that asks for no TLS (loopback) is taken', (t) => {
  const run = operator.run(['init']);
  t.is(run.status, 0, run.stderr);
  t.regex(run.stdout, /^recorded \S+ active$/m);
});
