/**
 * A complete local deployment of the gateway with its demo parties, used by `make run` (demo.ts) and by
 * end-to-end tests: the development PKI, the samlify demo IdP, SigningKeys generated inside the SoftHSM2
 * token, the gateway configuration (secrets passed by environment, as in production), and the gateway
 * itself — in this process or as child processes (to prove instances are stateless).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDevPki } from '../../certs/dev-pki.ts';
import { startDemoIdp, type DemoIdp } from '../../conformance/saml-idp/index.ts';
import { attachUpgrade } from '../../gateway/interaction/signals-websocket.ts';
import { answerClientErrors } from '../../gateway/http/client-error.ts';
import { createOpsServer, opsScheme } from '../../gateway/http/ops-server.ts';
import { bootGateway, type BootOptions, type Gateway } from '../../gateway/boot.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { DEFAULT_KEY_SPEC, ensureKeys, openKeyStore } from '../../hsm/token-keystore.ts';
import { TokenKek } from '../../hsm/hierarchy/kek.ts';
import type { AlgorithmName } from '../../hsm/algorithms.ts';
import type { KeyPurpose } from '../../hsm/signer.ts';
import type { TokenHandle } from './services/softhsm.ts';
import { freePort, PortInUseError } from './services/free-port.ts';
import { ringLogger } from './recent-log-lines.ts';
import { idpMetadata } from './idp-metadata.ts';

const UNHURRIED_BUDGETS = { behaviour: 10_000, device: 10_000, transaction: 10_000, correlation: 10_000 };

const MAIN = fileURLToPath(new URL('../../gateway/main.ts', import.meta.url));

export interface DeploymentOptions {
  dir: string;
  pgUrl: string;
  redisUrl: string;
  redisKeyPrefix: string;
  token: TokenHandle;
  gatewayPort?: number;
  /** The operations listener's port (default: a free one). */
  opsPort?: number;
  /** The host name of the issuer (default 127.0.0.1; `localhost` where WebAuthn needs a domain RP ID). */
  gatewayHost?: string;
  idpPort?: number;
  /** Where the RP says it will receive the code (the demo RP's /callback, or a test's own URL). */
  rpRedirectUri: string;
  pkiDir?: string;
  logLevel?: string;
  /** The demo RP's back-channel logout endpoint (OIDC Back-Channel Logout 1.0), when it has one. */
  rpBackchannelLogoutUri?: string;
  /** The demo RP's Shared Signals receiver (`ssf` of its client entry), when it has one. */
  rpSsf?: { endpoint: string; events: string[] };
  /** Extra relying parties (raw client config entries). */
  extraClients?: unknown[];
  /** Extra upstream IdPs (raw `saml.idps` entries, e.g. the conformance suite's programmable IdP). */
  extraIdps?: unknown[];
  /** Extra HSM keys to make before boot (e.g. a PS256 `saml` key for eIDAS requests). */
  extraKeys?: { purpose: KeyPurpose; alg: AlgorithmName }[];
  /**
   * `federation.skipChooserWithOneIdp` (the product's default is true). The harness defaults to false: the
   * suites were written against the chooser page (its behavioural script, its form), and most deployments
   * here have one IdP. A test of the skip passes true.
   */
  skipChooserWithOneIdp?: boolean;
  /** A risk policy set's JSON file (`risk.policyFile`); the built-in policy when absent. */
  riskPolicyFile?: string;
  /** Register the demo IdP from metadata without its SingleLogoutService (an IdP that takes no part in SLO). */
  demoIdpWithoutSlo?: boolean;
  /** Stable secrets (make run keeps them in var/ so pairwise subs survive restarts); random otherwise. */
  secrets?: DeploymentSecrets;
}

export interface DeploymentSecrets {
  cookieKey: string;
  pairwiseSalt: string;
  browserBindingKey: string;
  rpSecret: string;
  /** The operators' credentials (make run keeps them; random otherwise). */
  aliceToken?: string;
  bobToken?: string;
}

/**
 * The operators of a deployment (`ops.operators`): alice reviews, reads metrics and IdP status, revokes
 * sessions; bob reviews. Two reviewers, so a level-3 review can be approved by two distinct operators.
 */
