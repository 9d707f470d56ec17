/**
 * oidc-provider's models that must outlive Redis, stored through the two-tier store: `Session` (the
 * gateway session), `Grant` and `AccessToken` (what userinfo and introspection read back). The Redis
 * adapter (`oidc/redis-adapter.ts`) hands these models here and keeps the rest (codes, interactions,
 * replay detection: short-lived, single-use, Redis only).
 *
 * - a Session is keyed by its uid (stable across oidc-provider's id resets); its cookie id and each
 *   per-RP `sid` are hashed pointers; its account and IdP are recorded (hashed / in clear) for
 *   revocation by person or IdP; a revoked or ended session is never returned;
 * - an AccessToken or RefreshToken records the version of its session when issued; reading it back runs
 *   the token guard (a refused token is "not found": oidc-provider answers `invalid_token` /
 *   `invalid_grant` / `active: false`);
 * - a RefreshToken is single use (`consume`: PostgreSQL decides, one caller wins); a consumed one stays as
 *   `ended` and is handed back with `consumed`, after its family's session was revoked (`refresh-reuse.ts`):
 *   oidc-provider then answers `invalid_grant` and revokes the grant.
 */
import type { SessionStore } from './session-store.ts';
import type { TokenGuard } from './token-guard.ts';
import type { RecordKind } from './durable-tier.ts';
import type { RefreshReuse } from './refresh-reuse.ts';
import type { GrantEnd } from './grant-end.ts';
import type { SessionEvidence } from './session-evidence.ts';

type Payload = Record<string, unknown> & {
  grantId?: string;
  accountId?: string;
  uid?: string;
  sessionUid?: string;
  clientId?: string;
};

const DURABLE: ReadonlySet<string> = new Set(['Session', 'Grant', 'AccessToken', 'RefreshToken']);
const TOKENS: ReadonlySet<string> = new Set(['AccessToken', 'RefreshToken']);
/** Grants read ahead with a session at most (see `#prefetchNamedBySession`). */
const PREFETCHED_GRANTS_AT_MOST = 3;

export class DurableOidcModels {
  readonly #store: SessionStore;
  readonly #guard: TokenGuard;
  readonly #reuse: RefreshReuse;
  readonly #grants: GrantEnd;

  constructor(store: SessionStore, guard: TokenGuard, reuse: RefreshReuse, grants: GrantEnd) {
    this.#store = store;
    this.#guard = guard;
    this.#reuse = reuse;
    this.#grants = grants;
  }

  /**
   * Runs `work` with the writes of its artefacts other than sessions written together (`SessionStore.holdWrites`);
   * `checksWanted`: whether a session it saved unchanged is checked when it ends.
   */
  holdWrites<T>(work: () => Promise<T>, checksWanted?: () => boolean): Promise<T> {
    return this.#store.holdWrites(work, checksWanted);
  }

  /** Whether `model` is stored here. */
  handles(model: string): boolean {
    return DURABLE.has(model);
  }

