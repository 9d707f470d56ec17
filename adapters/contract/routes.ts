/**
 * The HTTP routes an upstream protocol serves, declared through the contract so that the gateway mounts them
 * without knowing the protocol (it never writes `/saml/...` itself). Four kinds, each a closed shape:
 *
 * | kind             | what the gateway does with it |
 * |------------------|-------------------------------|
 * | `login-response` | the IdP's answer to a login (a SAML ACS, an OAuth redirect URI): reads the body or query (≤ `maxBodyBytes`), finds the login filed under `correlation(params)`, hands the message to that login's adapter (`finishLogin`), then the translation point |
 * | `document`       | a public document (our SP metadata, a JWKS): `serve()` answers it as is |
 * | `logout`         | the protocol's front-channel logout door (a SAML SingleLogoutService): `direction(params)` says whether the IdP asks us to end sessions (`request`: the adapter its message names verifies it, `answerLogout`, the gateway ends the sessions its typed `UpstreamLogoutRequest` names) or answers our request (`response`: `finishLogout`; `correlation(params)` gives back the relay value of `startLogout`) |
 * | `endpoint`       | any other exchange that ends at the adapter (an artifact resolution): `handle()` gets a neutral request and returns a neutral response |
 *
 * Logout is a kind of its own, not an `endpoint`, because the gateway owns what it ends (sessions, the RPs told
 * over the back channel) and the adapter owns only the messages: what crosses is typed records
 * (`UpstreamLogoutRequest`, `FrontChannel`, `AnsweredLogoutRefusal`, in `contract.ts`), never a gateway session.
 */
import type { AdapterErrorCode } from '../errors/registry.ts';

export type AdapterRouteMethod = 'GET' | 'POST';

/** What the gateway passes an `endpoint` route: the transport only, already size-limited and parsed. */
export interface AdapterHttpRequest {
  method: AdapterRouteMethod;
  /** Form fields (POST) or query parameters (GET); a repeated name is refused before the handler runs. */
  params: Record<string, string>;
  /** The value bound to this browser (same computation as at the start of a login), when it has one. */
  browserBinding: string | undefined;
  /**
   * The same browser's binding under the keys used before a rotation (`InboundMessage.earlierBrowserBindings`):
   * compare a binding stored earlier with both.
   */
  earlierBrowserBindings?: readonly string[];
}

/** What an `endpoint` or `document` route answers; the gateway adds its own security headers. */
export interface AdapterHttpResponse {
  status: number;
  contentType: string;
  /** Extra headers (e.g. `Cache-Control`); `Content-Type` comes from `contentType`. */
  headers: Record<string, string>;
  body: string;
}

interface RouteBase {
  method: AdapterRouteMethod;
  /** An exact path (no parameters), e.g. `/saml/acs`. Two routes with one method and path refuse the boot. */
  path: string;
}

/** The answer to a login: the gateway's generic "upstream answered" path takes it to the translation point. */
export interface LoginResponseRoute extends RouteBase {
  kind: 'login-response';
  /** The largest body accepted, in bytes (the adapter checks its own, tighter limits again). */
  maxBodyBytes: number;
  /** The correlation value of `LoginStart`, read from the answer; undefined when it is absent or malformed. */
  correlation(params: Record<string, string>): string | undefined;
  /**
   * The codes the gateway refuses with: no login under the correlation value; the adapter's login differs; and the
   * adapter's code for an answer already consumed, which the gateway never attributes to a login (the post that
   * consumed it may be this very login's, still going on: a double submit must not fail it).
   */
  codes: { correlationInvalid: AdapterErrorCode; loginMismatch: AdapterErrorCode; replayed: AdapterErrorCode };
}

export interface DocumentRoute extends RouteBase {
  kind: 'document';
  method: 'GET';
  serve(): Promise<AdapterHttpResponse>;
}

export interface EndpointRoute extends RouteBase {
  kind: 'endpoint';
  maxBodyBytes: number;
  handle(request: AdapterHttpRequest): Promise<AdapterHttpResponse>;
}

/**
 * The front-channel logout door of a protocol (SP-initiated answers and IdP-initiated requests on one URL, as
 * SAML's SingleLogoutService). The adapters' `logout` capability (`UpstreamLogout`) does the protocol work.
 */
export interface LogoutRoute extends RouteBase {
  kind: 'logout';
  /** The largest body accepted, in bytes (the adapter checks its own, tighter limits again). */
  maxBodyBytes: number;
  /**
   * Whether the message is an IdP's request to end sessions or its answer to ours, from its parameters only
   * (nothing is trusted yet); throws an `AdapterError` for neither or both.
   */
  direction(params: Record<string, string>): 'request' | 'response';
  /** The relay value `startLogout` was given, read back from an answer; undefined when absent or malformed. */
  correlation(params: Record<string, string>): string | undefined;
  /** The code the gateway refuses with when no adapter of ours names the message's sender. */
  codes: { issuerUnknown: AdapterErrorCode };
}

export type AdapterRoute = LoginResponseRoute | DocumentRoute | LogoutRoute | EndpointRoute;
