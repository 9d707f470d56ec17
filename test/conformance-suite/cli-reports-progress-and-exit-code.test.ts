/**
 * The CLI as a security officer runs it: progress lines while it runs, three reports in --out, exit code 1
 * when a check fails and 0 when none does, 2 on bad usage; `--enrol` writes the suite IdP's metadata and
 * the eIDAS node's metadata, trust anchor and the configuration fragment to register.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { startSuiteDeployment, type SuiteDeployment } from './suite-deployment.ts';

const CLI = new URL('../../conformance/cli.ts', import.meta.url).pathname;

let deployment: SuiteDeployment;
test.before(async () => {
  deployment = await startSuiteDeployment();
});
test.after.always(async () => {
  await deployment?.stop();
});

/** Runs the CLI as a child process (asynchronously: the gateway under test lives in this process). */
async function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string; out: string }> {
  const out = mkdtempSync(join(tmpdir(), 'conformance-cli-'));
  const child = spawn(
    process.execPath,
    [CLI, '--out', out, '--idp-keys', join(out, 'idp'), '--eidas-keys', join(out, 'eidas'), ...args],
    {
      env: { ...process.env, CONFORMANCE_CLIENT_SECRET: deployment.client.clientSecret },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const status = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { status, stdout, stderr, out };
}

const client = (): string[] => [
  '--client-id',
  deployment.client.clientId,
  '--redirect-uri',
  deployment.client.redirectUri,
  '--post-logout-redirect-uri',
  deployment.client.postLogoutRedirectUri,
];

test.serial('a failing check makes the exit code 1; progress and reports are written', async (t) => {
  // A target whose discovery offers the implicit flow and plain PKCE: the crypto posture checks must fail.
  const weak = createServer((req, res) => {
    const issuer = `http://127.0.0.1:${(weak.address() as AddressInfo).port}`;
    if (req.url !== '/.well-known/openid-configuration') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        issuer,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code', 'token', 'id_token token'],
        code_challenge_methods_supported: ['plain', 'S256'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid'],
      }),
    );
  });
  await new Promise<void>((resolve) => weak.listen(0, '127.0.0.1', resolve));
  try {
    const target = `http://127.0.0.1:${(weak.address() as AddressInfo).port}`;
    const run = await cli([
      '--target',
      target,
      '--plan',
      'crypto',
      '--only',
      'CRYPTO-DISC-*',
      '--idp-id',
      'none',
      ...client(),
    ]);
    t.is(run.status, 1, run.stderr);
    t.regex(run.stdout, /\[\s*1\/\d+\] (PASS|FAIL|SKIP) CRYPTO-DISC-01/);
    t.regex(run.stdout, /FAIL CRYPTO-DISC-01/, 'implicit flow offered');
    t.regex(run.stdout, /FAIL CRYPTO-DISC-02/, 'plain PKCE offered');
    for (const file of ['conformance.json', 'conformance.junit.xml', 'conformance.html'])
      t.true(existsSync(join(run.out, file)), file);
    const json = JSON.parse(readFileSync(join(run.out, 'conformance.json'), 'utf8')) as { summary: { fail: number } };
    t.true(json.summary.fail >= 2);
  } finally {
    weak.close();
  }
});

test.serial('without a suite IdP the rotation-key check is skipped, never passed', async (t) => {
  const run = await cli([
    '--target',
    deployment.target,
    '--plan',
    'eidas,crypto',
    '--only',
    'EIDAS-MD-*,CRYPTO-JWKS-*',
    '--idp-id',
    'none',
    '--eidas-id',
    'conformance-eidas',
    '--eidas-port',
    '0',
    ...client(),
  ]);
  t.is(run.status, 0, run.stdout);
  t.regex(
    run.stdout,
    /PASS EIDAS-MD-04/,
    'the SP metadata is signed with RSA-PSS/ECDSA when eIDAS IdPs are configured',
  );
  t.regex(
    run.stdout,
    /SKIP CRYPTO-JWKS-04 .*no suite IdP is registered/,
    'without a login the signing key cannot be told',
  );
});

test.serial('no failing check makes the exit code 0', async (t) => {
  const run = await cli([
    '--target',
    deployment.target,
    '--plan',
    'crypto,oidc',
    '--only',
    'CRYPTO-DISC-*,OIDC-CFG-*',
    '--idp-id',
    'none',
    ...client(),
  ]);
  t.is(run.status, 0, run.stdout);
  t.regex(run.stdout, /done: \d+ passed, 0 failed/);
});

test.serial('a run that judges nothing exits with 3, never 0', async (t) => {
  const run = await cli([
    '--target',
    deployment.target,
    '--plan',
    'crypto',
    '--only',
    'NO-SUCH-CHECK-*',
    '--idp-id',
    'none',
    ...client(),
  ]);
  t.is(run.status, 3, run.stdout);
  t.regex(run.stderr, /no check was judged/);
  t.regex(readFileSync(join(run.out, 'conformance.html'), 'utf8'), /Nothing was judged/);
});

test.serial('bad usage exits with 2', async (t) => {
  t.is((await cli(['--plan', 'oidc'])).status, 2);
  t.is((await cli(['--target', deployment.target, '--plan', 'nope'])).status, 2);
});

test.serial('--enrol writes the IdP metadata and the configuration to register', async (t) => {
  const run = await cli([
    '--target',
    deployment.target,
    '--enrol',
    '--idp-port',
    '0',
    '--eidas-port',
    '0',
    ...client(),
  ]);
  t.is(run.status, 0, run.stderr);
  const metadata = readFileSync(join(run.out, 'conformance-idp.metadata.xml'), 'utf8');
  t.regex(metadata, /IDPSSODescriptor/);
  const fragment = JSON.parse(readFileSync(join(run.out, 'gateway-config.fragment.json'), 'utf8')) as {
    saml: { idps: { id: string; kind?: string; metadataUrl?: string; metadata?: { trustAnchorFiles: string[] } }[] };
    clients: { client_id: string; redirect_uris: string[] }[];
  };
  t.is(fragment.saml.idps[0]?.id, 'conformance-idp');
  const node = fragment.saml.idps[1];
  t.is(node?.kind, 'eidas');
  t.regex(node?.metadataUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+\/metadata$/);
  t.regex(readFileSync(node?.metadata?.trustAnchorFiles[0] ?? '', 'utf8'), /BEGIN CERTIFICATE/);
  t.regex(
    readFileSync(join(run.out, 'conformance-eidas.metadata.xml'), 'utf8'),
    /<ds:Signature[\s\S]*IDPSSODescriptor/,
  );
  t.deepEqual(fragment.clients[0]?.redirect_uris, [deployment.client.redirectUri]);
});
