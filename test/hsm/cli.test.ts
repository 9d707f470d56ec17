/** The key-ceremony CLI: `init` makes the default key set once, `list` shows it, failures exit non-zero with a code. */
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { freshToken } from '../helpers/services.ts';

const token = freshToken();

function cli(args: string[], env: Record<string, string | undefined>) {
  const result = spawnSync(process.execPath, ['hsm/cli.ts', ...args], {
    cwd: new URL('../../', import.meta.url),
    env: { PATH: process.env.PATH, SOFTHSM2_CONF: process.env.SOFTHSM2_CONF, NODE_NO_WARNINGS: '1', ...env },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const config = { GW_PKCS11_LIBRARY: token.library, GW_PKCS11_TOKEN_LABEL: token.label, GW_PKCS11_PIN: token.pin };

test.serial('init generates the default key set once; list shows kid, purpose, alg and flags', (t) => {
  const first = cli(['init'], config);
  t.is(first.status, 0, first.stderr);
  t.deepEqual(
    first.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(' ').slice(2, 4).join(':')),
    [
      'id_token:RS256',
      'id_token:ES256',
      'access_token:RS256',
      'access_token:ES256',
      'saml:RS256',
      'saml:ES256',
      'audit:ES384',
      'risk_assessment:ES256',
    ],
  );
  const second = cli(['init'], config);
  t.is(second.status, 0, second.stderr);
  t.regex(second.stdout, /nothing to generate/);
  const list = cli(['list'], config);
  t.is(list.status, 0, list.stderr);
  const lines = list.stdout.trim().split('\n');
  t.is(lines.length, 8);
  for (const line of lines)
    t.regex(
      line,
      /^[A-Za-z0-9_-]{43} \w+ \w+ gw:\S+ sensitive=true extractable=false alwaysSensitive=true neverExtractable=true$/,
    );
  t.false(list.stdout.includes(token.pin));
});

test('failures exit non-zero and print the error code', (t) => {
  const missing = cli(['list'], { ...config, GW_PKCS11_PIN: undefined });
  t.is(missing.status, 1);
  t.regex(missing.stderr, /HSM_CONFIG_INVALID/);
  const wrongPin = cli(['list'], { ...config, GW_PKCS11_PIN: 'wrong' });
  t.is(wrongPin.status, 1);
  t.regex(wrongPin.stderr, /HSM_LOGIN_FAILED/);
  const usage = cli(['rotate'], config);
  t.is(usage.status, 2);
  t.regex(usage.stderr, /usage:/);
});
