/**
 * `saml.idps[].requestSigningAlgorithm` is `metadata` or an XML-DSig row of the `hsm/` registry: anything else
 * is refused at load (CONFIG_INVALID naming the field), an eIDAS node never gets RSA PKCS#1 v1.5 or EdDSA
 * (EID-R6), and a configured algorithm without an active `saml` key in the HSM fails the boot, naming the field.
 */
import test from 'ava';
import { startGatewayInProcess } from '../../harness/deployment.ts';
import { freePort } from '../../harness/services/free-port.ts';
import { failsAt, valid, env, dir } from './config-bed.ts';
import { loadConfig } from '../../../gateway/config/load.ts';
import { GatewayError } from '../../../gateway/errors.ts';
import { startSessionBed, type SessionBed } from '../session/session-bed.ts';

test('an algorithm outside the registry is refused at load, naming the field', (t) => {
  for (const alg of ['HS256', 'rsa-sha1', 'ML-DSA-65', 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256'])
    failsAt(t, (c) => (c.saml.idps[0].requestSigningAlgorithm = alg), 'saml.idps[0].requestSigningAlgorithm');
});

test('metadata is the default; a registry algorithm is accepted', (t) => {
  t.is(loadConfig(valid(), { env, baseDir: dir }).saml.idps[0]!.requestSigningAlgorithm, 'metadata');
  const config = valid();
  config.saml.idps[0].requestSigningAlgorithm = 'ES256';
  t.is(loadConfig(config, { env, baseDir: dir }).saml.idps[0]!.requestSigningAlgorithm, 'ES256');
});

test('an eIDAS node is never configured for RSA PKCS#1 v1.5 or EdDSA requests', (t) => {
  for (const alg of ['RS256', 'EdDSA'])
    failsAt(
      t,
      (c) => Object.assign(c.saml.idps[0], { kind: 'eidas', eidas: { country: 'DE' }, requestSigningAlgorithm: alg }),
      'saml.idps[0].requestSigningAlgorithm',
    );
});

let bed: SessionBed | undefined;
test.after.always(async () => {
  await bed?.stop();
});

test('a configured algorithm without an active saml key fails the boot, naming the field', async (t) => {
  bed = await startSessionBed();
  const saml = bed.deployment.rawConfig.saml as { idps: Record<string, unknown>[] };
  const original = saml.idps[0]!;
  saml.idps[0] = { ...original, requestSigningAlgorithm: 'ES384' }; // the development key set has RS256 saml keys only
  try {
    const error = await t.throwsAsync(startGatewayInProcess(bed.deployment, await freePort()));
    t.true(error instanceof GatewayError);
    t.is((error as GatewayError).code, 'CONFIG_INVALID');
    t.is((error as GatewayError & { path?: string }).path, 'saml.idps[0].requestSigningAlgorithm');
  } finally {
    saml.idps[0] = original;
  }
});
