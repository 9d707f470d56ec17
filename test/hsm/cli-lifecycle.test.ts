/**
 * The key-ceremony CLI drives the lifecycle in PostgreSQL: generate (next, non-extractable and sensitive
 * in the token), activate after the lead time, retire, export; destructive actions need --yes (or a
 * typed confirmation); every action is audited with the CLI as actor.
 */
import test from 'ava';
import pg from 'pg';
import { freshToken } from '../helpers/services.ts';
import { keyCli, type KeyCli } from './key-cli.ts';

const token = freshToken();
let operator: KeyCli;
let db: string;

test.before(async () => {
  operator = await keyCli(token);
  db = operator.db;
});

const cli = (args: string[], extra: Record<string, string> = {}) => operator.run(args, extra);

test.serial(
  'generate → activate → retire through the CLI, keys non-extractable and sensitive, every action audited',
  async (t) => {
    const init = cli(['init']);
    t.is(init.status, 0, init.stderr);
    t.regex(init.stdout, /^recorded \S+ active$/m, 'init records what it made, as the operator who ran it');
    const generated = cli(['generate', 'id_token', 'EdDSA']);
    t.is(generated.status, 0, generated.stderr);
    const [, kid, purpose, alg, state] = /^generated (\S+) (\S+) (\S+) (\S+) gw:/.exec(generated.stdout) ?? [];
    t.deepEqual([purpose, alg, state], ['id_token', 'EdDSA', 'next']);

    const list = cli(['list']);
    t.is(list.status, 0, list.stderr);
    const line = list.stdout.split('\n').find((l) => l.startsWith(kid!))!;
    t.regex(
      line,
      / next gw:id_token:EdDSA:\S+ sensitive=true extractable=false alwaysSensitive=true neverExtractable=true published=/,
    );
    t.is(list.stdout.split('\n').filter((l) => / active /.test(l)).length, 8, 'init keys adopted as active');

    const unconfirmed = cli(['activate', kid!, '--force']);
    t.is(unconfirmed.status, 1);
    t.regex(unconfirmed.stderr, /HSM_NOT_CONFIRMED/);
    const early = cli(['activate', kid!, '--yes']);
    t.is(early.status, 1);
    t.regex(early.stderr, /HSM_LIFECYCLE_TOO_EARLY/);
    // a lead or retention too short for an RP's cached JWKS is refused: early is --force, audited as such
    for (const env of [{ GW_KEY_LEAD_SECONDS: '0' }, { GW_KEY_RETENTION_SECONDS: '59' }] as Record<string, string>[]) {
      const short = cli(['activate', kid!, '--yes'], env);
      t.is(short.status, 1, JSON.stringify(env));
      t.regex(short.stderr, /HSM_CONFIG_INVALID: GW_KEY_\w+_SECONDS must be a whole number of seconds, at least 60/);
    }
    const activated = cli(['activate', kid!, '--yes', '--force']);
    t.is(activated.status, 0, activated.stderr);

    const jwk = JSON.parse(cli(['export', kid!]).stdout) as Record<string, string>;
    t.is(jwk.kid, kid);
    t.is(jwk.crv, 'Ed25519');
    t.false('d' in jwk);
    // the row's public key changed in PostgreSQL alone: the export still gives the token's key
    const edit = new pg.Pool({ connectionString: db });
    await edit.query('update key_records set public_jwk = $2 where kid = $1', [
      kid,
      JSON.stringify({ ...jwk, x: 'A'.repeat(43) }),
    ]);
    await edit.end();
    t.deepEqual(JSON.parse(cli(['export', kid!]).stdout), jwk, "the token's key, not the edited row's");
    const jwks = JSON.parse(cli(['jwks', 'id_token']).stdout) as { keys: Array<{ kid: string }> };
    t.true(jwks.keys.some((k) => k.kid === kid));

    const retired = cli(['retire', kid!, '--yes']);
    t.regex(retired.stdout, /^retired \S+ notAfter=/);
    t.regex(cli(['destroy', kid!, '--yes']).stderr, /HSM_LIFECYCLE_TOO_EARLY/);
    t.regex(cli(['schedule']).stdout, /destroy /);
    t.is(cli(['generate', 'id_token', 'HS256']).status, 1);
    t.is(cli(['frobnicate']).status, 2);
    const twoKids = cli(['retire', kid!, kid!, '--yes']);
    t.is(twoKids.status, 1, 'an argument more than the command takes is refused, never ignored');
    t.regex(twoKids.stderr, /HSM_CONFIG_INVALID: retire takes at most 1 argument/);

    const pool = new pg.Pool({ connectionString: db });
    const { rows } = await pool.query<{ action: string; actor: string }>(
      'select action, actor from key_events order by id',
    );
    await pool.end();
    t.deepEqual(
      rows.map((r) => r.action),
      ['adopt', 'generate', 'activate', 'export', 'export', 'export-jwks', 'retire'],
    );
    t.true(rows.every((r) => r.actor.startsWith('cli:')));
  },
);
