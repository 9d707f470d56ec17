/**
 * The upstream session behind each gateway session, for SAML Single Logout (issue #12 item 6), kept sealed in
 * the two-tier session store (records of kind `UpstreamSession`: keys hashed, payloads AES-256-GCM, PostgreSQL
 * first, so a Redis flush loses none):
 *
 * - by login, `login ‖ loginId` → the IdP, its NameID (value, Format) and SessionIndex, written by the ACS once
 *   the login is verified; and, once oidc-provider has put the login into a session, that session's uid;
 * - by session, `session ‖ uid` → the same upstream session: the SP-initiated logout reads it there;
 * - by subject, `subject ‖ idp ‖ Format ‖ NameID` → the logins that NameID opened (the last `MAX_LOGINS`), each
 *   with its SessionIndex: the IdP-initiated logout starts there.
 *
 * `end()` revokes, through the revocation API (which tells the RPs over the back channel), exactly the gateway
 * sessions a verified IdP LogoutRequest names: same IdP, same NameID and Format, one of its SessionIndexes (none
 * given: every session of that NameID, SAML Core §3.7.3.2). It returns how many it ended; nothing else is touched.
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

/** Logins kept per upstream subject (the oldest drop out first). */
export const MAX_LOGINS = 20;

interface LoginEntry {
  loginId: string;
  sessionIndex?: string;
}

type LoginRecord = UpstreamSessionRef & { sessionUid?: string };

export class UpstreamSessions {
  readonly #store: SessionStore;
  readonly #revoker: Pick<SessionRevoker, 'revokeSession'>;
  readonly #ttlSeconds: number;

  constructor(deps: { store: SessionStore; revoker: Pick<SessionRevoker, 'revokeSession'>; ttlSeconds: number }) {
    this.#store = deps.store;
    this.#revoker = deps.revoker;
    this.#ttlSeconds = deps.ttlSeconds;
  }

  /** Records the upstream session a verified login (`loginId`, the interaction uid) opened. */
  async recordLogin(loginId: string, ref: UpstreamSessionRef): Promise<void> {
    const subjectId = bySubject(ref.idp, ref.nameIdFormat, ref.subject);
    const previous = await this.#store.get<{ logins: LoginEntry[] }>('UpstreamSession', subjectId);
    const entry: LoginEntry = {
      loginId,
      ...(ref.sessionIndex === undefined ? {} : { sessionIndex: ref.sessionIndex }),
    };
    const kept = (previous?.record.state === 'active' ? previous.payload.logins : []).filter(
      (l) => l.loginId !== loginId,
    );
    // both records in one round trip and one transaction (issue #14)
    await this.#put(ref.idp, [
      [byLogin(loginId), ref],
      [subjectId, { logins: [...kept, entry].slice(-MAX_LOGINS) }],
    ]);
  }

  /** Starts this request's read of a subject's list of logins, for a {@link recordLogin} later in the request. */
  prefetchSubject(ref: Pick<UpstreamSessionRef, 'idp' | 'nameIdFormat' | 'subject'>): void {
    this.#store.prefetch('UpstreamSession', bySubject(ref.idp, ref.nameIdFormat, ref.subject));
  }

  /** Starts this request's read of a login's record, for its {@link linkSession} later in the request. */
  prefetchLogin(loginId: string): void {
    this.#store.prefetch('UpstreamSession', byLogin(loginId));
  }

  /** Links a login to the gateway session it was put into (a login without an upstream record is ignored). */
  async linkSession(loginId: string, sessionUid: string): Promise<void> {
    const login = await this.#load<LoginRecord>(byLogin(loginId));
    if (!login) return;
    const { sessionUid: _uid, ...ref } = login;
    await this.#put(login.idp, [
      [byLogin(loginId), { ...login, sessionUid }],
      [bySession(sessionUid), ref],
    ]);
  }

  /** The upstream session behind a gateway session, or null. */
  ofSession(sessionUid: string): Promise<UpstreamSessionRef | null> {
    return this.#load<UpstreamSessionRef>(bySession(sessionUid));
  }

  /** Revokes the gateway sessions a verified IdP LogoutRequest names; returns how many. */
  async end(request: UpstreamLogoutRequest): Promise<number> {
    const subject = await this.#load<{ logins: LoginEntry[] }>(
      bySubject(request.idp, request.nameIdFormat, request.subject),
    );
    if (!subject) return 0;
    const named = subject.logins.filter(
      (l) =>
        request.sessionIndexes.length === 0 ||
        (l.sessionIndex !== undefined && request.sessionIndexes.includes(l.sessionIndex)),
    );
    const uids = new Set<string>();
    for (const { loginId } of named) {
      const login = await this.#load<LoginRecord>(byLogin(loginId));
      if (login?.sessionUid !== undefined && login.idp === request.idp) uids.add(login.sessionUid);
    }
    let ended = 0;
    const failures: unknown[] = [];
    // every named session is tried: one failing does not leave the others alive
    for (const uid of uids) {
      try {
        const result = await this.#revoker.revokeSession(
          { uid },
          { actor: `idp:${request.idp}`, reason: 'SAML LogoutRequest from the IdP' },
        );
        ended += result.sessions;
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw new SessionsPartlyEnded(ended, failures.length, failures[0]);
    return ended;
  }

  /** Records (`[id, payload]`) of one IdP's upstream session, written together: one round trip, one transaction. */
  async #put(idp: string, records: ReadonlyArray<readonly [string, unknown]>): Promise<void> {
    await this.#store.putMany(
      records.map(([id, payload]) => ({
        kind: 'UpstreamSession' as const,
        id,
        payload,
        expiresIn: this.#ttlSeconds,
        idp,
      })),
    );
  }

  async #load<T>(id: string): Promise<T | null> {
    const loaded = await this.#store.get<T>('UpstreamSession', id);
    return loaded?.record.state === 'active' ? loaded.payload : null;
  }
}

const byLogin = (loginId: string) => `login\0${loginId}`;
const bySession = (uid: string) => `session\0${uid}`;
const bySubject = (idp: string, format: string, subject: string) => `subject\0${idp}\0${format}\0${subject}`;
