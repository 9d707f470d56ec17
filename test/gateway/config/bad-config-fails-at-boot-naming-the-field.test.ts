/**
 * Configuration errors fail at boot with CONFIG_INVALID and the path of the offending field; a typo is
 * never silently ignored; secrets are never written in the config.
 */
import test from 'ava';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadConfig } from '../../../gateway/config/load.ts';
import { ConfigError } from '../../../gateway/errors.ts';
import { dir, env, failsAt, valid } from './config-bed.ts';
import { attestationPki } from '../../webauthn/attestation-ca.ts';

test('a valid configuration loads, with secure defaults', (t) => {
  const config = loadConfig(valid(), { env, baseDir: dir });
  t.is(config.clients[0]!.id_token_signed_response_alg, 'RS256');
  t.is(config.saml.idps[0]!.clockSkewSeconds, 60);
  t.is(config.saml.entityId, 'http://127.0.0.1:3000/saml/metadata');
  t.false(config.cookies.secure, 'http loopback development issuer');
  t.true(
    loadConfig({ ...valid(), issuer: 'https://gw.example' }, { env, baseDir: dir }).cookies.secure,
    'https issuer → Secure cookies',
  );
  t.is(config.federation.minimumAcr, 'eidas2', 'the product serves substantial and high only by default');
  t.is(config.saml.idps[0]!.maxAuthenticationAgeSeconds, 8 * 3600, 'an IdP working day');
  t.deepEqual(config.trustedProxies, [], 'no proxy is trusted by default');
});

test('federation.minimumAcr, a client minimum_acr, eIDAS alwaysForceAuthn, country and legal attributes are checked at boot', (t) => {
  failsAt(t, (c) => (c.federation = { minimumAcr: 'eidas4' }), 'federation.minimumAcr');
  failsAt(t, (c) => (c.federation = { minimum: 'eidas1' }), 'federation.minimum');
  failsAt(t, (c) => (c.clients[0].minimum_acr = 'loa2'), 'clients[0].minimum_acr');
  failsAt(
    t,
    (c) => Object.assign(c.saml.idps[0], { kind: 'eidas', eidas: { country: 'DE', alwaysForceAuthn: false } }),
    'saml.idps[0].eidas.alwaysForceAuthn',
  );
  failsAt(t, (c) => Object.assign(c.saml.idps[0], { kind: 'eidas', eidas: {} }), 'saml.idps[0].eidas.country');
  failsAt(t, (c) => Object.assign(c.saml.idps[0], { kind: 'eidas' }), 'saml.idps[0].eidas.country');
  failsAt(
    t,
    (c) =>
      Object.assign(c.saml.idps[0], {
        kind: 'eidas',
        eidas: { country: 'DE', requestedAttributes: [{ name: 'email' }, { name: 'lei' }] },
      }),
    'saml.idps[0].eidas.requestedAttributes[1].name',
  );
  t.is(
    loadConfig({ ...valid(), federation: { minimumAcr: 'eidas1' } }, { env, baseDir: dir }).federation.minimumAcr,
    'eidas1',
  );
});

test('federation.skipChooserWithOneIdp is true by default and must be a boolean (issue #13 item 8)', (t) => {
  t.true(loadConfig(valid(), { env, baseDir: dir }).federation.skipChooserWithOneIdp);
  t.false(
    loadConfig({ ...valid(), federation: { skipChooserWithOneIdp: false } }, { env, baseDir: dir }).federation
      .skipChooserWithOneIdp,
  );
  failsAt(t, (c) => (c.federation = { skipChooserWithOneIdp: 'yes' }), 'federation.skipChooserWithOneIdp');
});

