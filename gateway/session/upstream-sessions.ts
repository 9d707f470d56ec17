/**
 * The upstream session behind each gateway session, for SAML Single Logout (issue #12 item 6), kept sealed in
 * the two-tier session store (records of kind `UpstreamSession`: keys hashed, payloads AES-256-GCM, PostgreSQL
 * first, so a Redis flush loses none):
 *
 * - by login, `login ‖ loginId` → the IdP, its NameID (value, Format) and SessionIndex, and the binding of the
 *   browser it was made in, written by the ACS once the login is verified; and, once oidc-provider has put the
 *   login into a session, that session's uid;
 * - by session, `session ‖ uid` → the same upstream session, and the earlier logins it stood on (a step-up): the
 *   SP-initiated logout reads it there, and asks each IdP in turn;
 * - by subject: each login's record names its upstream subject as its group (the store's `grant_key`, a hashed
 *   `subject ‖ idp ‖ Format ‖ NameID`, indexed in the records' heads, migration 0750), so the IdP-initiated logout
 *   finds every login that NameID opened with one indexed query. No login's record can be lost by another's
 *   write (the per-subject list of the versions before the sixteenth round, read, appended to and written back,
 *   lost one of two logins of one person at once). That list is no longer written; an IdP's logout still reads it
 *   ({@link LegacySubjectList}), so that a login recorded only there (by such a version, or rewritten without its
 *   group by one during its rolling upgrade) is still found until its record expires. Remove the read once every
 *   deployment has run the nineteenth round for a session's life.
 *
 * `end()` revokes, through the revocation API (which tells the RPs over the back channel), exactly the gateway
 * sessions a verified IdP LogoutRequest names: same IdP, same NameID and Format, one of its SessionIndexes (none
 * given: every session of that NameID, SAML Core §3.7.3.2). A session that is no longer the login's person's (two
 * logins of two people at once on one browser leave one session, the last saved person's; a login records its
 * person when linked) is left alone: the token guard already refuses the tokens this person was given on it. It returns how many it ended; nothing else is touched.
 * One failing to end does not stop the others: it throws `SessionsPartlyEnded` with how many were ended.
 */
import type { UpstreamLogoutRequest, UpstreamSessionRef } from '../../adapters/contract.ts';
import type { SessionRevoker } from './revocation.ts';
import type { SessionStore } from './session-store.ts';

/**
 * `end()` could not end every session it named: `ended` were ended (they stay ended), `failed` were not; `cause`
 * is the first failure (a dependency gone: its code is found within it). The caller audits the true count.
 */
export class SessionsPartlyEnded extends Error {
  readonly ended: number;
  readonly failed: number;

  constructor(ended: number, failed: number, cause: unknown) {
    super(`${failed} upstream-named session(s) not ended, ${ended} ended`, { cause });
    this.name = 'SessionsPartlyEnded';
    this.ended = ended;
    this.failed = failed;
  }
}

/** The per-subject list of the versions before the sixteenth round: read by an IdP's logout only, never written. */
interface LegacySubjectList {
  logins: { loginId: string }[];
}

/**
 * A login's record: its upstream session, the gateway session it went into and the person it is for (once linked),
 * and the browser binding of the browser that made it (an HMAC, `browser-binding.ts`; absent in a record written
 * before the twenty-fourth round, or for a browser that sent no binding cookie).
 */
type LoginRecord = UpstreamSessionRef & { sessionUid?: string; account?: string; binding?: string };
/**
 * A session's record: its latest login's upstream session, that login, the person its logins are for (absent in a
 * record written before the twentieth round), and the earlier logins it stood on.
 */
type SessionLink = UpstreamSessionRef & { loginId?: string; account?: string; earlier?: string[] };

/** What {@link UpstreamSessions.linkSession} knows of the login and of the session it went into. */
export interface LinkedInto {
  account: string;
  stoodBefore: boolean;
  beganOnIt: boolean;
}
/** How many earlier logins of one session are kept findable by their IdPs' logouts. */
export const EARLIER_LOGINS = 8;

/**
 * A gateway session an IdP's LogoutRequest ended, with the person the login that named it was (if recorded), and the
 * bindings of the browser its logins the request named were made in (several: a browser whose binding cookie
 * expired or was cleared gets a new one, while the session lives on; none recorded before the twenty-fourth round).
 */
