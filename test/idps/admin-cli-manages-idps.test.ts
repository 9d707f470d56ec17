/**
 * The IdP admin CLI against a running gateway (same PostgreSQL, Redis and configuration): list, status
 * as the gateway reports it (last refresh, validUntil, key fingerprints, errors), refresh now, disable
 * and enable (applied at once by the running gateway), add (durable, validated) and remove; each change audited.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { prepareDeployment, startGatewayInProcess, type Deployment } from '../harness/deployment.ts';
import { eventually } from '../helpers/eventually.ts';
import { RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../helpers/services.ts';
import { createTestIdp } from '../helpers/saml/test-idp.ts';
import pg from 'pg';
import { sendCommand } from '../../gateway/idps/control.ts';
import { IdpRegistryStore } from '../../gateway/idps/registry-store.ts';
import { migrate } from '../../gateway/store/migrate.ts';
import { recentLogLines } from '../harness/recent-log-lines.ts';

const CLI = fileURLToPath(new URL('../../gateway/idps/cli.ts', import.meta.url));
const run = promisify(execFile);
const token = freshToken();
let dir: string;
let deployment: Deployment;
let running: Awaited<ReturnType<typeof startGatewayInProcess>>;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gw-idp-cli-'));
  const idp = await createTestIdp({ entityId: 'https://mairie.example/md' });
  const pgUrl = await freshDatabase();
  deployment = await prepareDeployment({
    dir,
    pgUrl,
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token,
    rpRedirectUri: RP_REDIRECT,
    extraIdps: [
      { id: 'mairie', displayName: 'Mairie', metadataFile: idp.metadataFile, maxLoa: 'http://eidas.europa.eu/LoA/low' },
    ],
    logLevel: process.env.GW_TEST_LOG_LEVEL ?? 'silent',
  });
  // a registry row this version cannot read (its metadata file is on another host) is there before the boot
  const pool = new pg.Pool({ connectionString: pgUrl });
  await migrate(pool, () => undefined);
  await new IdpRegistryStore(pool).put(
    'unreadable',
    { id: 'unreadable', displayName: 'Unreadable', metadataFile: '/nonexistent/md.xml' },
    'enabled',
    'test',
  );
  // rows that parse but do not fit this deployment: a client it does not have, a key its HSM lacks
  const fitsNot = await createTestIdp({ entityId: 'https://fits-not.example/md' });
  await new IdpRegistryStore(pool).put(
    'for-no-client',
    {
      id: 'for-no-client',
      displayName: 'For no client',
      metadataFile: fitsNot.metadataFile,
      maxLoa: 'http://eidas.europa.eu/LoA/low',
      onlyClients: ['rp-typo'],
    },
    'enabled',
    'test',
  );
  await new IdpRegistryStore(pool).put(
    'keyless',
    {
      id: 'keyless',
      displayName: 'Keyless',
      metadataFile: fitsNot.metadataFile,
      maxLoa: 'http://eidas.europa.eu/LoA/low',
      requestSigningAlgorithm: 'ES384',
    },
    'enabled',
    'test',
  );
  // metadata by URL with no trust anchor: loaded (a legacy IdP may publish unsigned metadata), warned about at boot;
  // and no entityId (a row an earlier version's `add` wrote): loaded, pinned to its first fetch, warned about too
  await new IdpRegistryStore(pool).put(
    'unanchored',
    {
      id: 'unanchored',
      displayName: 'Unanchored',
      metadataUrl: 'https://127.0.0.1:1/md',
      maxLoa: 'http://eidas.europa.eu/LoA/low',
    },
    'enabled',
    'test',
  );
  await pool.end();
  // the registry read again every 300 ms (30 s by default): a command missed on pub/sub is made up quickly here
  running = await startGatewayInProcess(deployment, undefined, { idpReconcileMs: 300 });
});
test.after.always(async () => {
  await running?.stop();
  await deployment?.stop();
});

async function cli(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, '--config', deployment.configFile, ...args], {
      env: { ...process.env, ...deployment.env },
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

const availability = (id: string) => running.gateway.services.adapters.get(id).availability?.();

test.serial('list and status show every IdP as the running gateway sees it', async (t) => {
  const list = await cli('list');
  t.is(list.code, 0, list.stderr);
  t.regex(list.stdout, /^demo-idp legacy enabled /m);
  t.regex(list.stdout, /^mairie legacy enabled /m);
  const status = await cli('status');
  t.regex(
    status.stdout,
    /^demo-idp available lastSuccess=\S+Z validUntil=- nextRefresh=\S+Z failures=0 keys=[0-9a-f]{16} error=- \(reported by the gateway\)$/m,
  );
  t.regex(status.stdout, /^mairie available /m);
});

test.serial(
  'a registry entry this host cannot read stops neither the boot nor the CLI; it is listed and removable',
  async (t) => {
    // the gateway booted (the before hook) and offers the others; the unreadable IdP is not offered at all
    t.is(availability('demo-idp'), 'available');
    t.is(availability('mairie'), 'available');
    t.throws(() => running.gateway.services.adapters.get('unreadable'));
    const list = await cli('list');
    t.is(list.code, 0, list.stderr);
    t.regex(list.stdout, /^mairie legacy enabled /m);
    t.regex(list.stdout, /^unreadable unreadable \(enabled in the registry, not offered\): .*metadataFile/m);
    t.is((await cli('remove', 'unreadable')).code, 0, 'an operator mends it with the CLI');
    t.notRegex((await cli('list')).stdout, /^unreadable /m);
  },
);

test.serial('a registry entry that does not fit this deployment is left out, never stopping the boot', async (t) => {
  // the gateway booted (the before hook) with both rows there: each left out, the others offered
  t.is(availability('demo-idp'), 'available');
  t.throws(() => running.gateway.services.adapters.get('for-no-client'));
  t.throws(() => running.gateway.services.adapters.get('keyless'));
  for (const id of ['for-no-client', 'keyless']) t.is((await cli('remove', id)).code, 0);
});

test.serial('disable hides an IdP in the running gateway at once; enable shows it again', async (t) => {
  t.is((await cli('disable', 'mairie')).code, 0);
  t.true(await eventually(() => availability('mairie') === 'disabled'));
  t.is(availability('demo-idp'), 'available', 'only that IdP');
  t.regex((await cli('list')).stdout, /^mairie legacy disabled /m);
  t.is((await cli('enable', 'mairie')).code, 0);
  t.true(await eventually(() => availability('mairie') === 'available'));
});

test.serial('a control message alone never enables an IdP the registry says is disabled', async (t) => {
  t.is((await cli('disable', 'mairie')).code, 0);
  t.true(await eventually(() => availability('mairie') === 'disabled'));
  // anyone who can publish on Redis sends "enable" again and again; the registry says disabled
  const { redis, config } = running.gateway.services;
  const seen = new Set<string | undefined>();
  for (let i = 0; i < 20; i += 1) {
    await sendCommand(redis, config.redis.keyPrefix, { action: 'enable', idp: 'mairie' });
    await new Promise((resolve) => setTimeout(resolve, 40));
    seen.add(availability('mairie'));
  }
  t.deepEqual([...seen], ['disabled'], 'the registry’s state, never the message’s');
  t.is((await cli('enable', 'mairie')).code, 0);
  t.true(await eventually(() => availability('mairie') === 'available'));
});

test.serial('a gateway that missed the disable command on pub/sub disables the IdP from the registry', async (t) => {
  t.is(availability('mairie'), 'available');
  // the registry changed as the CLI changes it, but no message reached the gateway (its subscriber reconnecting)
  const store = new IdpRegistryStore(running.gateway.services.pool);
  // a row this host cannot read (its metadata file is elsewhere) stops no reconcile: states only are read
  await store.put(
    'elsewhere',
    { id: 'elsewhere', displayName: 'Elsewhere', metadataFile: '/nonexistent/md.xml' },
    'enabled',
    'test',
  );
  await store.put('mairie', null, 'disabled', 'test');
  t.true(await eventually(() => availability('mairie') === 'disabled'), 'disabled without the message');
  await store.put('mairie', null, 'enabled', 'test');
  t.true(await eventually(() => availability('mairie') === 'available'), 'and enabled again');
  await running.gateway.services.pool.query("delete from idp_registry where id = 'elsewhere'"); // for the CLI's tests
});

test.serial('refresh now makes the gateway fetch the metadata again', async (t) => {
  const before = running.gateway.services.adapters.monitor!.status().find((s) => s.id === 'demo-idp')!.lastAttempt;
  await new Promise((resolve) => setTimeout(resolve, 5));
  t.is((await cli('refresh', 'demo-idp')).code, 0);
  t.true(
    await eventually(
      () =>
        running.gateway.services.adapters.monitor!.status().find((s) => s.id === 'demo-idp')!.lastAttempt !== before,
    ),
  );
});

test.serial(
  'add validates and stores an IdP; remove takes it away; unknown ids and bad entries fail with codes',
  async (t) => {
    const other = await createTestIdp({ entityId: 'https://region.example/md' });
    const entry = join(dir, 'region.json');
    writeFileSync(
      entry,
      JSON.stringify({
        id: 'region',
        displayName: 'Région',
        metadataFile: other.metadataFile,
        maxLoa: 'http://eidas.europa.eu/LoA/substantial',
      }),
    );
    t.is((await cli('add', entry)).code, 0);
    t.regex((await cli('list')).stdout, /^region legacy enabled /m);
    t.regex((await cli('status', 'region')).stdout, /^region available .*\(checked by the CLI\)$/m);
    t.is((await cli('remove', 'region')).code, 0);
    t.notRegex((await cli('list')).stdout, /^region /m);
    const unknown = await cli('disable', 'nobody');
    t.is(unknown.code, 1);
    t.regex(unknown.stderr, /^error ADAPTER_UNKNOWN:/);
    writeFileSync(
      entry,
      JSON.stringify({
        id: 'bad',
        displayName: 'Bad',
        metadataFile: other.metadataFile,
        maxLoa: 'http://eidas.europa.eu/LoA/ultra',
      }),
    );
    const bad = await cli('add', entry);
    t.is(bad.code, 1);
    t.regex(bad.stderr, /^error CONFIG_INVALID/);
    writeFileSync(
      entry,
      JSON.stringify({
        id: 'typo',
        displayName: 'Typo',
        metadataFile: other.metadataFile,
        maxLoa: 'http://eidas.europa.eu/LoA/low',
        onlyClients: ['rp-typo'],
      }),
    );
    const typo = await cli('add', entry);
    t.is(typo.code, 1, 'an entry naming a client the deployment does not have is refused by the CLI');
    t.regex(typo.stderr, /^error CONFIG_INVALID.*onlyClients.*rp-typo/s);
    t.notRegex((await cli('list')).stdout, /^typo /m);
    t.is((await cli()).code, 2);
  },
);

test.serial('each change of the registry is audited before it is made, naming who ran it', async (t) => {
  const { rows } = await running.gateway.services.pool.query<{ session_id: string; to_state: string; actor: string }>(
    "select session_id, to_state, details->>'actor' as actor from audit_log where component = 'idps' order by seq",
  );
  t.deepEqual(
    rows.map((r) => `${r.session_id} ${r.to_state}`),
    [
      'idp:unreadable IDP_REMOVED',
      'idp:for-no-client IDP_REMOVED',
      'idp:keyless IDP_REMOVED',
      'idp:mairie IDP_DISABLED',
      'idp:mairie IDP_ENABLED',
      'idp:mairie IDP_DISABLED',
      'idp:mairie IDP_ENABLED',
      'idp:demo-idp IDP_REFRESH_REQUESTED',
      'idp:region IDP_ADDED',
      'idp:region IDP_REMOVED',
    ],
    'the refusals (an unknown id, a bad entry) changed nothing and are not among them',
  );
  for (const row of rows) t.regex(row.actor, /^cli:\S+$/);
  const { rows: added } = await running.gateway.services.pool.query<{ sha256: string; source: string }>(
    "select details->>'sha256' as sha256, details->>'source' as source from audit_log where to_state = 'IDP_ADDED'",
  );
  t.regex(added[0]!.sha256, /^[0-9a-f]{64}$/);
  t.truthy(added[0]!.source);
});

test.serial(
  'metadata fetched by URL with no trust anchor is loaded, and warned about at boot and by add',
  async (t) => {
    t.truthy(running.gateway.services.adapters.get('unanchored'), 'loaded: not refused');
    t.regex(recentLogLines(), /"code":"SAML_METADATA_UNANCHORED".*"idp":"unanchored"/);
    t.regex(
      recentLogLines(),
      /"code":"SAML_METADATA_ENTITY_UNPINNED".*"idp":"unanchored"/,
      'an earlier row without entityId',
    );
    t.notRegex(
      recentLogLines(),
      /"code":"SAML_METADATA_UNANCHORED".*"idp":"(demo-idp|mairie)"/,
      'files are not warned',
    );
    t.is((await cli('remove', 'unanchored')).code, 0);
    const entry = join(dir, 'unanchored.json');
    writeFileSync(
      entry,
      JSON.stringify({
        id: 'unanchored',
        displayName: 'Unanchored',
        metadataUrl: 'https://127.0.0.1:1/md',
        entityId: 'https://unanchored.example/md',
        maxLoa: 'http://eidas.europa.eu/LoA/low',
      }),
    );
    const { entityId: _pinned, ...unpinned } = JSON.parse(readFileSync(entry, 'utf8')) as Record<string, unknown>;
    writeFileSync(entry, JSON.stringify(unpinned));
    const refused = await cli('add', entry);
    t.is(refused.code, 1, 'add refuses metadata by URL without its entityId');
    t.regex(refused.stderr, /^error CONFIG_INVALID.*entityId/s);
    writeFileSync(entry, JSON.stringify({ ...unpinned, entityId: 'https://unanchored.example/md' }));
    const added = await cli('add', entry);
    t.is(added.code, 0, added.stderr);
    t.regex(
      added.stderr,
      /^warning: unanchored: metadata fetched from https:\/\/127\.0\.0\.1:1\/md with no trust anchor/m,
    );
    t.is((await cli('remove', 'unanchored')).code, 0);
  },
);

test.serial('an entry replaced while disabled stays disabled: add never puts it back in service', async (t) => {
  const other = await createTestIdp({ entityId: 'https://compromised.example/md' });
  const entry = join(dir, 'compromised.json');
  const write = () =>
    writeFileSync(
      entry,
      JSON.stringify({
        id: 'compromised',
        displayName: 'Compromised',
        metadataFile: other.metadataFile,
        maxLoa: 'http://eidas.europa.eu/LoA/low',
      }),
    );
  write();
  t.is((await cli('add', entry)).code, 0);
  t.is((await cli('disable', 'compromised')).code, 0); // its key compromised
  write(); // the mended entry (new metadata), `enabled` left to its default
  const replaced = await cli('add', entry);
  t.is(replaced.code, 0, replaced.stderr);
  t.regex(replaced.stdout, /^replaced compromised, kept disabled: restart the gateways/m);
  t.regex((await cli('list')).stdout, /^compromised legacy disabled /m);
  // removed, then added again: running gateways still hold the old entry, and their reconcile would enable it
  t.is((await cli('remove', 'compromised')).code, 0);
  const readded = await cli('add', entry);
  t.regex(readded.stdout, /^replaced compromised, kept disabled/m);
  t.regex((await cli('list')).stdout, /^compromised legacy disabled /m);
  t.is((await cli('remove', 'compromised')).code, 0);
});
