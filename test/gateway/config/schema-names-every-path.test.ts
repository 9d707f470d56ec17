/**
 * The configuration is read by zod schemas (issue #11 item 7): every error names its path the way people
 * write it (`clients[2].redirect_uris[0]`, `secrets.cookieKeys[1]`), says a missing value is required and a
 * wrong one what it must be, and refuses unknown keys at every depth (a secret reference, an eIDAS requested
 * attribute, an `amr` map). The error code stays CONFIG_INVALID.
 */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../gateway/config/load.ts';
import { ConfigError } from '../../../gateway/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'gw-schema-'));
const metadataFile = join(dir, 'idp.xml');
writeFileSync(metadataFile, '<EntityDescriptor/>');
const env = {
  DB: 'postgres://x',
  REDIS: 'redis://x',
  PIN: '1234',
  KEY: 'k'.repeat(32),
  SHORT: 'short',
  SALT: 's'.repeat(32),
  BIND: 'b'.repeat(32),
  RP: 'r'.repeat(32),
};
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests mutate the raw JSON freely
type Raw = Record<string, any>;
const client = (id: string) => ({
  client_id: id,
  client_secret: { env: 'RP' },
  redirect_uris: ['https://rp.example/cb'],
});

function valid(): Raw {
  return {
    issuer: 'https://gw.example',
    database: { url: { env: 'DB' } },
    redis: { url: { env: 'REDIS' } },
    hsm: { library: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'gw', pin: { env: 'PIN' } },
    secrets: { cookieKeys: [{ env: 'KEY' }], pairwiseSalt: { env: 'SALT' }, browserBindingKey: { env: 'BIND' } },
    saml: { idps: [{ id: 'idp', displayName: 'IdP', metadataFile, maxLoa: 'http://eidas.europa.eu/LoA/high' }] },
    clients: [client('rp1'), client('rp2'), client('rp3')],
  };
}

const CASES: Array<[string, (c: Raw) => void, string, RegExp]> = [
  [
    'a redirect URI of the third client',
    (c) => (c.clients[2].redirect_uris = ['http://rp.example/cb']),
    'clients[2].redirect_uris[0]',
    /must use https/,
  ],
  [
    'the second cookie key',
    (c) => c.secrets.cookieKeys.push({ env: 'SHORT' }),
    'secrets.cookieKeys[1]',
    /at least 32 characters/,
  ],
  ['a missing value', (c) => delete c.hsm.tokenLabel, 'hsm.tokenLabel', /is required$/],
  ['a wrong type', (c) => (c.hsm.poolSize = 'four'), 'hsm.poolSize', /must be an integer$/],
  ['a value out of bounds', (c) => (c.ttl = { authorizationCode: 601 }), 'ttl.authorizationCode', /must be ≤ 600/],
  [
    'an unknown key in a secret reference',
    (c) => (c.hsm.pin = { env: 'PIN', fallback: '0000' }),
    'hsm.pin.fallback',
    /unknown setting/,
  ],
  [
    'an unknown key in an eIDAS requested attribute',
    (c) =>
      Object.assign(c.saml.idps[0], {
        kind: 'eidas',
        eidas: { country: 'DE', requestedAttributes: [{ name: 'given_name', required: true, optional: false }] },
      }),
    'saml.idps[0].eidas.requestedAttributes[0].optional',
    /unknown setting/,
  ],
  [
    'an unknown amr value',
    (c) => (c.saml.idps[0].amr = { 'http://eidas.europa.eu/LoA/high': ['mfa', 'retina-scan'] }),
    'saml.idps[0].amr.http://eidas.europa.eu/LoA/high[1]',
    /must be one of/,
  ],
  ['an unknown key at the top', (c) => (c.sessionTtl = 5), 'sessionTtl', /unknown setting/],
  [
    // pinned: another entity served at that URL (signed by the same federation anchor) is never taken in its place
    'metadata by URL without the entity it must serve',
    (c) => {
      delete c.saml.idps[0].metadataFile;
      c.saml.idps[0].metadataUrl = 'https://idp.example/md';
    },
    'saml.idps[0].entityId',
    /required with metadataUrl/,
  ],
];

for (const [what, mutate, path, problem] of CASES) {
  test(`${what} is named: ${path}`, (t) => {
    const config = valid();
    mutate(config);
    const error = t.throws(() => loadConfig(config, { env, baseDir: dir }), { instanceOf: ConfigError });
    t.is(error?.code, 'CONFIG_INVALID');
    t.is(error?.path, path);
    t.regex(error!.message, problem);
  });
}

test('the secrets read are not written into any message', (t) => {
  const config = valid();
  config.secrets.cookieKeys.push({ env: 'SHORT' });
  const error = t.throws(() => loadConfig(config, { env, baseDir: dir }), { instanceOf: ConfigError });
  t.false(error!.message.includes('short'));
});
