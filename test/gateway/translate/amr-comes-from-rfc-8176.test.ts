/**
 * `amr` (RFC 8176) of a login (issue #13 item 5): derived from the upstream authentication context (the
 * asserted LoA, through the IdP's `amr` map or the eIDAS minimum) and the gateway's own step-up; never a
 * protocol name (`saml`) or an unregistered value.
 */
import test from 'ava';
import { loadConfig } from '../../../gateway/config/load.ts';
import { ConfigError } from '../../../gateway/errors.ts';
import { AMR_VALUES, DEFAULT_AMR_BY_LOA, loginAmr } from '../../../gateway/translate/amr.ts';
import { LOA_URIS } from '../../../gateway/translate/acr.ts';

const [LOW, SUBSTANTIAL, HIGH] = LOA_URIS;

for (const loa of LOA_URIS) {
  test(`every value for ${loa} is registered, with and without step-up`, (t) => {
    for (const amr of [
      loginAmr({ loa }),
      loginAmr({ loa, stepUpLevel: 1 }),
      loginAmr({ loa, stepUpLevel: 3, stepUpMethods: ['saml', 'hwk', 'mfa'] }),
    ]) {
      t.true(amr.length > 0);
      t.deepEqual(
        amr.filter((v) => !(AMR_VALUES as readonly string[]).includes(v)),
        [],
      );
      t.false(amr.includes('saml' as never));
    }
  });
}

test('the eIDAS minimum per LoA: one factor, two factors, two factors with a hardware-protected key', (t) => {
  t.deepEqual(loginAmr({ loa: LOW }), ['pwd']);
  t.deepEqual(loginAmr({ loa: SUBSTANTIAL }), ['mfa']);
  t.deepEqual(loginAmr({ loa: HIGH }), ['mfa', 'hwk']);
  t.deepEqual(Object.keys(DEFAULT_AMR_BY_LOA).sort(), [...LOA_URIS].sort(), 'a row for every LoA');
});

test('an IdP map replaces the default for its levels only', (t) => {
  const idpMap = { [HIGH]: ['sc', 'pin', 'mfa'] as const };
  t.deepEqual(loginAmr({ loa: HIGH, idpMap }), ['sc', 'pin', 'mfa']);
  t.deepEqual(loginAmr({ loa: SUBSTANTIAL, idpMap }), ['mfa']);
});

test('a satisfied risk step-up adds rba; WebAuthn keeps its registered values, not saml', (t) => {
  t.deepEqual(loginAmr({ loa: SUBSTANTIAL, stepUpLevel: 1 }), ['mfa', 'rba']);
  t.deepEqual(loginAmr({ loa: SUBSTANTIAL, stepUpLevel: 3, stepUpMethods: ['saml', 'hwk', 'mfa'] }), [
    'mfa',
    'hwk',
    'rba',
  ]);
  t.deepEqual(loginAmr({ loa: SUBSTANTIAL, stepUpLevel: 0 }), ['mfa']);
});

test('an IdP amr map with an unknown LoA or value is refused at boot, naming the field', (t) => {
  const base = {
    issuer: 'http://127.0.0.1:3000',
    database: { url: { env: 'DB' } },
    redis: { url: { env: 'REDIS' } },
    hsm: { library: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'gw', pin: { env: 'PIN' } },
    secrets: { cookieKeys: [{ env: 'KEY' }], pairwiseSalt: { env: 'SALT' }, browserBindingKey: { env: 'BIND' } },
    clients: [{ client_id: 'rp1', client_secret: { env: 'RP' }, redirect_uris: ['https://rp.example/cb'] }],
  };
  const withAmr = (amr: unknown) => ({
    ...base,
    saml: {
      idps: [
        {
          id: 'idp',
          displayName: 'IdP',
          metadataUrl: 'https://idp.example/md',
          entityId: 'https://idp.example/md',
          maxLoa: HIGH,
          amr,
        },
      ],
    },
  });
  const env = {
    DB: 'postgres://x',
    REDIS: 'redis://x',
    PIN: '1234',
    KEY: 'k'.repeat(32),
    SALT: 's'.repeat(32),
    BIND: 'b'.repeat(32),
    RP: 'r'.repeat(32),
  };
  const unknownValue = t.throws(() => loadConfig(withAmr({ [HIGH]: ['password'] }), { env }), {
    instanceOf: ConfigError,
  });
  t.regex((unknownValue as ConfigError).path, /^saml\.idps\[0\]\.amr/);
  const unknownLoa = t.throws(() => loadConfig(withAmr({ 'urn:loa:4': ['pwd'] }), { env }), {
    instanceOf: ConfigError,
  });
  t.regex((unknownLoa as ConfigError).path, /^saml\.idps\[0\]\.amr/);
});
