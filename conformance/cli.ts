/**
 * The conformance suite's command line: runs the chosen plans against ANY deployment, over HTTP only,
 * prints progress, writes JSON, JUnit XML and HTML reports, and exits non-zero when a check fails.
 *
 *   node conformance/cli.ts --target https://gateway.example --plan oidc,saml,eidas,crypto --out report/
 *   node conformance/cli.ts --target https://gateway.example --enrol --out enrol/   (IdP metadata + config to register)
 *
 * Exit codes: 0 no check failed, 1 at least one failed, 2 bad usage or the suite could not start.
 * See conformance/README.md ("Running the suite") for enrolment of the suite IdP and RP.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startSuiteEidasNode } from './suite/parties/eidas-node.ts';
import { startSuiteIdp } from './suite/parties/idp.ts';
import { writeReports } from './suite/reporters/index.ts';
import { runSuite } from './suite/runner.ts';
import { PLANS, type PlanName } from './suite/types.ts';

const usage = `usage: node conformance/cli.ts --target <issuer URL> [options]
  --plan <list>                   plans, comma-separated (default ${PLANS.join(',')})
  --only <ids>                    only these check ids (comma-separated; a trailing * is a prefix)
  --out <dir>                     report directory (default report/)
  --client-id <id>                the suite RP's client_id (default conformance-rp)
  --client-secret-env <name>      environment variable holding its secret (default CONFORMANCE_CLIENT_SECRET)
  --redirect-uri <url>            its registered redirect URI (default http://127.0.0.1:7500/callback)
  --post-logout-redirect-uri <u>  its registered post_logout_redirect_uri (default: redirect URI origin + /)
  --alternate-redirect-uri <url>  a second registered redirect URI on another host, under the client's
                                  sector_identifier_uri (OIDC-RPI-01; skipped without it)
  --scope <scope>                 default "openid profile email"
  --idp-id <id>                   the suite IdP's id in the deployment's registry (default conformance-idp; "none" = no IdP)
  --idp-port <port>               the suite IdP's port on 127.0.0.1 (default 7400)
  --idp-base-url <url>            its public base URL when proxied (default http://127.0.0.1:<port>)
  --idp-keys <dir>                its key and certificate, kept across runs (default var/conformance-idp)
  --eidas-id <id>                 the suite eIDAS node's id in the registry, registered as an eIDAS IdP
                                  (default none: eIDAS Response rules are skipped; enrolment uses conformance-eidas)
  --eidas-port <port>             the eIDAS node's port on 127.0.0.1 (default 7401)
  --eidas-base-url <url>          its public base URL when proxied (default http://127.0.0.1:<port>)
  --eidas-keys <dir>              its keys and metadata trust anchor, kept across runs (default var/conformance-eidas)
  --sp-metadata <url>             the deployment's SAML SP metadata (default <target>/saml/metadata)
  --enrol                         start the IdP and eIDAS node, write their metadata and the config to register, then exit`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${usage}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    plan: { type: 'string', default: PLANS.join(',') },
    only: { type: 'string' },
    out: { type: 'string', default: 'report' },
    'client-id': { type: 'string', default: 'conformance-rp' },
    'client-secret-env': { type: 'string', default: 'CONFORMANCE_CLIENT_SECRET' },
    'redirect-uri': { type: 'string', default: 'http://127.0.0.1:7500/callback' },
    'post-logout-redirect-uri': { type: 'string' },
    'alternate-redirect-uri': { type: 'string' },
    scope: { type: 'string', default: 'openid profile email' },
    'idp-id': { type: 'string', default: 'conformance-idp' },
    'idp-port': { type: 'string', default: '7400' },
    'idp-base-url': { type: 'string' },
    'idp-keys': { type: 'string', default: 'var/conformance-idp' },
    'eidas-id': { type: 'string', default: 'none' },
    'eidas-port': { type: 'string', default: '7401' },
    'eidas-base-url': { type: 'string' },
    'eidas-keys': { type: 'string', default: 'var/conformance-eidas' },
    'sp-metadata': { type: 'string' },
    enrol: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
if (values.target === undefined) fail('--target is required');
const target = values.target.replace(/\/+$/, '');
const plans = values.plan.split(',').map((p) => p.trim());
const unknown = plans.filter((p) => !(PLANS as readonly string[]).includes(p));
if (unknown.length > 0) fail(`unknown plan(s): ${unknown.join(', ')}`);
const port = Number(values['idp-port']);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail('--idp-port must be a port number');
const spMetadataUrl = values['sp-metadata'] ?? `${target}/saml/metadata`;
const redirectUri = values['redirect-uri'];
const postLogoutRedirectUri = values['post-logout-redirect-uri'] ?? new URL('/', redirectUri).href;
const useIdp = values['idp-id'] !== 'none';
const eidasPort = Number(values['eidas-port']);
if (!Number.isInteger(eidasPort) || eidasPort < 0 || eidasPort > 65535) fail('--eidas-port must be a port number');
const eidasId = values['eidas-id'] === 'none' ? (values.enrol ? 'conformance-eidas' : undefined) : values['eidas-id'];

const started = useIdp
  ? await startSuiteIdp({
      idpId: values['idp-id'],
      port,
      spMetadataUrl,
      keysDir: resolve(values['idp-keys']),
      ...(values['idp-base-url'] ? { baseUrl: values['idp-base-url'] } : {}),
    })
  : undefined;

const node =
  eidasId === undefined
    ? undefined
    : await startSuiteEidasNode({
        idpId: eidasId,
        port: eidasPort,
        spMetadataUrl,
        keysDir: resolve(values['eidas-keys']),
        ...(values['eidas-base-url'] ? { baseUrl: values['eidas-base-url'] } : {}),
      });

try {
  if (values.enrol) {
    if (started === undefined) fail('--enrol needs the suite IdP (--idp-id)');
    const dir = resolve(values.out);
    mkdirSync(dir, { recursive: true });
    const metadataFile = join(dir, `${values['idp-id']}.metadata.xml`);
    writeFileSync(metadataFile, await (await fetch(started.idp.metadataUrl)).text());
    const anchorFile = join(dir, `${node!.node.idpId}.trust-anchor.pem`);
    writeFileSync(anchorFile, node!.node.trustAnchorPem);
    writeFileSync(join(dir, `${node!.node.idpId}.metadata.xml`), await (await fetch(node!.node.metadataUrl)).text());
    const eidasEntry = {
      id: node!.node.idpId,
      kind: 'eidas',
      displayName: 'Conformance eIDAS node',
      metadataUrl: node!.node.metadataUrl,
      entityId: node!.node.entityId,
      maxLoa: 'http://eidas.europa.eu/LoA/high',
      // its keys are on this machine: only the suite's own client may ever use it (never a production RP)
      onlyClients: [values['client-id']],
      metadata: { trustAnchorFiles: [anchorFile] },
      eidas: { country: 'DE' },
    };
    const config = {
      saml: {
        idps: [
          {
            id: values['idp-id'],
            displayName: 'Conformance IdP',
            metadataFile,
            maxLoa: 'http://eidas.europa.eu/LoA/high',
            onlyClients: [values['client-id']],
          },
          eidasEntry,
        ],
      },
      clients: [
        {
          client_id: values['client-id'],
          client_name: 'Conformance suite',
          client_secret: { env: values['client-secret-env'] },
          redirect_uris: [redirectUri],
          post_logout_redirect_uris: [postLogoutRedirectUri],
          scope: values.scope,
        },
      ],
    };
    writeFileSync(join(dir, 'gateway-config.fragment.json'), `${JSON.stringify(config, null, 2)}\n`);
    process.stdout.write(
      `suite IdP metadata: ${metadataFile}\neIDAS node trust anchor: ${anchorFile} (its metadata is fetched by URL: ${node!.node.metadataUrl})\nconfig to merge:    ${join(dir, 'gateway-config.fragment.json')}\n${JSON.stringify(config, null, 2)}\n` +
        `\nThe suite's IdP and eIDAS node sign with keys kept on this machine and assert whoever the suite says, at LoA high.\n` +
        `They are registered for the suite's client only (onlyClients: ${values['client-id']}): no other relying party is\n` +
        `offered them, can name them or gets a login through a session on them. Remove both entries and the client from\n` +
        `the gateway's configuration once the run is over.\n`,
    );
  } else {
    const secret = process.env[values['client-secret-env']];
    if (secret === undefined || secret === '')
      fail(`the client secret is read from $${values['client-secret-env']}, which is empty`);
    const report = await runSuite({
      target,
      plans: plans as PlanName[],
      ...(values.only === undefined ? {} : { only: values.only.split(',').map((s) => s.trim()) }),
      client: {
        clientId: values['client-id'],
        clientSecret: secret,
        redirectUri,
        postLogoutRedirectUri,
        scope: values.scope,
        ...(values['alternate-redirect-uri'] === undefined
          ? {}
          : { alternateRedirectUri: values['alternate-redirect-uri'] }),
      },
      ...(started === undefined ? {} : { idp: started.idp }),
      ...(node === undefined ? {} : { eidasNode: node.node }),
      spMetadataUrl,
      progress: (line) => process.stdout.write(`${line}\n`),
    });
    const paths = writeReports(report, values.out);
    process.stdout.write(`reports: ${paths.html}\n         ${paths.junit}\n         ${paths.json}\n`);
    // nothing judged (--only matched nothing, or every check was skipped) is no green run: 3, said so
    const judged = report.summary.pass + report.summary.fail;
    if (judged === 0)
      process.stderr.write('no check was judged: --only matched nothing, or every check was skipped (see why above)\n');
    process.exitCode = report.summary.fail > 0 ? 1 : judged === 0 ? 3 : 0;
  }
} finally {
  await started?.stop();
  await node?.stop();
}
