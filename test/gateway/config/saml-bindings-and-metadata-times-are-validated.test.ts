/**
 * The upstream settings of issue #13 items 13, 14 and 16 fail at boot naming the field: the AuthnRequest
 * binding per IdP (eIDAS nodes: from the metadata only), our SP metadata's validUntil and cacheDuration
 * (validity ≥ 2 × cacheDuration, bounded), and the expiry-warning horizons.
 */
import test from 'ava';
import { loadConfig } from '../../../gateway/config/load.ts';
import { dir, env, failsAt, valid } from './config-bed.ts';

test('the AuthnRequest binding is taken from the metadata unless a legacy IdP forces one', (t) => {
  t.is(loadConfig(valid(), { env, baseDir: dir }).saml.idps[0]!.authnRequestBinding, 'metadata');
  for (const binding of ['post', 'redirect'] as const) {
    const raw = valid();
    raw.saml.idps[0].authnRequestBinding = binding;
    t.is(loadConfig(raw, { env, baseDir: dir }).saml.idps[0]!.authnRequestBinding, binding);
  }
  failsAt(t, (c) => (c.saml.idps[0].authnRequestBinding = 'artifact'), 'saml.idps[0].authnRequestBinding');
  failsAt(
    t,
    (c) => Object.assign(c.saml.idps[0], { kind: 'eidas', eidas: { country: 'DE' }, authnRequestBinding: 'redirect' }),
    'saml.idps[0].authnRequestBinding',
  );
  failsAt(
    t,
    (c) => Object.assign(c.saml.idps[0], { kind: 'eidas', eidas: { country: 'DE' }, authnRequestBinding: 'post' }),
    'saml.idps[0].authnRequestBinding',
  );
});

test('our SP metadata times: defaults 7 days / 1 day, validity ≥ 2 × cacheDuration, bounded, horizon below validity − cacheDuration', (t) => {
  t.deepEqual(loadConfig(valid(), { env, baseDir: dir }).saml.spMetadata, {
    validitySeconds: 7 * 86400,
    cacheDurationSeconds: 86400,
    expiryWarningSeconds: 2 * 86400,
  });
  const raw = valid();
  raw.saml.spMetadata = { validitySeconds: 2 * 86400, cacheDurationSeconds: 6 * 3600, expiryWarningSeconds: 86400 };
  t.deepEqual(loadConfig(raw, { env, baseDir: dir }).saml.spMetadata, raw.saml.spMetadata);
  failsAt(
    t,
    (c) => (c.saml.spMetadata = { validitySeconds: 86400, cacheDurationSeconds: 86400 }),
    'saml.spMetadata.validitySeconds',
  );
  failsAt(t, (c) => (c.saml.spMetadata = { cacheDurationSeconds: 60 }), 'saml.spMetadata.cacheDurationSeconds');
  failsAt(t, (c) => (c.saml.spMetadata = { validitySeconds: 400 * 86400 }), 'saml.spMetadata.validitySeconds');
  failsAt(
    t,
    (c) =>
      (c.saml.spMetadata = {
        validitySeconds: 2 * 86400,
        cacheDurationSeconds: 86400,
        expiryWarningSeconds: 2 * 86400,
      }),
    'saml.spMetadata.expiryWarningSeconds',
  );
  failsAt(t, (c) => (c.saml.spMetadata = { validUntil: '2030-01-01' }), 'saml.spMetadata.validUntil');
});

test('each IdP has a metadata expiry-warning horizon (default one day)', (t) => {
  t.is(loadConfig(valid(), { env, baseDir: dir }).saml.idps[0]!.metadata.expiryWarningSeconds, 86400);
  failsAt(
    t,
    (c) => (c.saml.idps[0].metadata = { expiryWarningSeconds: 10 }),
    'saml.idps[0].metadata.expiryWarningSeconds',
  );
});
