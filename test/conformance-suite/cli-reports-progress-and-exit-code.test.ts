/**
 * The CLI as a security officer runs it: progress lines while it runs, three reports in --out, exit code 1
 * when a check fails and 0 when none does, 2 on bad usage; `--enrol` writes the suite IdP's metadata and
 * the configuration fragment to register.
 */
import { spawn } from 'node:child_process';
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
  const child = spawn(process.execPath, [CLI, '--out', out, '--idp-keys', join(out, 'idp'), ...args], {
    env: { ...process.env, CONFORMANCE_CLIENT_SECRET: deployment.client.clientSecret },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const status = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { status, stdout, stderr, out };
}

const client = (): string[] => ['--client-id', deployment.client.clientId, '--redirect-uri', deployment.client.redirectUri, '--post-logout-redirect-uri', deployment.client.postLogoutRedirectUri];

test.serial('a failing check makes the exit code 1; progress and reports are written', async (t) => {
  const run = await cli(['--target', deployment.target, '--plan', 'crypto', '--idp-id', 'none', ...client()]);
  t.is(run.status, 1, run.stderr);
  t.regex(run.stdout, /\[\s*1\/\d+\] (PASS|FAIL|SKIP) CRYPTO-/);
  t.regex(run.stdout, /FAIL CRYPTO-JWKS-04/);
  for (const file of ['conformance.json', 'conformance.junit.xml', 'conformance.html']) t.true(existsSync(join(run.out, file)), file);
  const json = JSON.parse(readFileSync(join(run.out, 'conformance.json'), 'utf8')) as { summary: { fail: number } };
  t.true(json.summary.fail >= 1);
});

test.serial('no failing check makes the exit code 0', async (t) => {
  const run = await cli(['--target', deployment.target, '--plan', 'crypto,oidc', '--only', 'CRYPTO-DISC-*,OIDC-CFG-*', '--idp-id', 'none', ...client()]);
  t.is(run.status, 0, run.stdout);
  t.regex(run.stdout, /done: \d+ passed, 0 failed/);
});

test.serial('bad usage exits with 2', async (t) => {
  t.is((await cli(['--plan', 'oidc'])).status, 2);
  t.is((await cli(['--target', deployment.target, '--plan', 'nope'])).status, 2);
});

test.serial('--enrol writes the IdP metadata and the configuration to register', async (t) => {
  const run = await cli(['--target', deployment.target, '--enrol', '--idp-port', '0', ...client()]);
  t.is(run.status, 0, run.stderr);
  const metadata = readFileSync(join(run.out, 'conformance-idp.metadata.xml'), 'utf8');
  t.regex(metadata, /IDPSSODescriptor/);
  const fragment = JSON.parse(readFileSync(join(run.out, 'gateway-config.fragment.json'), 'utf8')) as { saml: { idps: { id: string }[] }; clients: { client_id: string; redirect_uris: string[] }[] };
  t.is(fragment.saml.idps[0]?.id, 'conformance-idp');
  t.deepEqual(fragment.clients[0]?.redirect_uris, [deployment.client.redirectUri]);
});
