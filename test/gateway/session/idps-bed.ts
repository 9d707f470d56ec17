/**
 * The session bed with more IdPs beside the demo IdP (independent samlify IdPs, each with its own keys, reading the
 * gateway's metadata at first use), and a person's logins at them on one session (a step-up at another IdP): the
 * beds of the tests of logouts that reach every IdP a session stood on.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevPki } from '../../../certs/dev-pki.ts';
import { startDemoIdp, type DemoIdp, type DemoUser } from '../../../conformance/saml-idp/index.ts';
import { freePort } from '../../harness/services/free-port.ts';
import type { Browser } from '../../helpers/browser.ts';
import { logIn, startSessionBed, type LoggedIn, type SessionBed } from './session-bed.ts';
import { idpMetadata } from '../../harness/idp-metadata.ts';

/** The ids the extra IdPs are registered under, in order. */
export const EXTRA_IDP_IDS = ['second-idp', 'third-idp'] as const;

export interface IdpsBed {
  bed: SessionBed;
  /** The extra IdPs, in the order of {@link EXTRA_IDP_IDS}. */
  idps: DemoIdp[];
  stop(): Promise<void>;
}

/**
 * The bed with `count` extra IdPs (`withoutSlo`: registered without their logout service; `hsm`: its fields set;
 * `users`: the people the extra IdPs know, instead of the demo users; `alsoAs`: the first extra IdP registered again
 * under this id, one IdP with two registry entries as an eIDAS node's natural- and legal-person logins are;
 * `onlyClients`: the extra IdPs registered for these RPs only; `moreClients`: more RPs, as the session bed's).
 */
export async function startIdpsBed(
  count: number,
  options: {
    withoutSlo?: boolean;
    hsm?: Record<string, unknown>;
    users?: readonly DemoUser[];
    alsoAs?: string;
    onlyClients?: string[];
    moreClients?: Array<Record<string, unknown> & { client_id: string }>;
  } = {},
): Promise<IdpsBed> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-idps-'));
  const gatewayPort = await freePort();
  const idps: DemoIdp[] = [];
  const stopIdps = async () => {
    for (const idp of idps.reverse()) await idp.stop();
  };
  try {
    const extraIdps = [];
    for (const id of EXTRA_IDP_IDS.slice(0, count)) {
      const idp = await startDemoIdp({
        port: 0,
        spMetadataUrl: `http://127.0.0.1:${gatewayPort}/saml/metadata`,
        keys: ensureDevPki(join(dir, `pki-${id}`)),
        ...(options.users ? { users: options.users } : {}),
      });
      idps.push(idp);
      const fetched = await idpMetadata(idp.metadataUrl);
      const metadata = options.withoutSlo
        ? fetched.replace(/<(?:\w+:)?SingleLogoutService\b[^>]*(?:\/>|>[\s\S]*?<\/(?:\w+:)?SingleLogoutService>)/g, '')
        : fetched;
      const metadataFile = join(dir, `${id}.metadata.xml`);
      writeFileSync(metadataFile, metadata);
      extraIdps.push({
        id,
        displayName: id,
        metadataFile,
        maxLoa: 'http://eidas.europa.eu/LoA/high',
        ...(options.onlyClients ? { onlyClients: options.onlyClients } : {}),
      });
    }
    // the first extra IdP registered a second time, under another id (one entity, two registry entries)
    if (options.alsoAs !== undefined && extraIdps[0])
      extraIdps.push({ ...extraIdps[0], id: options.alsoAs, displayName: options.alsoAs });
    const bed = await startSessionBed({
      gatewayPort,
      extraIdps,
      ...(options.hsm ? { hsm: options.hsm } : {}),
      ...(options.moreClients ? { moreClients: options.moreClients } : {}),
    });
    return {
      bed,
      idps: [...idps],
      stop: async () => {
        await bed.stop();
        await stopIdps();
      },
    };
  } catch (error) {
    await stopIdps();
    throw error;
  }
}

/** jean logs in at `idp` (on `browser`'s session, when given: `prompt=login` unless `extra` says otherwise). */
export function logInAt(
  bed: SessionBed,
  idp: string,
  browser?: Browser,
  extra?: Record<string, string>,
): Promise<LoggedIn> {
  return logIn(bed, { idp, ...(browser ? { browser } : {}), extra: extra ?? (browser ? { prompt: 'login' } : {}) });
}

/** The details of the audit records with `to_state` `to`, in order. */
export async function audited(bed: SessionBed, to: string): Promise<Array<Record<string, unknown>>> {
  const { rows } = await bed.gateway.services.pool.query<{ details: Record<string, unknown> }>(
    'select details from audit_log where to_state = $1 order by id',
    [to],
  );
  return rows.map((r) => r.details);
}