test('webauthn: level 3 is unavailable until attestation roots are given; the block is checked at boot', async (t) => {
  const defaults = loadConfig(valid(), { env, baseDir: dir }).webauthn;
  t.deepEqual(defaults, {
    level3CooldownSeconds: 72 * 3600,
    level3UserVerification: true,
    attestation: { rootCertificates: [], trustedAaguids: [] },
  });
  writeFileSync(join(dir, 'root.pem'), (await attestationPki('Config Keys')).rootPem);
  writeFileSync(
    join(dir, 'not-a-cert.pem'),
    '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n',
  );
  writeFileSync(join(dir, 'empty.pem'), 'nothing here');
  const configured = loadConfig(
    {
      ...valid(),
      webauthn: {
        level3CooldownHours: 24,
        attestation: { rootCertificateFiles: ['root.pem'], trustedAaguids: ['CB69481E-8FF7-4039-93EC-0A2729A154A8'] },
      },
    },
    { env, baseDir: dir },
  ).webauthn;
  t.is(configured.level3CooldownSeconds, 24 * 3600);
  t.is(configured.attestation.rootCertificates.length, 1);
  t.deepEqual(configured.attestation.trustedAaguids, ['cb69481e-8ff7-4039-93ec-0a2729a154a8']);
  failsAt(t, (c) => (c.webauthn = { level3CooldownHours: 0 }), 'webauthn.level3CooldownHours');
  failsAt(t, (c) => (c.webauthn = { level3CooldownHours: 721 }), 'webauthn.level3CooldownHours');
  failsAt(t, (c) => (c.webauthn = { cooldown: 1 }), 'webauthn.cooldown');
  failsAt(t, (c) => (c.webauthn = { level3UserVerification: 'yes' }), 'webauthn.level3UserVerification');
  failsAt(t, (c) => (c.webauthn = { attestation: { roots: [] } }), 'webauthn.attestation.roots');
  failsAt(
    t,
    (c) => (c.webauthn = { attestation: { rootCertificateFiles: ['missing.pem'] } }),
    'webauthn.attestation.rootCertificateFiles[0]',
    /cannot read/,
  );
  failsAt(
    t,
    (c) => (c.webauthn = { attestation: { rootCertificateFiles: ['root.pem', 'empty.pem'] } }),
    'webauthn.attestation.rootCertificateFiles[1]',
    /no PEM certificate/,
  );
  failsAt(
    t,
    (c) => (c.webauthn = { attestation: { rootCertificateFiles: ['not-a-cert.pem'] } }),
    'webauthn.attestation.rootCertificateFiles[0]',
    /cannot be read/,
  );
  failsAt(
    t,
    (c) => (c.webauthn = { attestation: { trustedAaguids: ['yubikey'] } }),
    'webauthn.attestation.trustedAaguids[0]',
  );
});

test('an unknown setting is refused (a typo never falls back to a default)', (t) => {
  failsAt(t, (c) => (c.clients[0].redirect_uri = ['x']), 'clients[0].redirect_uri', /unknown setting/);
  failsAt(t, (c) => (c.sessionTtl = 5), 'sessionTtl', /unknown setting/);
});

test('a redirect URI that is not https (outside loopback) names its index', (t) => {
  failsAt(t, (c) => c.clients[0].redirect_uris.push('http://rp.example/cb'), 'clients[0].redirect_uris[1]', /https/);
});

test('a secret written in clear in the config is refused', (t) => {
  failsAt(t, (c) => (c.hsm.pin = '1234'), 'hsm.pin', /not written in the config/);
});

test('a missing environment variable for a secret is named', (t) => {
  failsAt(t, (c) => (c.database.url = { env: 'NOPE' }), 'database.url', /NOPE is not set/);
});

test('a too-short client secret is refused', (t) => {
  failsAt(t, (c) => (c.clients[0].client_secret = { env: 'PIN' }), 'clients[0].client_secret', /at least 32/);
});

test('an unknown acr value, LoA or algorithm is refused, never defaulted', (t) => {
  failsAt(t, (c) => (c.clients[0].default_acr_values = ['eidas4']), 'clients[0].default_acr_values[0]');
  failsAt(t, (c) => (c.saml.idps[0].maxLoa = 'http://eidas.europa.eu/LoA/medium'), 'saml.idps[0].maxLoa');
  failsAt(t, (c) => (c.clients[0].id_token_signed_response_alg = 'HS256'), 'clients[0].id_token_signed_response_alg');
});

test('duplicate client ids and IdP ids are refused', (t) => {
  failsAt(t, (c) => c.clients.push({ ...c.clients[0] }), 'clients[1].client_id', /duplicate/);
  failsAt(t, (c) => c.saml.idps.push({ ...c.saml.idps[0] }), 'saml.idps[1].id', /duplicate/);
});

test('a missing IdP metadata file is named', (t) => {
  failsAt(t, (c) => (c.saml.idps[0].metadataFile = 'missing.xml'), 'saml.idps[0].metadataFile', /not found/);
});

