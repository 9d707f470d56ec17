/**
 * The demo RP's browser sessions, in memory, keyed by an opaque cookie (the RP is a remote party, not the gateway).
 *
 * - A login in flight keeps its PKCE verifier, state and nonce; the callback consumes them (single use).
 * - A finished login keeps what the page shows: verified ID-token claims, its JOSE header, UserInfo.
 * - Cookie `demo_rp_sid`: 256 random bits, HttpOnly, SameSite=Lax, Path=/; sessions live 30 minutes.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const cookieName = 'demo_rp_sid';
const ttlMs = 30 * 60 * 1000;
const maxSessions = 10_000;

/** What a login in flight must remember. */
export interface PendingLogin {
  codeVerifier: string;
  state: string;
  nonce: string;
}

/** What a finished login shows. */
export interface FinishedLogin {
  claims: Record<string, unknown>;
  header: Record<string, unknown>;
  userinfo: Record<string, unknown> | null;
  /** The ID token itself (the `id_token_hint` of a logout). */
  idToken?: string;
  /** `fraud_score` of the access token (token introspection), when the OP gave one. */
  fraudScore?: number | null;
  /** The gateway's signed risk assessment (`/risk/assessment`), verified against its JWKS; null when unavailable. */
  assessment?: Record<string, unknown> | null;
}

/** One browser's session. */
export interface RpSession {
  pending?: PendingLogin;
  result?: FinishedLogin;
  /** Set after a logout came back from the OP. */
  loggedOut?: boolean;
  /** The OP's error on the last callback, if any. */
  error?: { error: string; description: string | null };
}

/** The session store. */
export class LoginSessions {
  readonly #sessions = new Map<string, { session: RpSession; expiresAt: number }>();

  /** The session of this request, if its cookie names a live one. */
  find(req: IncomingMessage): RpSession | undefined {
    const id = readCookie(req);
    if (id === undefined) return undefined;
    const entry = this.#sessions.get(id);
    if (entry === undefined || entry.expiresAt < Date.now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return entry.session;
  }

  /** A fresh session and the Set-Cookie header that binds it to the browser. */
  create(session: RpSession): { setCookie: string } {
    const id = randomBytes(32).toString('base64url');
    this.#sessions.set(id, { session, expiresAt: Date.now() + ttlMs });
    while (this.#sessions.size > maxSessions) this.#sessions.delete(this.#sessions.keys().next().value as string);
    return { setCookie: `${cookieName}=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${ttlMs / 1000}` };
  }
}

function readCookie(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === cookieName) return value.join('=');
  }
  return undefined;
}
