/**
 * `make run`: the gateway with a demo SAML IdP and a demo RP, on 127.0.0.1, from nothing.
 *
 * 1. PostgreSQL and Redis as local processes under var/ (data kept between runs), on free ports;
 * 2. a SoftHSM2 token under var/softhsm (initialised once; PINs in var/secrets.json, mode 0600) with
 *    the signing keys generated inside it, non-extractable;
 * 3. the development PKI (certs/generated), the demo IdP, the gateway (its own process, logs in
 *    var/log/gateway.log), the demo RP; then it prints the URL to open. Ctrl-C stops everything.
 *
 * Ports: GW_PORT (3000), GW_IDP_PORT (3001), GW_RP_PORT (3002), GW_OPS_PORT (3009: the operations listener —
 * admin API, /metrics, /ready — on 127.0.0.1, with the operators alice and bob, whose credentials are in
 * var/secrets.json; the banner prints a curl line).
 */
import { availableParallelism } from 'node:os';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startDemoRp } from '../../conformance/oidc-rp/index.ts';
import { prepareDeployment, newDeploymentSecrets, startGatewayProcess, type DeploymentSecrets } from './deployment.ts';
import { startStack } from './stack.ts';
import { initToken, type TokenHandle } from './services/softhsm.ts';
import { createDatabase } from './services/postgres.ts';
import pg from 'pg';

const root = resolve(import.meta.dirname, '../..');
const varDir = join(root, 'var');
const ports = {
  gateway: Number(process.env.GW_PORT ?? 3000),
  idp: Number(process.env.GW_IDP_PORT ?? 3001),
  rp: Number(process.env.GW_RP_PORT ?? 3002),
  ops: Number(process.env.GW_OPS_PORT ?? 3009),
};
const say = (line: string) => console.log(`run: ${line}`);

interface DemoSecrets extends DeploymentSecrets {
  token?: TokenHandle;
  /** The demo resource server's secret (`resourceServers`: it introspects the demo RP's access tokens). */
  demoApiSecret?: string;
}

function loadSecrets(): DemoSecrets {
  const file = join(varDir, 'secrets.json');
  if (existsSync(file)) {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as DemoSecrets;
    if (kept.aliceToken && kept.bobToken) return kept;
    // secrets of a run before the operations listener: add the operators' credentials once
    const fresh = newDeploymentSecrets();
    const upgraded = { ...kept, aliceToken: fresh.aliceToken, bobToken: fresh.bobToken };
    saveSecrets(upgraded);
    return upgraded;
  }
  const secrets = newDeploymentSecrets();
  saveSecrets(secrets);
  return secrets;
}

function saveSecrets(secrets: DemoSecrets): void {
  const file = join(varDir, 'secrets.json');
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
}

async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
  await client.end();
  if (!rowCount) return createDatabase(adminUrl, name);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

