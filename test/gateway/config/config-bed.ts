/**
 * The scaffolding of the configuration tests: a folder with an IdP metadata file, the environment the
 * secrets are read from, a minimal valid raw configuration to mutate, and `failsAt`, which asserts that a
 * mutation fails at boot with `CONFIG_INVALID` naming the field.
 *
 * @example
 * failsAt(t, (c) => (c.federation = { minimumAcr: 'eidas4' }), 'federation.minimumAcr');
 */
import type { ExecutionContext } from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../gateway/config/load.ts';
import { ConfigError } from '../../../gateway/errors.ts';

export const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
const metadataFile = join(dir, 'idp.xml');
writeFileSync(metadataFile, '<EntityDescriptor/>');

/** The environment the `{ env: NAME }` secrets are read from (a test may add to it). */
export const env: Record<string, string> = {
  DB: 'postgres://x',
  REDIS: 'redis://x',
  PIN: '1234',
  KEY: 'k'.repeat(32),
  SALT: 's'.repeat(32),
  BIND: 'b'.repeat(32),
  RP: 'r'.repeat(32),
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests mutate the raw JSON freely
export type Raw = Record<string, any>;

/** A minimal valid raw configuration (a fresh copy each call). */
export function valid(): Raw {
  return {
    issuer: 'http://127.0.0.1:3000',
    database: { url: { env: 'DB' } },
    redis: { url: { env: 'REDIS' } },
    hsm: { library: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'gw', pin: { env: 'PIN' } },
    secrets: { cookieKeys: [{ env: 'KEY' }], pairwiseSalt: { env: 'SALT' }, browserBindingKey: { env: 'BIND' } },
    saml: { idps: [{ id: 'idp', displayName: 'IdP', metadataFile, maxLoa: 'http://eidas.europa.eu/LoA/high' }] },
    clients: [{ client_id: 'rp1', client_secret: { env: 'RP' }, redirect_uris: ['https://rp.example/cb'] }],
  };
}

/** `valid()` mutated fails with CONFIG_INVALID at `path` (and, when given, a message matching `problem`). */
export function failsAt(t: ExecutionContext, mutate: (c: Raw) => void, path: string, problem?: RegExp): void {
  const config = valid();
  mutate(config);
  const error = t.throws(() => loadConfig(config, { env, baseDir: dir }), { instanceOf: ConfigError });
  t.is(error?.code, 'CONFIG_INVALID');
  t.is(error?.path, path);
  if (problem) t.regex(error!.message, problem);
}