  async upsert(model: string, id: string, payload: Payload, expiresIn: number): Promise<void> {
    if (!(expiresIn > 0)) throw new TypeError(`${model} saved without an expiry`);
    const kind = model as RecordKind;
    if (kind === 'Session') {
      if (typeof payload.uid !== 'string') throw new TypeError('a Session without uid');
      const authorizations = (payload.authorizations ?? {}) as Record<string, { sid?: string }>;
      const sids = Object.values(authorizations)
        .map((a) => a.sid)
        .filter((s): s is string => typeof s === 'string');
      const idp = typeof payload.accountId === 'string' ? await this.#idpOfSession(payload) : undefined;
      await this.#store.put({
        kind,
        id: payload.uid,
        payload: { ...payload, jti: id },
        expiresIn,
        lookupId: id,
        sids,
        accountId: payload.accountId,
        idp,
      });
      return;
    }
    let version: number | undefined;
    if (TOKENS.has(kind) && typeof payload.sessionUid === 'string') version = await this.#sessionVersion(payload);
    await this.#store.put({
      kind,
      id,
      payload,
      expiresIn,
      grantId: payload.grantId,
      accountId: payload.accountId,
      version,
    });
  }

  /**
   * The IdP a session stands on (what `revoke idp` matches): its own upstream authentication's, found in the
   * person's record by the session's acr and login time, never the person's latest login elsewhere (a session
   * re-saved after a login at another IdP keeps its own). When the record no longer keeps that login, the IdP the
   * session's stored row already names (read from PostgreSQL: rare); the record's latest only for a session
   * stored without one.
   */
  async #idpOfSession(payload: Payload): Promise<string | undefined> {
    const person = await this.#store.get<{ idp?: string; evidence?: SessionEvidence[] }>(
      'Identity',
      payload.accountId as string,
    );
    if (!person) return undefined;
    const own = person.payload.evidence?.find((e) => e.acr === payload.acr && e.authTime === payload.loginTs);
    if (own) return own.idp;
    const stored = await this.#store.durable.get(this.#store.keys.key('Session', payload.uid as string));
    return stored?.idp ?? person.record.idp ?? undefined;
  }

  /**
   * The artefact `id` of `model`, if it is still one. `presented`: whether the stored payload is that of the value
   * presented (a JWT access token is found by its `jti`: the JWT itself must be the one issued), asked before
   * anything else acts on the find: a forged value naming a known id neither counts as a reuse nor ends a grant.
   */
  async find(
    model: string,
    id: string,
    presented: (payload: Payload) => boolean = () => true,
    options: { reuseIsCompromise?: boolean } = {},
  ): Promise<Payload | undefined> {
    if (model === 'Session') return this.#activeSession(await this.#store.findSession<Payload>('lookup', id));
    const loaded = await this.#store.get<Payload>(model as RecordKind, id);
    if (!loaded || !presented(loaded.payload)) return undefined;
    // a rotated refresh token is a compromise only when used to get tokens: its RP introspecting or revoking a stale
    // one (RFC 7009 allows it) finds nothing, and signs nobody out
    if (model === 'RefreshToken' && loaded.record.state === 'ended' && options.reuseIsCompromise === false)
      return undefined;
    if (model === 'RefreshToken' && loaded.record.state === 'ended') {
      // an already-rotated refresh token, presented again: the family is compromised
      await this.#reuse.reused(loaded.payload, loaded.record.accountKey);
      return { ...loaded.payload, consumed: Math.floor(Date.now() / 1000) };
    }
    if (loaded.record.state !== 'active') return undefined;
    if (TOKENS.has(model) && typeof loaded.payload.sessionUid === 'string') {
      const refusal = await this.#guard.check({
        sessionUid: loaded.payload.sessionUid,
        version: loaded.record.version,
        clientId: loaded.payload.clientId,
        model,
        accountKey: loaded.record.accountKey,
      });
      // the person's family on a session now another person's ends with its grant: refused for good, not only while
      // that other person's session lasts
      if (refusal === 'SESSION_OF_ANOTHER_PERSON' && typeof loaded.payload.grantId === 'string')
        await this.#grants.end(loaded.payload.grantId, refusal, { model, clientId: loaded.payload.clientId });
      if (refusal) return undefined;
    }
    return loaded.payload;
  }

  /**
   * Reads ahead, in one round trip, the records a request reads next when it holds an artefact naming them
   * (an authorization code at the token endpoint: its session, grant and account; an interaction's result when
   * the authorization resumes: its account and grant), instead of one round trip each (`SessionStore.prefetch`).
   */
  prefetch(named: { sessionUid?: unknown; grantId?: unknown; accountId?: unknown }): void {
    if (typeof named.sessionUid === 'string') this.#store.prefetch('Session', named.sessionUid);
    if (typeof named.grantId === 'string') this.#store.prefetch('Grant', named.grantId);
    if (typeof named.accountId === 'string') this.#store.prefetch('Identity', named.accountId);
  }

  async findByUid(model: string, uid: string): Promise<Payload | undefined> {
    if (model !== 'Session') return undefined;
    return this.#activeSession(await this.#store.get<Payload>('Session', uid));
  }

  async destroy(model: string, id: string): Promise<void> {
    if (model === 'Session') {
      const found = await this.#store.findSession<Payload>('lookup', id);
      if (found) await this.#store.end([found.record.recordKey], [this.#store.keys.key('jti', id)]);
      return;
    }
    await this.#store.end([this.#store.keys.key(model as RecordKind, id)]);
  }

  /**
   * Single use of a RefreshToken: resolves for the one caller that consumed it; every other (a reuse that
   * raced past oidc-provider's own `consumed` check) revokes the family's session and gets `false`.
   */
  async consume(model: string, id: string): Promise<boolean> {
    if (model !== 'RefreshToken') throw new TypeError(`${model} is not a one-time artefact`);
    if (await this.#store.consume('RefreshToken', id)) return true;
    const loaded = await this.#store.get<Payload>('RefreshToken', id);
    if (loaded) await this.#reuse.reused(loaded.payload, loaded.record.accountKey);
    return false;
  }

  /** Ends every durable artefact of a grant (and the grant). */
  async revokeByGrantId(grantId: string): Promise<void> {
    const keys = await this.#store.durable.keysOfGrant(this.#store.keys.key('Grant', grantId));
    await this.#store.end([...keys, this.#store.keys.key('Grant', grantId)]);
  }

  /**
   * The version of the session a token is issued on. Read as Redis has it, unless that copy names another person
   * than the token's: then PostgreSQL's (a merge of two people's saves whose write missed Redis leaves the replaced
   * person's copy there until it is evicted, one version behind: a token recording it would be stale for good).
   */
  async #sessionVersion(payload: Payload): Promise<number | undefined> {
    const key = this.#store.keys.key('Session', payload.sessionUid!);
    const session = await this.#store.record('Session', key);
    const person = typeof payload.accountId === 'string' ? this.#store.keys.key('account', payload.accountId) : null;
    if (!session?.accountKey || !person || session.accountKey.equals(person)) return session?.version;
    return (await this.#store.durable.get(key))?.version ?? session.version;
  }

  #activeSession(loaded: { record: { state: string }; payload: Payload } | null): Payload | undefined {
    if (!loaded || loaded.record.state !== 'active') return undefined;
    this.#prefetchNamedBySession(loaded.payload);
    return loaded.payload;
  }

  /**
   * A request that found a session reads its person and its RP's grant next, one after the other (oidc-provider
   * loads the account, then the grant): both asked for now, in one round trip (issue #14). Every grant the
   * session names is asked for when they are few (the adapter does not know which RP is asking); a session of
   * many RPs prefetches only its person.
   */
  #prefetchNamedBySession(session: Payload): void {
    this.prefetch({ accountId: session.accountId });
    const authorizations = Object.values((session.authorizations ?? {}) as Record<string, { grantId?: unknown }>);
    if (authorizations.length > PREFETCHED_GRANTS_AT_MOST) return;
    for (const { grantId } of authorizations) this.prefetch({ grantId });
  }
}