mkdirSync(join(varDir, 'log'), { recursive: true });
chmodSync(varDir, 0o755);
say('starting PostgreSQL and Redis under var/ (first run: initialising)…');
const stack = await startStack(varDir, {}, (line) => say(line.replace(/^stack: /, '')));
const stoppers: Array<() => Promise<unknown>> = [() => stack.stop()];
let stopping = false;
const stopAll = async (code: number) => {
  if (stopping) return;
  stopping = true;
  say('stopping…');
  for (const stop of stoppers.reverse()) {
    try {
      await stop();
    } catch (error) {
      console.error(`run: stop failed: ${(error as Error).message}`);
    }
  }
  say('stopped.');
  process.exit(code);
};
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  const secrets = loadSecrets();
  process.env.SOFTHSM2_CONF = stack.softhsm.conf;
  const tokensDir = join(varDir, 'softhsm', 'tokens');
  if (!secrets.token || readdirSync(tokensDir).length === 0) {
    say('initialising the SoftHSM2 token "gateway"…');
    secrets.token = initToken(stack.softhsm, `gateway-${randomBytes(2).toString('hex')}`);
    saveSecrets(secrets);
  }
  const pgUrl = await ensureDatabase(stack.postgres.url, 'gateway');
  say('generating keys in the token (if missing) and starting the demo IdP…');
  const deployment = await prepareDeployment({
    dir: varDir,
    pgUrl,
    redisUrl: stack.redis.url,
    redisKeyPrefix: 'gw:',
    token: secrets.token,
    gatewayPort: ports.gateway,
    opsPort: ports.ops,
    idpPort: ports.idp,
    // localhost, not 127.0.0.1: browsers accept localhost as a WebAuthn RP ID (an IP address is refused)
    gatewayHost: 'localhost',
    rpRedirectUri: `http://localhost:${ports.rp}/callback`,
    pkiDir: join(root, 'certs', 'generated'),
    logLevel: 'info',
    secrets,
  });
  stoppers.push(() => deployment.stop());
  say(`demo IdP on ${deployment.idp.url}`);
  // a resource server of the demo RP's, with credentials of its own: it can only introspect the RP's access tokens
  if (secrets.demoApiSecret === undefined) {
    secrets.demoApiSecret = randomBytes(32).toString('base64url');
    saveSecrets(secrets);
  }
  deployment.env.GW_DEMO_API_SECRET = secrets.demoApiSecret;
  deployment.rawConfig.resourceServers = [
    { client_id: 'demo-api', client_secret: { env: 'GW_DEMO_API_SECRET' }, introspects: [deployment.client.client_id] },
  ];
  // the example, complete, with the product's defaults: the tests' per-identity bucket (raised for the same few
  // people logged in hundreds of times) is no setting to copy into a deployment
  delete deployment.rawConfig.rateLimit;
  writeFileSync(deployment.configFile, JSON.stringify(deployment.rawConfig, null, 2));
  const logFile = join(varDir, 'log', 'gateway.log');
  // GW_WORKERS=N make run: N worker processes (default the number of cores; 1 = one process, no cluster)
  const gateway = await startGatewayProcess(deployment, ports.gateway, logFile, {
    workers: Number(process.env.GW_WORKERS ?? availableParallelism()),
  });
  stoppers.push(() => gateway.stop());
  gateway.child.once('exit', (code) => {
    if (!stopping) {
      console.error(`run: the gateway exited (${code}); see ${logFile}`);
      void stopAll(1);
    }
  });
  say(`gateway on ${gateway.url} (logs: ${logFile})`);
  say(
    `operations listener on ${gateway.opsUrl} (operators alice: reviewer+metrics+admin, bob: reviewer; credentials in var/secrets.json)`,
  );
  say(
    `  curl -H "Authorization: Bearer $(node -p 'require("./var/secrets.json").aliceToken')" ${gateway.opsUrl}/admin/reviews`,
  );
  say(`resource server demo-api introspects ${deployment.client.client_id}'s access tokens (README: resourceServers):`);
  say(
    `  curl -u "demo-api:$(node -p 'require("./var/secrets.json").demoApiSecret')" -d token=<access token> ${deployment.gatewayUrl}/token/introspection`,
  );
  const rp = await startDemoRp({
    port: ports.rp,
    issuer: deployment.gatewayUrl,
    clientId: deployment.client.client_id,
    clientSecret: deployment.client.client_secret,
    redirectUri: deployment.client.redirect_uri,
  });
  stoppers.push(() => rp.stop());
  console.log(`
  ┌──────────────────────────────────────────────────────────────┐
  │  Open ${new URL(deployment.client.redirect_uri).origin.padEnd(55)}│
  │  Log in as marie / marie-demo (also jean, alex: see IdP page) │
  │  Ctrl-C stops everything.                                     │
  └──────────────────────────────────────────────────────────────┘
`);
} catch (error) {
  console.error(`run: ${(error as Error).stack ?? error}`);
  await stopAll(1);
}