export const OPERATORS = { alice: ['reviewer', 'metrics', 'admin', 'revoker'], bob: ['reviewer'] } as const;
export type OperatorName = keyof typeof OPERATORS;

export function newDeploymentSecrets(): DeploymentSecrets {
  return {
    cookieKey: secretValue(),
    pairwiseSalt: secretValue(),
    browserBindingKey: secretValue(),
    rpSecret: secretValue(),
    aliceToken: secretValue(),
    bobToken: secretValue(),
  };
}

/** The raw config of one instance listening on `port`: another instance has its own operations port. */
async function instanceConfig(deployment: Deployment, port: number): Promise<Record<string, unknown>> {
  if (String(port) === new URL(deployment.gatewayUrl).port) return deployment.rawConfig;
  const ops = deployment.rawConfig.ops as Record<string, unknown>;
  return {
    ...deployment.rawConfig,
    listen: { host: '127.0.0.1', port },
    ops: { ...ops, listen: { host: '127.0.0.1', port: await freePort() } },
  };
}

export interface Deployment {
  gatewayUrl: string;
  /** The operations listener (admin API, /metrics, /ready) of the instance on the issuer's port. */
  opsUrl: string;
  /** Each operator's bearer credential. */
  operatorTokens: Record<OperatorName, string>;
  idp: DemoIdp;
  client: { client_id: string; client_secret: string; redirect_uri: string };
  /** Environment (secrets) and config file a gateway process needs. */
  env: NodeJS.ProcessEnv;
  configFile: string;
  rawConfig: Record<string, unknown>;
  stop(): Promise<void>;
}

function secretValue(): string {
  return randomBytes(32).toString('base64url');
}