export interface EndedSession {
  uid: string;
  account?: string;
  bindings?: string[];
}

export class UpstreamSessions {
  readonly #store: SessionStore;
  readonly #revoker: Pick<SessionRevoker, 'revokeSession'>;
  readonly #ttlSeconds: number;

  constructor(deps: { store: SessionStore; revoker: Pick<SessionRevoker, 'revokeSession'>; ttlSeconds: number }) {
    this.#store = deps.store;
    this.#revoker = deps.revoker;
    this.#ttlSeconds = deps.ttlSeconds;
  }

  /**
   * Records the upstream session a verified login (`loginId`, the interaction uid) opened: its own record, in its
   * subject's group (one write: no read of anything the subject's other logins wrote), with the binding of the
   * browser that made it (an IdP's logout naming several sessions asks on for the one of the browser it comes
   * through: `interaction/idp-logout-onward.ts`).
   */
  async recordLogin(loginId: string, ref: UpstreamSessionRef, binding?: string): Promise<void> {
    await this.#put([[ref, byLogin(loginId), binding === undefined ? ref : { ...ref, binding }]]);
  }

  /** Starts this request's read of a login's record, for its {@link linkSession} later in the request. */
  prefetchLogin(loginId: string): void {
    this.#store.prefetch('UpstreamSession', byLogin(loginId));
  }

  /**
   * Links a login to the gateway session it was put into (a login without an upstream record is ignored).
   *
   * `into`: the person the login is for (`account`, oidc-provider's accountId), and what is known of the session
   * before it — `stoodBefore`: read from the store, not made in this request; `beganOnIt`: the login's interaction
   * began on this very session for this very account (oidc-provider's snapshot of it). A session that stood on
   * earlier logins of the same person (a step-up, perhaps at another IdP; a login another tab made meanwhile) keeps
   * them: their records are written again with this one's life, so that the earlier IdPs' logouts still find the
   * session as long as it lives (it now lives from this login on: session-life.ts), and the RP-initiated logout
   * asks them too; at most {@link EARLIER_LOGINS}, newest kept. The session's record names the person its logins
   * are for: another person's logins are never kept (two tabs logging two people in on one stored session at once;
   * a record written before the person was named is kept only on `beganOnIt`).
   */
  async linkSession(loginId: string, sessionUid: string, into?: LinkedInto): Promise<void> {
    // the earlier logins are read on a best-effort basis: a failure there never costs this login its own link
    const [login, before] = await Promise.all([
      this.#load<LoginRecord>(byLogin(loginId)),
      into?.stoodBefore ? this.#load<SessionLink>(bySession(sessionUid)).catch(() => null) : null,
    ]);
    if (!login) return;
    const ref = refOf(login);
    const samePerson =
      before !== null &&
      into !== undefined &&
      (before.account === undefined ? into.beganOnIt : before.account === into.account);
    const named = samePerson
      ? [...(before.earlier ?? []), ...(before.loginId ? [before.loginId] : [])].filter((id) => id !== loginId)
      : [];
    const read = await Promise.all(named.map((id) => this.#load<LoginRecord>(byLogin(id)).catch(() => null)));
    // only those still linked to this session (not expired, not another session's), newest kept
    const earlier = named
      .map((id, i) => ({ id, login: read[i] }))
      .filter((e): e is { id: string; login: LoginRecord } => e.login?.sessionUid === sessionUid)
      .slice(-EARLIER_LOGINS);
    const link: SessionLink = {
      ...ref,
      loginId,
      ...(into ? { account: into.account } : {}),
      ...(earlier.length > 0 ? { earlier: earlier.map((e) => e.id) } : {}),
    };
    await this.#put([
      [ref, byLogin(loginId), { ...login, sessionUid, ...(into ? { account: into.account } : {}) }],
      [ref, bySession(sessionUid), link],
      // as they are, for this login's life
      ...earlier.map((e) => [e.login, byLogin(e.id), e.login] as const),
    ]);
  }

