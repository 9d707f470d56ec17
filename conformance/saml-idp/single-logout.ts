/**
 * SAML Single Logout at the demo IdP (samlify), HTTP-POST binding (SAML Profiles §4.4):
 *
 * - `LogoutSessions`: the upstream sessions this IdP opened (NameID, Format, SessionIndex, SP), in memory;
 * - `answerSpLogout`: the SP's LogoutRequest parsed and its signature verified by samlify against the SP
 *   metadata (`LOGOUT_REQUEST_INVALID`), the named session forgotten, a signed LogoutResponse (Success) to the
 *   SP's SingleLogoutService;
 * - `idpLogoutRequest`: IdP-initiated, a LogoutRequest signed by samlify for one session (the person logs out
 *   at the IdP), to POST to the SP's SingleLogoutService;
 * - `readSpLogoutResponse`: the SP's answer, its signature verified by samlify (`LOGOUT_RESPONSE_INVALID`).
 */
import type * as samlify from 'samlify';
import { ConformanceError } from '../errors.ts';
import type { SpPeer } from './sp-peer.ts';

const POST = 'post';

/** One upstream session the IdP opened. */
export interface IdpSession {
  nameId: string;
  nameIdFormat: string;
  sessionIndex: string;
  spEntityId: string;
}

/** A message for the browser to POST. */
export interface PostMessage {
  url: string;
  fields: Record<string, string>;
}

export class LogoutSessions {
  readonly #byIndex = new Map<string, IdpSession>();

  add(session: IdpSession): void {
    this.#byIndex.set(session.sessionIndex, session);
  }

  /** The sessions still open, oldest first. */
  list(): IdpSession[] {
    return [...this.#byIndex.values()];
  }

  get(sessionIndex: string): IdpSession | undefined {
    return this.#byIndex.get(sessionIndex);
  }

  end(sessionIndex: string): boolean {
    return this.#byIndex.delete(sessionIndex);
  }
}

/**
 * Verifies the SP's LogoutRequest and answers it.
 *
 * @example const reply = await answerSpLogout(idp.entity, sp, sessions, form.get('SAMLRequest'), form.get('RelayState'));
 */
export async function answerSpLogout(
  idp: samlify.IdentityProviderInstance,
  sp: SpPeer,
  sessions: LogoutSessions,
  samlRequest: string | null,
  relayState: string | null,
): Promise<PostMessage> {
  if (!samlRequest) throw new ConformanceError('LOGOUT_REQUEST_INVALID', 400, 'no SAMLRequest');
  let parsed: Awaited<ReturnType<samlify.IdentityProviderInstance['parseLogoutRequest']>>;
  try {
    parsed = await idp.parseLogoutRequest(sp.entity, POST, {
      body: { SAMLRequest: samlRequest, ...(relayState === null ? {} : { RelayState: relayState }) },
    });
  } catch (cause) {
    throw new ConformanceError('LOGOUT_REQUEST_INVALID', 400, 'the LogoutRequest does not verify', { cause });
  }
  const request = (parsed.extract as { request?: { id?: string }; sessionIndex?: unknown }) ?? {};
  for (const index of [request.sessionIndex].flat()) if (typeof index === 'string') sessions.end(index);
  const reply = idp.createLogoutResponse(sp.entity, parsed as never, POST, {
    relayState: relayState ?? '',
  }) as {
    context: string;
    entityEndpoint: string;
  };
  return {
    url: reply.entityEndpoint,
    fields: { SAMLResponse: reply.context, ...(relayState === null ? {} : { RelayState: relayState }) },
  };
}

/**
 * IdP-initiated: a signed LogoutRequest for one session.
 *
 * @example const { url, fields } = idpLogoutRequest(idp.entity, sp, session, 'relay');
 */
export function idpLogoutRequest(
  idp: samlify.IdentityProviderInstance,
  sp: SpPeer,
  session: IdpSession,
  relayState: string,
): PostMessage & { id: string } {
  const built = idp.createLogoutRequest(
    sp.entity,
    POST,
    { logoutNameID: session.nameId, sessionIndex: session.sessionIndex },
    { relayState },
  ) as { id: string; context: string; entityEndpoint: string };
  if (!built.entityEndpoint)
    throw new ConformanceError('SP_METADATA_INVALID', 502, 'the SP metadata lists no HTTP-POST SingleLogoutService');
  return { id: built.id, url: built.entityEndpoint, fields: { SAMLRequest: built.context, RelayState: relayState } };
}

/** Verifies the SP's LogoutResponse (signature against the SP metadata); returns its top-level status. */
export async function readSpLogoutResponse(
  idp: samlify.IdentityProviderInstance,
  sp: SpPeer,
  samlResponse: string | null,
): Promise<{ inResponseTo: string | undefined; status: string | undefined }> {
  if (!samlResponse) throw new ConformanceError('LOGOUT_RESPONSE_INVALID', 400, 'no SAMLResponse');
  try {
    const parsed = await idp.parseLogoutResponse(sp.entity, POST, { body: { SAMLResponse: samlResponse } });
    const extract = parsed.extract as { response?: { inResponseTo?: string } };
    return { inResponseTo: extract.response?.inResponseTo, status: 'urn:oasis:names:tc:SAML:2.0:status:Success' };
  } catch (cause) {
    throw new ConformanceError('LOGOUT_RESPONSE_INVALID', 400, 'the LogoutResponse does not verify', { cause });
  }
}
