/**
 * A relying party's Shared Signals receiver (`clients[].ssf`) is validated at boot, errors naming the field:
 * the endpoint is https (http only on loopback), absolute, without fragment; the events are a non-empty list
 * of the CAEP event types the gateway sends, without duplicates; no other key. Operators have a `revoker`
 * role for the admin revocation API.
 */
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../gateway/config/load.ts';
import { CAEP_ASSURANCE_LEVEL_CHANGE, CAEP_SESSION_REVOKED } from '../../../gateway/config/ssf.ts';
import { ConfigError } from '../../../gateway/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'gw-config-ssf-'));
const metadataFile = join(dir, 'idp.xml');
writeFileSync(metadataFile, '<EntityDescriptor/>');
const env = {
  DB: 'postgres://x',
  REDIS: 'redis://x',
  PIN: '1234',
  KEY: 'k'.repeat(32),
  SALT: 's'.repeat(32),
  BIND: 'b'.repeat(32),
  RP: 'r'.repeat(32),
  OP: 'o'.repeat(32),
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests mutate the raw JSON freely
type Raw = Record<string, any>;

function valid(ssf?: unknown): Raw {
  return {
    issuer: 'http://127.0.0.1:3000',
    database: { url: { env: 'DB' } },
    redis: { url: { env: 'REDIS' } },
    hsm: { library: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'gw', pin: { env: 'PIN' } },
    secrets: { cookieKeys: [{ env: 'KEY' }], pairwiseSalt: { env: 'SALT' }, browserBindingKey: { env: 'BIND' } },
    saml: { idps: [{ id: 'idp', displayName: 'IdP', metadataFile, maxLoa: 'http://eidas.europa.eu/LoA/high' }] },
    clients: [
      {
        client_id: 'rp1',
        client_secret: { env: 'RP' },
        redirect_uris: ['https://rp.example/cb'],
        ...(ssf === undefined ? {} : { ssf }),
      },
    ],
  };
}

function failsAt(t: ExecutionContext, config: Raw, path: string, problem?: RegExp) {
  const error = t.throws(() => loadConfig(config, { env, baseDir: dir }), { instanceOf: ConfigError });
  t.is(error?.code, 'CONFIG_INVALID');
  t.is(error?.path, path);
  if (problem) t.regex(error!.message, problem);
}

test('a receiver with both events loads; without one the client has none', (t) => {
  const ssf = { endpoint: 'https://rp.example/caep', events: [CAEP_SESSION_REVOKED, CAEP_ASSURANCE_LEVEL_CHANGE] };
  t.deepEqual(loadConfig(valid(ssf), { env, baseDir: dir }).clients[0]!.ssf, ssf);
  t.is(loadConfig(valid(), { env, baseDir: dir }).clients[0]!.ssf, undefined);
  const loopback = { endpoint: 'http://127.0.0.1:9000/caep', events: [CAEP_SESSION_REVOKED] };
  t.deepEqual(loadConfig(valid(loopback), { env, baseDir: dir }).clients[0]!.ssf, loopback, 'http on loopback');
});

test('the endpoint must be https (http only on loopback), absolute, without fragment', (t) => {
  const events = [CAEP_SESSION_REVOKED];
  failsAt(t, valid({ endpoint: 'http://rp.example/caep', events }), 'clients[0].ssf.endpoint', /https/);
  failsAt(t, valid({ endpoint: 'https://rp.example/caep#x', events }), 'clients[0].ssf.endpoint', /fragment/);
  failsAt(t, valid({ endpoint: '/caep', events }), 'clients[0].ssf.endpoint', /absolute/);
  failsAt(t, valid({ events }), 'clients[0].ssf.endpoint', /required/);
});

test('the events are a non-empty list of the CAEP events the gateway sends, without duplicates', (t) => {
  const endpoint = 'https://rp.example/caep';
  failsAt(t, valid({ endpoint, events: [] }), 'clients[0].ssf.events', /at least 1 entry/);
  failsAt(t, valid({ endpoint }), 'clients[0].ssf.events', /required|at least 1 entry/);
  failsAt(
    t,
    valid({
      endpoint,
      events: [CAEP_SESSION_REVOKED, 'https://schemas.openid.net/secevent/caep/event-type/credential-change'],
    }),
    'clients[0].ssf.events[1]',
    /must be one of/,
  );
  failsAt(
    t,
    valid({ endpoint, events: [CAEP_SESSION_REVOKED, CAEP_SESSION_REVOKED] }),
    'clients[0].ssf.events[1]',
    /duplicate/,
  );
  failsAt(t, valid({ endpoint, events: [CAEP_SESSION_REVOKED], format: 'jwt' }), 'clients[0].ssf.format', /unknown/);
  failsAt(t, valid('https://rp.example/caep'), 'clients[0].ssf');
});

test('an operator may hold the revoker role; an unknown role names its index', (t) => {
  const ops = (roles: string[]) => ({
    ...valid(),
    ops: { enabled: true, listen: { port: 3009 }, operators: [{ name: 'carol', token: { env: 'OP' }, roles }] },
  });
  t.deepEqual(loadConfig(ops(['revoker']), { env, baseDir: dir }).ops.operators[0]!.roles, ['revoker']);
  failsAt(t, ops(['revoker', 'killer']), 'ops.operators[0].roles[1]', /revoker/);
});