  /**
   * The upstream sessions an RP-initiated logout of a gateway session ends: its latest login's, and by login id
   * those of the earlier logins it stood on (a step-up at another IdP), newest first, one per upstream session
   * (IdP, NameID, Format and SessionIndex: an IdP ends only the session a request's SessionIndex names, or every
   * session of the NameID when it names none), each read again at its turn ({@link loginOf}). Left out: a login
   * now linked to another session. Kept, for the caller to account for at its turn: a login whose record is gone
   * (expired) or cannot be read now. Null: the session stood on no upstream login. `another-person`: the record
   * names another person than `account`, the session's (two logins at once on one session, the last link written
   * not the last session saved): no IdP of it is asked.
   */
  async logoutsOf(
    sessionUid: string,
    account?: string,
  ): Promise<{ latest: UpstreamSessionRef; earlier: string[] } | 'another-person' | null> {
    const link = await this.#load<SessionLink>(bySession(sessionUid));
    if (!link) return null;
    const { account: person, earlier: named = [] } = link;
    const latest = refOf(link);
    if (person !== undefined && account !== undefined && person !== account) return 'another-person';
    const newestFirst = [...named].reverse();
    const read = await Promise.all(
      newestFirst.map((id) => this.#load<LoginRecord>(byLogin(id)).catch(() => 'unreadable' as const)),
    );
    const subjectOf = (ref: UpstreamSessionRef) => bySubject(ref.idp, ref.nameIdFormat, ref.subject);
    const sessionOf = (ref: UpstreamSessionRef) => `${subjectOf(ref)}\0${ref.sessionIndex ?? ''}`;
    const linked = (login: LoginRecord | 'unreadable' | null | undefined): login is LoginRecord =>
      login !== null && login !== undefined && login !== 'unreadable' && login.sessionUid === sessionUid;
    // the NameIDs one request without SessionIndex ends wholly: their logins with one are not asked apart
    const wholly = new Set([latest, ...read.filter(linked)].filter((r) => r.sessionIndex === undefined).map(subjectOf));
    const asked = new Set([sessionOf(latest)]);
    const earlier: string[] = [];
    newestFirst.forEach((id, i) => {
      const login = read[i];
      if (login !== null && login !== 'unreadable') {
        if (!linked(login) || asked.has(sessionOf(login))) return;
        if (login.sessionIndex !== undefined && wholly.has(subjectOf(login))) return;
        asked.add(sessionOf(login));
      }
      earlier.push(id);
    });
    return { latest, earlier };
  }

  /** The upstream session a login opened, while it is linked to `sessionUid` (else null). */
  async loginOf(loginId: string, sessionUid: string): Promise<UpstreamSessionRef | null> {
    const login = await this.#load<LoginRecord>(byLogin(loginId));
    if (login?.sessionUid !== sessionUid) return null;
    return refOf(login);
  }

  /** Revokes the gateway sessions a verified IdP LogoutRequest names; returns how many. */
  async end(request: UpstreamLogoutRequest): Promise<number> {
    return (await this.endNamed(request)).ended;
  }

  /**
   * {@link end}, answering also which sessions it ended, each with the person its login named and the browser
   * bindings its named logins recorded (the IdPs of their other logins are then asked too, from the browser that made
   * the session: `interaction/idp-logout-onward.ts`).
   */
  async endNamed(request: UpstreamLogoutRequest): Promise<{ ended: number; sessions: EndedSession[] }> {
    const named = (await this.#loginsOf(request)).filter(
      (login): login is LoginRecord & { sessionUid: string } =>
        login.sessionUid !== undefined &&
        (request.sessionIndexes.length === 0 ||
          (login.sessionIndex !== undefined && request.sessionIndexes.includes(login.sessionIndex))),
    );
    const failures: unknown[] = [];
    // a session another person's login was saved into last (two logins at once on one browser) is not this one's
    // to end: it is left alone (the token guard refuses the tokens this login was given on it: token-guard.ts)
    const theirs = await Promise.all(
      named.map((login) =>
        login.account === undefined
          ? true
          : this.#isPersonOf(login.sessionUid, login.account).catch((error: unknown) => {
              failures.push(error);
              return false;
            }),
      ),
    );
    // each session's person, and the bindings of all its named logins (one browser's cookie may have changed)
    const accounts = new Map<string, { account: string | undefined; bindings: Set<string> }>();
    named.forEach((login, i) => {
      if (!theirs[i]) return;
      const entry = accounts.get(login.sessionUid) ?? { account: login.account, bindings: new Set<string>() };
      if (login.binding !== undefined) entry.bindings.add(login.binding);
      accounts.set(login.sessionUid, entry);
    });
    let ended = 0;
    const sessions: EndedSession[] = [];
    // every named session is tried: one failing does not leave the others alive
    for (const [uid, { account, bindings }] of accounts) {
      try {
        const result = await this.#revoker.revokeSession(
          { uid },
          { actor: `idp:${request.idp}`, reason: 'SAML LogoutRequest from the IdP' },
        );
        ended += result.sessions;
        if (result.sessions > 0)
          sessions.push({
            uid,
            ...(account === undefined ? {} : { account }),
            ...(bindings.size === 0 ? {} : { bindings: [...bindings] }),
          });
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw new SessionsPartlyEnded(ended, failures.length, failures[0]);
    return { ended, sessions };
  }

