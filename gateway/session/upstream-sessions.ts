/**
 * The upstream session behind each login, for SAML Single Logout (issue #12 item 6), kept sealed in the
 * two-tier session store (records of kind `UpstreamSession`: keys hashed, payloads AES-256-GCM, PostgreSQL
 * first, so a Redis flush loses none):
 *
 * - by login, `login ‖ accountId ‖ loginTs` → the IdP, its NameID (value, Format) and SessionIndex. A gateway
 *   session names its account and its login time (`auth_time`, the IdP's AuthnInstant): the SP-initiated
 *   logout reads the upstream session there;
 * - by subject, `subject ‖ idp ‖ Format ‖ NameID` → the logins that NameID opened (the last `MAX_LOGINS`),
 *   each with its SessionIndex: the IdP-initiated logout starts there.
 *
 * `end()` revokes, through the revocation API (which tells the RPs over the back channel), exactly the live
 * gateway sessions a verified IdP LogoutRequest names: same IdP, same NameID and Format, one of its
 * SessionIndexes (none given: every session of that NameID, SAML Core §3.7.3.2), and still on that login
 * (same account, same login time). It returns how many it ended; nothing else is touched.
 */
import type { UpstreamLogoutRequest, UpstreamSessionRef } from '../../adapters/contract.ts';
import type { SessionRevoker } from './revocation.ts';
import type { SessionStore } from './session-store.ts';

/** Logins kept per upstream subject (the oldest drop out first). */
export const MAX_LOGINS = 20;

interface LoginEntry {
  accountId: string;
  loginTs: number;
  sessionIndex?: string;
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

  /** Records the upstream session a verified login opened (its account and `auth_time`, epoch seconds). */
  async recordLogin(accountId: string, loginTs: number, ref: UpstreamSessionRef): Promise<void> {
    await this.#store.put({
      kind: 'UpstreamSession',
      id: byLogin(accountId, loginTs),
      payload: ref,
      expiresIn: this.#ttlSeconds,
      accountId,
      idp: ref.idp,
    });
    const subjectId = bySubject(ref.idp, ref.nameIdFormat, ref.subject);
    const previous = await this.#store.get<{ logins: LoginEntry[] }>('UpstreamSession', subjectId);
    const entry: LoginEntry = {
      accountId,
      loginTs,
      ...(ref.sessionIndex === undefined ? {} : { sessionIndex: ref.sessionIndex }),
    };
    const kept = (previous?.record.state === 'active' ? previous.payload.logins : []).filter(
      (l) => !(l.accountId === accountId && l.loginTs === loginTs),
    );
    await this.#store.put({
      kind: 'UpstreamSession',
      id: subjectId,
      payload: { logins: [...kept, entry].slice(-MAX_LOGINS) },
      expiresIn: this.#ttlSeconds,
      idp: ref.idp,
    });
  }

  /** The upstream session of a gateway session (its account and login time), or null. */
  async ofLogin(accountId: string, loginTs: number): Promise<UpstreamSessionRef | null> {
    const loaded = await this.#store.get<UpstreamSessionRef>('UpstreamSession', byLogin(accountId, loginTs));
    return loaded?.record.state === 'active' ? loaded.payload : null;
  }

  /** Revokes the live gateway sessions a verified IdP LogoutRequest names; returns how many. */
  async end(request: UpstreamLogoutRequest): Promise<number> {
    const loaded = await this.#store.get<{ logins: LoginEntry[] }>(
      'UpstreamSession',
      bySubject(request.idp, request.nameIdFormat, request.subject),
    );
    if (loaded?.record.state !== 'active') return 0;
    const named = loaded.payload.logins.filter(
      (l) =>
        request.sessionIndexes.length === 0 ||
        (l.sessionIndex !== undefined && request.sessionIndexes.includes(l.sessionIndex)),
    );
    let ended = 0;
    for (const accountId of new Set(named.map((l) => l.accountId))) {
      const loginTimes = new Set(named.filter((l) => l.accountId === accountId).map((l) => l.loginTs));
      for (const record of await this.#store.durable.activeSessionsOf(this.#store.keys.key('account', accountId))) {
        const session = await this.#store.load<{ uid?: unknown; loginTs?: unknown }>('Session', record.recordKey);
        if (!session || typeof session.payload.uid !== 'string' || typeof session.payload.loginTs !== 'number')
          continue;
        if (record.idp !== request.idp || !loginTimes.has(session.payload.loginTs)) continue;
        const result = await this.#revoker.revokeSession(
          { uid: session.payload.uid },
          { actor: `idp:${request.idp}`, reason: 'SAML LogoutRequest from the IdP' },
        );
        ended += result.sessions;
      }
    }
    return ended;
  }
}

const byLogin = (accountId: string, loginTs: number) => `login\0${accountId}\0${loginTs}`;
const bySubject = (idp: string, format: string, subject: string) => `subject\0${idp}\0${format}\0${subject}`;
