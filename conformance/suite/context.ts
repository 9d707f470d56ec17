/**
 * What every check gets: the target, its discovery document, the suite's RP and IdP, a login driver,
 * cached fetches (SP metadata, JWKS), a lazily made attacker key, and the results so far.
 *
 * - Built once per run (`createContext`); discovery failure is kept, not thrown: checks that need the RP
 *   then fail with that error, posture checks that do not still run.
 */
import { makeAttackerKey, type AttackerKey } from '../saml-idp/hostile/attacker-key.ts';
import { eidasParty, idpParty, runLogin, type LoginInput, type LoginOutcome } from './login.ts';
import type { SuiteEidasNode } from './parties/eidas-node.ts';
import type { SuiteIdp } from './parties/idp.ts';
import { SuiteRp, type Discovery, type RpClient } from './parties/rp.ts';
import type { CheckResult, PlanName } from './results.ts';

/** Options of a run. */
export interface SuiteOptions {
  /** The deployment's issuer URL, e.g. `https://gateway.example`. */
  target: string;
  plans: readonly PlanName[];
  /** Only these check ids (or id prefixes ending with `*`). */
  only?: readonly string[];
  /** The client registered for the suite. */
  client: RpClient;
  /** The suite's IdP, registered in the deployment; absent = checks needing it are skipped. */
  idp?: SuiteIdp;
  /** The suite's eIDAS node, registered as an eIDAS IdP; absent = eIDAS response checks are skipped. */
  eidasNode?: SuiteEidasNode;
  /** SP metadata URL; default `<target>/saml/metadata`. */
  spMetadataUrl?: string;
  /** Progress lines (default: none). */
  progress?: (line: string) => void;
}

/** The run's shared state. */
export interface SuiteContext {
  readonly options: SuiteOptions;
  readonly target: URL;
  /** The suite's RP; throws the discovery error when discovery failed. */
  readonly rp: SuiteRp;
  readonly discovery: Discovery | undefined;
  readonly discoveryError: string | undefined;
  readonly idp: SuiteIdp | undefined;
  readonly eidasNode: SuiteEidasNode | undefined;
  /** Results of the checks already run, by id. */
  readonly results: Map<string, CheckResult>;
  /** One login through the suite IdP. */
  login(input?: LoginInput): Promise<LoginOutcome>;
  /** One login through the suite eIDAS node (throws when none is registered). */
  eidasLogin(input?: LoginInput): Promise<LoginOutcome>;
  /** The deployment's SAML SP metadata (fetched once; undefined when unavailable). */
  spMetadata(): Promise<string | undefined>;
  /** A value computed once per run. */
  memo<T>(key: string, make: () => Promise<T>): Promise<T>;
  attacker(): Promise<AttackerKey>;
}

/**
 * Fetches discovery and builds the context.
 *
 * @example const ctx = await createContext({ target, plans: ['oidc'], client });
 */
export async function createContext(options: SuiteOptions): Promise<SuiteContext> {
  const target = new URL(options.target);
  let discovery: Discovery | undefined;
  let discoveryError: string | undefined;
  try {
    const url = new URL('.well-known/openid-configuration', target.href.endsWith('/') ? target : `${target.href}/`);
    const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status} from ${url.href}`);
    discovery = (await response.json()) as Discovery;
  } catch (error) {
    discoveryError = `discovery failed: ${(error as Error).message}`;
  }
  const rp = discovery === undefined ? undefined : new SuiteRp(options.client, discovery);
  const memos = new Map<string, Promise<unknown>>();
  const memo = <T>(key: string, make: () => Promise<T>): Promise<T> => {
    if (!memos.has(key)) memos.set(key, make());
    return memos.get(key) as Promise<T>;
  };
  const needRp = (): SuiteRp => {
    if (rp === undefined) throw new Error(discoveryError ?? 'no discovery');
    return rp;
  };
  return {
    options,
    target,
    get rp() {
      return needRp();
    },
    discovery,
    discoveryError,
    idp: options.idp,
    eidasNode: options.eidasNode,
    results: new Map(),
    login: (input) => runLogin(needRp(), options.idp === undefined ? undefined : idpParty(options.idp), input),
    eidasLogin: (input) => {
      if (options.eidasNode === undefined) throw new Error('no suite eIDAS node is registered (--eidas-id)');
      return runLogin(needRp(), eidasParty(options.eidasNode), input);
    },
    spMetadata: () =>
      memo('sp-metadata', async () => {
        const url = options.spMetadataUrl ?? new URL('saml/metadata', `${target.href.replace(/\/$/, '')}/`).href;
        try {
          const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
          return response.ok ? await response.text() : undefined;
        } catch {
          return undefined;
        }
      }),
    memo,
    attacker: () => memo('attacker-key', makeAttackerKey),
  };
}