export async function prepareDeployment(options: DeploymentOptions): Promise<Deployment> {
  mkdirSync(options.dir, { recursive: true });
  const pki = ensureDevPki(options.pkiDir ?? join(options.dir, 'pki'));
  const gatewayPort = options.gatewayPort ?? (await freePort());
  const gatewayUrl = `http://${options.gatewayHost ?? '127.0.0.1'}:${gatewayPort}`;
  const opsPort = options.opsPort ?? (await freePort());
  // with a host name and a known port the IdP is on the same host as the gateway: one site, so the
  // SameSite=Lax browser-binding cookie reaches the ACS with the IdP's POST (make run: localhost)
  const idpBase =
    options.gatewayHost !== undefined && options.idpPort !== undefined
      ? { baseUrl: `http://${options.gatewayHost}:${options.idpPort}` }
      : {};
  const idp = await startDemoIdp({
    port: options.idpPort ?? 0,
    spMetadataUrl: `${gatewayUrl}/saml/metadata`,
    keys: pki,
    ...idpBase,
  });
  try {
    const fetched = await idpMetadata(idp.metadataUrl);
    const metadata = options.demoIdpWithoutSlo
      ? fetched.replace(/<(?:\w+:)?SingleLogoutService\b[^>]*(?:\/>|>[\s\S]*?<\/(?:\w+:)?SingleLogoutService>)/g, '')
      : fetched;
    const metadataFile = join(options.dir, 'demo-idp.metadata.xml');
    writeFileSync(metadataFile, metadata);

    const keys = await openKeyStore({
      library: options.token.library,
      tokenLabel: options.token.label,
      pin: options.token.pin,
    });
    try {
      await ensureKeys(keys, [...DEFAULT_KEY_SPEC, ...(options.extraKeys ?? [])]);
      // the KEK of the key hierarchy: the session store seals under DEKs wrapped by it
      await TokenKek.ensure(keys.token);
    } finally {
      await keys.close();
    }

    const secrets = options.secrets ?? newDeploymentSecrets();
    const client = { client_id: 'demo-rp', client_secret: secrets.rpSecret, redirect_uri: options.rpRedirectUri };
    const env: NodeJS.ProcessEnv = {
      GW_DATABASE_URL: options.pgUrl,
      GW_REDIS_URL: options.redisUrl,
      GW_HSM_PIN: options.token.pin,
      GW_COOKIE_KEY: secrets.cookieKey,
      GW_PAIRWISE_SALT: secrets.pairwiseSalt,
      GW_BROWSER_BINDING_KEY: secrets.browserBindingKey,
      GW_DEMO_RP_SECRET: client.client_secret,
      GW_OPERATOR_ALICE: secrets.aliceToken ?? secretValue(),
      GW_OPERATOR_BOB: secrets.bobToken ?? secretValue(),
    };
    const operatorTokens = { alice: env.GW_OPERATOR_ALICE!, bob: env.GW_OPERATOR_BOB! };
    const rawConfig: Record<string, unknown> = {
      issuer: gatewayUrl,
      listen: { host: '127.0.0.1', port: gatewayPort },
      // admin API, /metrics and /ready: their own loopback listener, per-operator credentials
      ops: {
        enabled: true,
        listen: { host: '127.0.0.1', port: opsPort },
        operators: Object.entries(OPERATORS).map(([name, roles]) => ({
          name,
          token: { env: `GW_OPERATOR_${name.toUpperCase()}` },
          roles,
        })),
      },
      database: { url: { env: 'GW_DATABASE_URL' } },
      redis: { url: { env: 'GW_REDIS_URL' }, keyPrefix: options.redisKeyPrefix },
      hsm: { library: options.token.library, tokenLabel: options.token.label, pin: { env: 'GW_HSM_PIN' } },
      secrets: {
        cookieKeys: [{ env: 'GW_COOKIE_KEY' }],
        pairwiseSalt: { env: 'GW_PAIRWISE_SALT' },
        browserBindingKey: { env: 'GW_BROWSER_BINDING_KEY' },
      },
      // signed audit checkpoints are also appended here, outside the database (make run: var/)
      audit: { anchorFile: join(options.dir, 'audit-anchor.jsonl') },
      ...(options.riskPolicyFile === undefined ? {} : { risk: { policyFile: options.riskPolicyFile } }),
      federation: { skipChooserWithOneIdp: options.skipChooserWithOneIdp ?? false },
      saml: {
        idps: [
          {
            id: 'demo-idp',
            displayName: 'Demo IdP (samlify)',
            metadataFile,
            maxLoa: 'http://eidas.europa.eu/LoA/high',
          },
          ...(options.extraIdps ?? []),
        ],
      },
      clients: [
        {
          client_id: client.client_id,
          client_name: 'Demo relying party',
          client_secret: { env: 'GW_DEMO_RP_SECRET' },
          redirect_uris: [client.redirect_uri],
          post_logout_redirect_uris: [new URL('/', client.redirect_uri).toString()],
          scope: 'openid profile birth email',
          // opts in to rotating refresh tokens (issue #12 item 5)
          grant_types: ['authorization_code', 'refresh_token'],
          ...(options.rpBackchannelLogoutUri === undefined
            ? {}
            : { backchannel_logout_uri: options.rpBackchannelLogoutUri }),
          ...(options.rpSsf === undefined ? {} : { ssf: options.rpSsf }),
        },
        ...(options.extraClients ?? []),
      ],
      logging: { level: options.logLevel ?? 'warn' },
      // Tests log the same few people in hundreds of times (as with permissivePolicyFile, the risk policy): the
      // per-identity buckets (default 30, then three a minute) are under test in test/gateway/ratelimit/ only,
      // which set their own `rateLimit`.
      rateLimit: { perIdentity: { capacity: 100_000, perSecond: 1_000 } },
    };
    const configFile = join(options.dir, 'gateway.config.json');
    writeFileSync(configFile, JSON.stringify(rawConfig, null, 2));
    return {
      gatewayUrl,
      opsUrl: `http://127.0.0.1:${opsPort}`,
      operatorTokens,
      idp,
      client,
      env,
      configFile,
      rawConfig,
      stop: () => idp.stop(),
    };
  } catch (error) {
    await idp.stop();
    throw error;
  }
}

/** Boots the gateway in this process and listens on the deployment's port (and its operations port). */
/**
 * Listens on `port`; a port taken since `freePort()` handed it out (by a process outside the harness, or an
 * outgoing connection) rejects with `PortInUseError` instead of an uncaught `EADDRINUSE`: the caller may start
 * again on other ports (`startGatewayFixture` does).
 */
