/**
 * The demo SAML IdP server (node:http, 127.0.0.1).
 *
 * | route | does |
 * |---|---|
 * | `GET /` | what this is |
 * | `GET /metadata` | IdP metadata (entityID `<baseUrl>/metadata`, SSO POST + Redirect, signing cert) |
 * | `POST /sso`, `GET /sso` | verifies the SP's signed AuthnRequest (`verify-authn-request.ts`), shows the login form |
 * | `POST /login` | checks the demo password, answers with an auto-POST of a signed Response to the ACS |
 * | `POST /slo` | Single Logout: the SP's LogoutRequest (verified, the session forgotten, a signed LogoutResponse posted back) or the SP's LogoutResponse to ours |
 * | `POST /logout` | the person logs out at the IdP (`session_index`): a signed LogoutRequest posted to the SP (`single-logout.ts`) |
 *
 * Programmable: `responseOverrides` (option, or `setResponseOverrides()` on the handle) is applied to every
 * Response built after it is set — see `build-response.ts` for what can be falsified.
 */
import { timingSafeEqual } from 'node:crypto';
import { ConformanceError } from '../errors.ts';
import { sendHtml, serve, type RouteContext } from '../http/server.ts';
import { buildLoginResponse, type ResponseOverrides } from './build-response.ts';
import { demoUsers, findUser, type DemoUser } from './demo-users.ts';
import { createIdpEntity, type IdpEntity } from './idp-entity.ts';
import { autoPostPage, autoPostRequestPage, indexPage, loginPage } from './pages.ts';
import { PendingRequests } from './pending-requests.ts';
import {
  answerSpLogout,
  idpLogoutRequest,
  LogoutSessions,
  readSpLogoutResponse,
  type IdpSession,
  type PostMessage,
} from './single-logout.ts';
import { lazySpPeer, type SpMetadataSource } from './sp-peer.ts';
import { verifyAuthnRequest, type InboundAuthnRequest } from './verify-authn-request.ts';

/** Options of `startDemoIdp`. Give exactly one of `spMetadataUrl` / `spMetadataXml`. */
export interface DemoIdpOptions {
  /** TCP port on 127.0.0.1; 0 for any free port. */
  port: number;
  /** Public base URL (no trailing slash); default `http://127.0.0.1:<port>`. */
  baseUrl?: string;
  /** The gateway's SP metadata URL (e.g. `<gateway>/saml/metadata`), fetched at first use. */
  spMetadataUrl?: string;
  /** Or the SP metadata itself. */
  spMetadataXml?: string;
  /** The IdP's signing key and certificate (PEM) — `ensureDevPki()` returns exactly this shape. */
  keys: { idpKeyPem: string; idpCertPem: string };
  /** Users who may log in; default `demoUsers`. */
  users?: readonly DemoUser[];
  /** Applied to every Response (hostile-message crafting). */
  responseOverrides?: ResponseOverrides;
  /** Observer of errors answered to clients (default: none). */
  onError?: (error: ConformanceError) => void;
}

/** A running demo IdP. */
export interface DemoIdp {
  /** Base URL. */
  url: string;
  /** Metadata URL = entityID. */
  metadataUrl: string;
  entityId: string;
  /** Replaces the overrides applied to the next Responses (`undefined` = honest IdP). */
  setResponseOverrides(overrides: ResponseOverrides | undefined): void;
  /** The upstream sessions this IdP opened and has not ended (Single Logout). */
  sessions(): IdpSession[];
  /** IdP-initiated Single Logout: a signed LogoutRequest for one session, to POST to the SP. */
  logoutRequest(sessionIndex: string, relayState?: string): Promise<PostMessage & { id: string }>;
  /** The SP's LogoutResponses received at `/slo` (verified), newest last. */
  logoutResponses(): { inResponseTo: string | undefined; status: string | undefined }[];
  stop(): Promise<void>;
}

/**
 * Starts the demo IdP.
 *
 * @example
 * const idp = await startDemoIdp({ port: 0, spMetadataUrl: 'http://127.0.0.1:3000/saml/metadata', keys: ensureDevPki() });
 * // ... idp.metadataUrl goes into the gateway's IdP registry
 * await idp.stop();
 */