  /**
   * Whether the gateway session `uid` is `account`'s, read in PostgreSQL (the record of truth: the Redis copies of
   * two saves of one version may have landed in either order), by the person's key of its current row. A session
   * not found, ended or without a person counts as theirs (ending it costs nobody else a session); one that cannot
   * be read now is a failure of this logout (the IdP may send it again), never a guess.
   */
  async #isPersonOf(uid: string, account: string): Promise<boolean> {
    const row = await this.#store.durable.get(this.#store.keys.key('Session', uid));
    if (row?.state !== 'active' || row.accountKey === null) return true;
    return row.accountKey.equals(this.#store.keys.key('account', account));
  }

  /** The active login records of the request's subject (and, of that subject only, those of a legacy list). */
  async #loginsOf(request: UpstreamLogoutRequest): Promise<LoginRecord[]> {
    const group = bySubject(request.idp, request.nameIdFormat, request.subject);
    const keys = await this.#store.durable.keysOfGrant(this.#store.keys.key('Grant', group));
    const logins: LoginRecord[] = [];
    const legacy = await this.#load<LegacySubjectList>(group);
    const legacyKeys = (legacy?.logins ?? []).map(({ loginId }) =>
      this.#store.keys.key('UpstreamSession', byLogin(loginId)),
    );
    const all = [...keys, ...legacyKeys.filter((k) => !keys.some((key) => key.equals(k)))];
    // a few at a time: a person who logs in often has many
    for (let i = 0; i < all.length; i += LOADS_AT_ONCE) {
      const found = await Promise.all(
        all.slice(i, i + LOADS_AT_ONCE).map((key) => this.#store.load<LoginRecord>('UpstreamSession', key)),
      );
      for (const l of found) if (l?.record.state === 'active') logins.push(l.payload);
    }
    // the record's own fields, not only its group, must name the request's subject
    return logins.filter(
      (l) => l.idp === request.idp && l.nameIdFormat === request.nameIdFormat && l.subject === request.subject,
    );
  }

  /**
   * Records (`[upstream session, id, payload]`), written together: one round trip, one transaction. A login's
   * record (`login ‖ …`) goes in its subject's group, so {@link end} finds it.
   */
  async #put(records: ReadonlyArray<readonly [UpstreamSessionRef, string, unknown]>): Promise<void> {
    await this.#store.putMany(
      records.map(([ref, id, payload]) => ({
        kind: 'UpstreamSession' as const,
        id,
        payload,
        expiresIn: this.#ttlSeconds,
        idp: ref.idp,
        ...(id.startsWith(LOGIN) ? { grantId: bySubject(ref.idp, ref.nameIdFormat, ref.subject) } : {}),
      })),
    );
  }

  async #load<T>(id: string): Promise<T | null> {
    const loaded = await this.#store.get<T>('UpstreamSession', id);
    return loaded?.record.state === 'active' ? loaded.payload : null;
  }
}

/**
 * The upstream session of a record, field by field: a record's other fields (its session, person, browser binding)
 * never reach an adapter or another record, whatever version wrote it.
 */
const refOf = (record: UpstreamSessionRef): UpstreamSessionRef => ({
  idp: record.idp,
  subject: record.subject,
  nameIdFormat: record.nameIdFormat,
  ...(record.sessionIndex === undefined ? {} : { sessionIndex: record.sessionIndex }),
});

const LOGIN = 'login\0';
/** How many login records `end()` reads at once. */
const LOADS_AT_ONCE = 16;
const byLogin = (loginId: string) => `${LOGIN}${loginId}`;
const bySession = (uid: string) => `session\0${uid}`;
/** A subject's group (no oidc-provider grant id holds a NUL, so it never names a real grant's artefacts). */
const bySubject = (idp: string, format: string, subject: string) => `subject\0${idp}\0${format}\0${subject}`;
