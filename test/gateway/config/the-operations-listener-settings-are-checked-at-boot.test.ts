/**
 * The operations listener's settings (`ops`, issue #10 item 13; config/ops.ts), checked at boot like the rest:
 * off by default; its own port; loopback unless acknowledged, and TLS (`ops.tls`, the pair read and checked at
 * boot) off loopback unless plain HTTP is acknowledged; operators with known roles, credentials by reference
 * and kept as hashes; enough reviewers for a level-3 approval. Each mistake names its field.
 */
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../gateway/config/load.ts';
import { dir, env, failsAt, valid } from './config-bed.ts';
import { makePki } from '../../helpers/https-document-server.ts';

// issue #10 item 13: the operations listener and its operators
env.OP_ALICE = 'alice-operator-credential-0123456789abcdef';
const OPS = () => ({
  enabled: true,
  listen: { port: 9464 },
  operators: [{ name: 'alice', token: { env: 'OP_ALICE' }, roles: ['reviewer', 'metrics'] }],
  review: { level3Approvals: 1 },
});

test('the operations listener is off by default; on, it keeps each credential as a hash and asks two operators for level 3', (t) => {
  const off = loadConfig(valid(), { env, baseDir: dir });
  t.false(off.ops.enabled);
  t.is(off.ops.listen.host, '127.0.0.1');
  t.is(off.ops.review.level3Approvals, 2);
  const on = loadConfig({ ...valid(), ops: OPS() }, { env, baseDir: dir });
  t.is(on.ops.listen.port, 9464);
  t.deepEqual(
    on.ops.operators.map((o) => [o.name, o.roles]),
    [['alice', ['reviewer', 'metrics']]],
  );
  t.is(on.ops.operators[0]!.tokenHash.length, 32);
  t.false(JSON.stringify(on).includes('alice-operator-credential'), 'the credential itself is not kept in the config');
});

test('the operations listener: loopback unless acknowledged, its own port, operators with known roles, secrets by reference', (t) => {
  failsAt(
    t,
    (c) => (c.ops = { ...OPS(), listen: { host: '0.0.0.0', port: 9464 } }),
    'ops.listen.host',
    /acknowledgeNonLoopback/,
  );
  // off loopback, plain HTTP would carry operator tokens in clear: TLS, or a proxy's TLS acknowledged
  const offLoopback = { ...OPS(), listen: { host: '0.0.0.0', port: 9464 }, acknowledgeNonLoopback: true };
  failsAt(t, (c) => (c.ops = offLoopback), 'ops.tls', /required off loopback/);
  t.is(
    loadConfig({ ...valid(), ops: { ...offLoopback, acknowledgePlainHttp: true } }, { env, baseDir: dir }).ops.listen
      .host,
    '0.0.0.0',
  );
  const pki = makePki(mkdtempSync(join(tmpdir(), 'gw-ops-pki-')));
  const files = {
    certFile: pki.caFile.replace(/ca\.pem$/, 'server.pem'),
    keyFile: pki.caFile.replace(/ca\.pem$/, 'server.key'),
  };
  const withTls = loadConfig({ ...valid(), ops: { ...offLoopback, tls: files } }, { env, baseDir: dir }).ops;
  t.is(withTls.tls?.cert, pki.cert);
  t.false(JSON.stringify(withTls).includes('certFile'), 'the files are read once, at boot');
  failsAt(
    t,
    (c) => (c.ops = { ...offLoopback, tls: { ...files, keyFile: 'nowhere.key' } }),
    'ops.tls.keyFile',
    /cannot read/,
  );
  failsAt(
    t,
    (c) => (c.ops = { ...offLoopback, tls: { ...files, keyFile: pki.caFile.replace(/ca\.pem$/, 'ca.key') } }),
    'ops.tls',
    /do not make a TLS identity/,
  );
  failsAt(t, (c) => (c.ops = { ...OPS(), listen: { port: 3000 } }), 'ops.listen.port', /differ/);
  failsAt(t, (c) => (c.ops = { ...OPS(), listen: {} }), 'ops.listen.port', /required/);
  failsAt(t, (c) => (c.ops = { ...OPS(), operators: [] }), 'ops.operators', /at least 1/);
  failsAt(
    t,
    (c) => (c.ops = { ...OPS(), operators: [{ name: 'alice', token: { env: 'KEY' }, roles: ['root'] }] }),
    'ops.operators[0].roles[0]',
    /admin, metrics, reviewer/,
  );
  failsAt(
    t,
    (c) => (c.ops = { ...OPS(), operators: [{ name: 'alice', token: { env: 'KEY' } }] }),
    'ops.operators[0].roles',
    /required/,
  );
  failsAt(
    t,
    (c) =>
      (c.ops = {
        ...OPS(),
        operators: [{ name: 'alice', token: 'in-clear-in-clear-in-clear-in-clear-0', roles: ['reviewer'] }],
      }),
    'ops.operators[0].token',
    /not written in the config/,
  );
  failsAt(
    t,
    (c) => (c.ops = { ...OPS(), operators: [{ name: 'alice', token: { env: 'PIN' }, roles: ['reviewer'] }] }),
    'ops.operators[0].token',
    /at least 32/,
  );
  // a passphrase (spaces) or a non-ASCII token passed the boot and could never authenticate
  env.OP_PASSPHRASE = 'correct horse battery staple and more words';
  failsAt(
    t,
    (c) => (c.ops = { ...OPS(), operators: [{ name: 'alice', token: { env: 'OP_PASSPHRASE' }, roles: ['reviewer'] }] }),
    'ops.operators[0].token',
    /printable ASCII characters without spaces/,
  );
  failsAt(
    t,
    (c) =>
      (c.ops = {
        ...OPS(),
        operators: [...OPS().operators, { name: 'bob', token: { env: 'OP_ALICE' }, roles: ['reviewer'] }],
      }),
    'ops.operators[1].token',
    /distinct/,
  );
  failsAt(
    t,
    (c) =>
      (c.ops = {
        ...OPS(),
        operators: [...OPS().operators, { name: 'alice', token: { env: 'SALT' }, roles: ['reviewer'] }],
      }),
    'ops.operators[1].name',
    /distinct/,
  );
  failsAt(t, (c) => (c.ops = { ...OPS(), review: { level3Approvals: 0 } }), 'ops.review.level3Approvals', /≥ 1/);
  // one reviewer could never make the two distinct approvals a level-3 review asks for
  failsAt(
    t,
    (c) => (c.ops = { ...OPS(), review: { level3Approvals: 2 } }),
    'ops.review.level3Approvals',
    /only 1 operator\(s\) have the reviewer role/,
  );
  failsAt(t, (c) => (c.ops = { ...OPS(), adminToken: 'x' }), 'ops.adminToken', /unknown setting/);
});
