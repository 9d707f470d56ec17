/**
 * The key-ceremony CLI drives the key hierarchy and the experimental ML-DSA-65 row: `kek init` is
 * idempotent and shows a non-extractable wrap/unwrap-only key; `dek rotate` adds versions, keeping the old
 * ones; ML-DSA-65 is generated and activated only with `--ack-experimental`.
 */
import test from 'ava';
import { freshToken } from '../helpers/services.ts';
import { keyCli, type KeyCli } from './key-cli.ts';

const token = freshToken();
let operator: KeyCli;

test.before(async () => {
  operator = await keyCli(token);
});

const cli = (args: string[], extra: Record<string, string> = {}) => operator.run(args, extra);

test.serial('kek init (audited), dek rotate, and an acknowledged ML-DSA-65 key through the CLI', async (t) => {
  const noKek = cli(['generate', 'id_token', 'ML-DSA-65', '--ack-experimental']);
  t.is(noKek.status, 1);
  t.regex(noKek.stderr, /HSM_KEY_NOT_FOUND/, 'the KEK comes first');

  const init = cli(['kek', 'init']);
  t.is(init.status, 0, init.stderr);
  t.regex(
    init.stdout,
    /^kek [0-9a-f]{16} gw-kek:[0-9a-f]{16} generated sensitive=true extractable=false neverExtractable=true wrap=true unwrap=true encrypt=false decrypt=false$/,
  );
  t.regex(cli(['kek', 'init']).stdout, / exists /);
  // the ceremony is audited once, when the KEK is made (not when init finds it)
  const events = await operator.query<{ action: string; actor: string; kek_id: string }>(
    "select action, actor, detail->>'kekId' as kek_id from key_events where action = 'kek-init'",
  );
  t.deepEqual(
    events.map((e) => [e.action, e.kek_id]),
    [['kek-init', /^kek ([0-9a-f]{16}) /.exec(init.stdout)![1]]],
  );
  t.regex(events[0]!.actor, /^cli:\S+$/);

  t.is(cli(['dek', 'rotate']).stdout, 'dek gateway 1 active');
  t.is(cli(['dek', 'rotate']).stdout, 'dek gateway 2 active');
  const deks = cli(['dek', 'list']).stdout.split('\n');
  t.is(deks.length, 2);
  t.regex(deks[0]!, /^dek gateway 2 active kek=[0-9a-f]{16}@\S+ CKM_AES_KEY_WRAP_PAD /);
  t.regex(deks[1]!, /^dek gateway 1 retired /);

  const refused = cli(['generate', 'id_token', 'ML-DSA-65']);
  t.is(refused.status, 1);
  t.regex(refused.stderr, /HSM_EXPERIMENTAL_NOT_ACKNOWLEDGED/);
  const generated = cli(['generate', 'id_token', 'ML-DSA-65', '--ack-experimental']);
  t.is(generated.status, 0, generated.stderr);
  const [, kid] =
    /^generated (\S+) id_token ML-DSA-65 next gw-pq:id_token:ML-DSA-65:[0-9a-f]{16}$/.exec(generated.stdout) ?? [];
  t.truthy(kid);
  t.regex(cli(['list']).stdout, new RegExp(`${kid} id_token ML-DSA-65 next gw-pq:\\S+ in-process wrapped-under-kek`));

  const unacknowledged = cli(['activate', kid!, '--yes', '--force']);
  t.is(unacknowledged.status, 1);
  t.regex(unacknowledged.stderr, /HSM_EXPERIMENTAL_NOT_ACKNOWLEDGED/);
  const activated = cli(['activate', kid!, '--yes', '--force', '--ack-experimental']);
  t.is(activated.status, 0, activated.stderr);
  const jwks = JSON.parse(cli(['jwks', 'id_token']).stdout) as {
    keys: Array<{ kid: string; kty: string; priv?: string }>;
  };
  const jwk = jwks.keys.find((k) => k.kid === kid);
  t.is(jwk?.kty, 'AKP');
  t.false(jwk !== undefined && 'priv' in jwk);
});