function listenOn(server: Server, port: number, host: string, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(port, what, error.message) : error);
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

export async function startGatewayInProcess(
  deployment: Deployment,
  port?: number,
  bootOptions?: BootOptions,
): Promise<{ gateway: Gateway; server: Server; url: string; opsUrl: string; stop(): Promise<void> }> {
  const config = loadConfig(await instanceConfig(deployment, port ?? Number(new URL(deployment.gatewayUrl).port)), {
    env: deployment.env,
  });
  // Tests of whole logins run on a shared, loaded machine: unhurried stage budgets keep a normal path
  // normal (degraded modes are tested with injected slowness in test/risk/). A test may pass its own.
  // a test's silent gateway still keeps its warnings and errors, printed when a login fails (recent-log-lines.ts)
  const logger = bootOptions?.logger ?? (config.logging.level === 'silent' ? ringLogger() : undefined);
  const gateway = await bootGateway(config, {
    ...bootOptions,
    ...(logger ? { logger } : {}),
    fraud: { budgets: UNHURRIED_BUDGETS, ...bootOptions?.fraud },
  });
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's handler settles each request itself (ctx.onerror): its promise never rejects
  const server = createServer(gateway.app.callback());
  attachUpgrade(server, gateway.services);
  answerClientErrors(server, gateway.services.logger);
  // A test's clients (Playwright's route.fetch, undici) keep sockets alive across a login's steps; with
  // Node's 5 s default the server may close an idle socket just as a slow (loaded) test reuses it, and the
  // request dies with ECONNRESET (seen in CI-like runs). Idle sockets here live as long as the test: `stop`
  // closes every connection.
  server.keepAliveTimeout = 10 * 60_000;
  const listenPort = port ?? config.listen.port;
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's handler settles each request itself (ctx.onerror): its promise never rejects
  const opsServer = createOpsServer(config.ops, gateway.opsApp.callback());
  answerClientErrors(opsServer, gateway.services.logger);
  try {
    await listenOn(server, listenPort, '127.0.0.1', 'the gateway');
    await listenOn(opsServer, config.ops.listen.port, config.ops.listen.host, "the gateway's operations listener");
  } catch (error) {
    server.close();
    opsServer.close();
    await gateway.close();
    throw error;
  }
  return {
    gateway,
    server,
    // the issuer's own name when listening on its port (the gateway serves only the configured host)
    url: String(listenPort) === new URL(config.issuer).port ? config.issuer : `http://127.0.0.1:${listenPort}`,
    opsUrl: `${opsScheme(config.ops)}://127.0.0.1:${config.ops.listen.port}`,
    async stop() {
      server.closeAllConnections();
      opsServer.closeAllConnections();
      await new Promise<void>((resolve) => opsServer.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.close();
    },
  };
}

/** Starts `node gateway/main.ts` as a child process on `port` (same config and secrets). */
export async function startGatewayProcess(
  deployment: Deployment,
  port: number,
  logFile?: string,
  options: { workers?: number } = {},
): Promise<{ child: ChildProcess; url: string; opsUrl: string; stop(): Promise<void> }> {
  // one process unless the test asks for a cluster (`workers`, default the number of cores in production)
  const config: Record<string, unknown> = {
    ...(await instanceConfig(deployment, port)),
    workers: options.workers ?? 1,
  };
  const opsPort = (config.ops as { listen: { port: number } }).listen.port;
  const file = deployment.configFile.replace(/\.json$/, `.${port}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  const child = fork(MAIN, ['--config', file], {
    env: { ...process.env, ...deployment.env },
    stdio: logFile ? ['ignore', 'pipe', 'pipe', 'ipc'] : 'inherit',
  });
  if (logFile) {
    const { createWriteStream } = await import('node:fs');
    const out = createWriteStream(logFile, { flags: 'a' });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
  }
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) =>
      reject(new Error(`gateway process exited with ${code} before it was ready${logFile ? ` (see ${logFile})` : ''}`)),
    );
  });
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    opsUrl: `${(config.ops as { tls?: unknown }).tls ? 'https' : 'http'}://127.0.0.1:${opsPort}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return; // already gone (exited, or killed)
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