export async function startDemoIdp(options: DemoIdpOptions): Promise<DemoIdp> {
  const source = spSource(options);
  const getSp = lazySpPeer(source);
  const users = options.users ?? demoUsers;
  const pending = new PendingRequests();
  const sessions = new LogoutSessions();
  const responses: { inResponseTo: string | undefined; status: string | undefined }[] = [];
  let overrides = options.responseOverrides;
  // The entity needs the base URL, known only once the server listens (port 0).
  const started: { idp?: IdpEntity } = {};
  const current = (): IdpEntity => {
    if (started.idp === undefined) throw new ConformanceError('INTERNAL', 500, 'IdP not started');
    return started.idp;
  };

  const showLogin = async (ctx: RouteContext, inbound: InboundAuthnRequest): Promise<void> => {
    const sp = await getSp();
    const request = await verifyAuthnRequest(current().entity, current().ssoUrl, sp, inbound);
    pending.put(request);
    sendHtml(ctx.res, 200, loginPage(request, sp.entityId, users));
  };

  const server = await serve(
    options.port,
    {
      'GET /': ({ res }) => sendHtml(res, 200, indexPage(current().entityId, sessions.list())),
      'GET /metadata': ({ res }) => {
        res.writeHead(200, {
          'content-type': 'application/samlmetadata+xml; charset=utf-8',
          'cache-control': 'no-store',
        });
        res.end(current().metadataXml);
      },
      'POST /sso': (ctx) =>
        showLogin(ctx, {
          binding: 'post',
          samlRequest: ctx.form.get('SAMLRequest'),
          relayState: ctx.form.get('RelayState'),
        }),
      'GET /sso': (ctx) => showLogin(ctx, { binding: 'redirect', rawQuery: ctx.rawQuery }),
      'POST /login': async ({ res, form }) => {
        const request = pending.get(form.get('request_id') ?? '');
        if (request === undefined || (form.get('RelayState') ?? null) !== request.relayState) {
          throw new ConformanceError(
            'AUTHN_REQUEST_UNKNOWN',
            400,
            'unknown or expired sign-in request: start again from the service',
          );
        }
        const sp = await getSp();
        const user = findUser(form.get('username') ?? '', users);
        if (user === undefined || !samePassword(user.password, form.get('password') ?? '')) {
          const error = new ConformanceError('LOGIN_BAD_CREDENTIALS', 401, 'Unknown username or wrong password.');
          options.onError?.(error);
          sendHtml(res, 401, loginPage(request, sp.entityId, users, error.message), { 'x-error-code': error.code });
          return;
        }
        const built = buildLoginResponse({
          idp: {
            entityId: current().entityId,
            privateKeyPem: options.keys.idpKeyPem,
            certPem: options.keys.idpCertPem,
          },
          sp: { entityId: sp.entityId, acsUrl: request.acsUrl },
          user,
          inResponseTo: request.id,
          overrides,
        });
        pending.consume(request.id);
        sessions.add({
          nameId: built.nameId,
          nameIdFormat: built.nameIdFormat,
          sessionIndex: built.sessionIndex,
          spEntityId: sp.entityId,
        });
        sendHtml(res, 200, autoPostPage(request.acsUrl, built.base64, request.relayState));
      },
      'POST /slo': async ({ res, form }) => {
        const sp = await getSp();
        if (form.get('SAMLResponse') !== null) {
          responses.push(await readSpLogoutResponse(current().entity, sp, form.get('SAMLResponse')));
          sendHtml(res, 200, indexPage(current().entityId, sessions.list()));
          return;
        }
        const reply = await answerSpLogout(
          current().entity,
          sp,
          sessions,
          form.get('SAMLRequest'),
          form.get('RelayState'),
        );
        sendHtml(res, 200, autoPostPage(reply.url, reply.fields.SAMLResponse!, reply.fields.RelayState ?? null));
      },
      'POST /logout': async ({ res, form }) => {
        const session = sessions.get(form.get('session_index') ?? '');
        if (session === undefined) throw new ConformanceError('LOGOUT_SESSION_UNKNOWN', 400, 'no such session here');
        const message = idpLogoutRequest(current().entity, await getSp(), session, 'idp-initiated');
        sessions.end(session.sessionIndex);
        sendHtml(res, 200, autoPostRequestPage(message));
      },
    },
    options.onError,
  );

  const baseUrl = (options.baseUrl ?? server.origin).replace(/\/+$/, '');
  const idp = createIdpEntity(baseUrl, { privateKeyPem: options.keys.idpKeyPem, certPem: options.keys.idpCertPem });
  started.idp = idp;
  return {
    url: baseUrl,
    metadataUrl: idp.entityId,
    entityId: idp.entityId,
    setResponseOverrides: (next) => {
      overrides = next;
    },
    sessions: () => sessions.list(),
    logoutRequest: async (sessionIndex, relayState = 'idp-initiated') => {
      const session = sessions.get(sessionIndex);
      if (session === undefined) throw new ConformanceError('LOGOUT_SESSION_UNKNOWN', 400, 'no such session here');
      return idpLogoutRequest(current().entity, await getSp(), session, relayState);
    },
    logoutResponses: () => [...responses],
    stop: () => server.stop(),
  };
}

function spSource(options: DemoIdpOptions): SpMetadataSource {
  if ((options.spMetadataUrl === undefined) === (options.spMetadataXml === undefined)) {
    throw new ConformanceError('SP_METADATA_INVALID', 500, 'give exactly one of spMetadataUrl and spMetadataXml');
  }
  return options.spMetadataXml !== undefined
    ? { spMetadataXml: options.spMetadataXml }
    : { spMetadataUrl: options.spMetadataUrl as string };
}

function samePassword(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