test('the gateway process exits with a clear message on a bad config file', (t) => {
  const file = join(dir, 'bad.json');
  const bad = valid();
  bad.listen = { port: 'eighty' };
  writeFileSync(file, JSON.stringify(bad));
  const result = spawnSync(process.execPath, ['gateway/main.ts', '--config', file], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  t.is(result.status, 2);
  t.regex(result.stderr, /configuration error at listen\.port: must be an integer/);
  t.notRegex(result.stderr, /at .*\.ts:\d+/, 'no stack trace');
});

test('settings that moved into the file are refused from the environment, naming their key (issue #13 item 15)', (t) => {
  for (const [name, key] of [
    ['GW_ADMIN_TOKEN', /ops\.operators/],
    ['GW_METRICS_ALLOW', /ops\.operators/],
    ['GW_RISK_POLICY_FILE', /risk\.policyFile/],
    ['GW_AUDIT_SPOOL_DIR', /audit\.spoolDir/],
  ] as const) {
    const error = t.throws(
      () => loadConfig(valid(), { env: { ...env, [name]: '/x' }, baseDir: dir }),
      { instanceOf: ConfigError },
      name,
    );
    t.is(error?.path, name);
    t.regex(error!.message, key);
  }
});

test('risk.policyFile and audit.spoolDir resolve against the config file; an unreadable policy file fails at boot', (t) => {
  writeFileSync(join(dir, 'policy.json'), '{}');
  const config = loadConfig(
    { ...valid(), risk: { policyFile: 'policy.json' }, audit: { spoolDir: 'spool' } },
    { env, baseDir: dir },
  );
  t.is(config.risk.policyFile, join(dir, 'policy.json'));
  t.is(config.audit.spoolDir, join(dir, 'spool'));
  t.is(loadConfig(valid(), { env, baseDir: dir }).risk.policyFile, undefined, 'the built-in policy by default');
  failsAt(t, (c) => (c.risk = { policyFile: 'missing.json' }), 'risk.policyFile', /cannot read/);
  failsAt(t, (c) => (c.risk = { policy: 'policy.json' }), 'risk.policy', /unknown setting/);
  failsAt(t, (c) => (c.audit = { spool: 'x' }), 'audit.spool', /unknown setting/);
});

test('risk.overload and the HSM saturation settings: the issue #15 defaults, and every wrong field named', (t) => {
  const config = loadConfig(valid(), { env, baseDir: dir });
  t.like(config.risk.overload, { enabled: true, enterP99Ms: 500, exitP99Ms: 200, recoverAfterMs: 60_000 });
  t.like(config.hsm, { maxWaiting: 1024, acquireTimeoutMs: 10_000, shedQueueDepth: 256 });
  failsAt(t, (c) => (c.risk = { overload: { exitP99Ms: 600 } }), 'risk.overload.exitP99Ms', /< enterP99Ms/);
  failsAt(t, (c) => (c.risk = { overload: { p99: 1 } }), 'risk.overload.p99', /unknown setting/);
  failsAt(t, (c) => (c.risk = { overload: { minSamples: 10, windowSize: 5 } }), 'risk.overload.minSamples');
  failsAt(t, (c) => (c.hsm.shedQueueDepth = -1), 'hsm.shedQueueDepth');
  failsAt(t, (c) => (c.hsm.queue = 1), 'hsm.queue', /unknown setting/);
});

test('rateLimit: the issue #15 defaults, and every wrong field named (issue #15)', (t) => {
  const limits = loadConfig(valid(), { env, baseDir: dir }).rateLimit;
  t.deepEqual(limits.global, { capacity: 200_000, perSecond: 50_000 });
  t.deepEqual(limits.tiers, { tier_1: 5000, tier_2: 2000, tier_3: 500 });
  t.is(limits.defaultTier, 'tier_3', 'an RP not classified gets the smallest tier');
  t.true(limits.enabled);
  t.deepEqual(
    loadConfig(
      { ...valid(), rateLimit: { clients: { rp1: { tier: 'tier_1', perSecond: 8000 } } } },
      { env, baseDir: dir },
    ).rateLimit.clients,
    { rp1: { tier: 'tier_1', perSecond: 8000 } },
  );
  failsAt(
    t,
    (c) => (c.rateLimit = { clients: { rp2: { tier: 'tier_1' } } }),
    'rateLimit.clients.rp2',
    /not a configured client/,
  );
  failsAt(t, (c) => (c.rateLimit = { clients: { rp1: { tier: 'tier_4' } } }), 'rateLimit.clients.rp1.tier');
  failsAt(t, (c) => (c.rateLimit = { clients: { rp1: {} } }), 'rateLimit.clients.rp1.tier');
  failsAt(t, (c) => (c.rateLimit = { tiers: { tier_0: 1 } }), 'rateLimit.tiers.tier_0');
  failsAt(t, (c) => (c.rateLimit = { perIp: { perSecond: 0 } }), 'rateLimit.perIp.perSecond');
  failsAt(t, (c) => (c.rateLimit = { failures: { capacity: 0 } }), 'rateLimit.failures.capacity');
  failsAt(t, (c) => (c.rateLimit = { global: { burst: 5 } }), 'rateLimit.global.burst');
  failsAt(t, (c) => (c.rateLimit = { enabled: 'no' }), 'rateLimit.enabled');
  t.like(limits.adaptive, { enabled: true, checkIntervalMs: 60_000, recoverAfterMs: 120_000, cpuPercent: 80 });
  t.like(limits.adaptive, { memoryPercent: 85 });
  t.like(limits.perIdp, { default: 1000, min: 10, max: 20_000, perAddressShare: 0.1, knownDeviceShare: 0.3 });
  failsAt(t, (c) => (c.rateLimit = { perIdp: { idps: { 'eidas-be': 5 } } }), 'rateLimit.perIdp.idps.eidas-be');
  failsAt(t, (c) => (c.rateLimit = { perIdp: { knownDeviceShare: 1 } }), 'rateLimit.perIdp.knownDeviceShare');
  failsAt(t, (c) => (c.rateLimit = { perIdp: { knownDeviceShare: '0.3' } }), 'rateLimit.perIdp.knownDeviceShare');
  failsAt(t, (c) => (c.rateLimit = { adaptive: { factor: 1 } }), 'rateLimit.adaptive.factor');
  failsAt(t, (c) => (c.rateLimit = { adaptive: { lag: 1 } }), 'rateLimit.adaptive.lag', /unknown setting/);
  failsAt(t, (c) => (c.rateLimit = { identityFailures: { perSecond: 0 } }), 'rateLimit.identityFailures.perSecond');
});

test('grant_types: authorization_code by default, refresh_token by opt-in, anything else refused naming the entry', (t) => {
  failsAt(t, (c) => (c.clients[0].grant_types = ['implicit']), 'clients[0].grant_types[0]');
  failsAt(t, (c) => (c.clients[0].grant_types = ['refresh_token']), 'clients[0].grant_types', /authorization_code/);
  failsAt(
    t,
    (c) => (c.clients[0].grant_types = ['authorization_code', 'refresh_token', 'refresh_token']),
    'clients[0].grant_types[2]',
    /duplicate/,
  );
  failsAt(t, (c) => (c.ttl = { refreshToken: 10 }), 'ttl.refreshToken');
});

test('backchannel_logout_uri must be an https URL (http only on loopback) without fragment; the session flag a boolean', (t) => {
  failsAt(
    t,
    (c) => (c.clients[0].backchannel_logout_uri = 'http://rp.example/bcl'),
    'clients[0].backchannel_logout_uri',
    /https/,
  );
  failsAt(
    t,
    (c) => (c.clients[0].backchannel_logout_uri = 'https://rp.example/bcl#x'),
    'clients[0].backchannel_logout_uri',
  );
  failsAt(
    t,
    (c) => (c.clients[0].backchannel_logout_session_required = 'yes'),
    'clients[0].backchannel_logout_session_required',
  );
  const config = loadConfig(
    { ...valid(), clients: [{ ...valid().clients[0], backchannel_logout_uri: 'https://rp.example/bcl' }] },
    { env, baseDir: dir },
  );
  t.is(config.clients[0]!.backchannel_logout_session_required, true);
});

test('a secret file every user of the host may read is refused, naming the setting; 0600 and 0640 are read', (t) => {
  const open = join(dir, 'salt-open.secret');
  writeFileSync(open, `${'s'.repeat(40)}\n`);
  chmodSync(open, 0o644);
  failsAt(
    t,
    (c) => (c.secrets.pairwiseSalt = { file: open }),
    'secrets.pairwiseSalt',
    /open to every user of the host \(mode 644\)/,
  );
  for (const mode of [0o600, 0o640]) {
    const closed = join(dir, `salt-${mode.toString(8)}.secret`);
    writeFileSync(closed, `${'s'.repeat(40)}\n`);
    chmodSync(closed, mode);
    const raw = valid();
    raw.secrets.pairwiseSalt = { file: closed };
    t.is(loadConfig(raw, { env, baseDir: dir }).secrets.pairwiseSalt, 's'.repeat(40), mode.toString(8));
  }
});
