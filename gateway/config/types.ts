/** The validated configuration every part of the gateway receives. Produced only by `loadConfig`. */
import type { SsfReceiver } from './ssf.ts';
import type { UpstreamSections } from '../../adapters/protocols/table.ts';
import type { Acr } from '../translate/acr.ts';
import type { WebAuthnConfig } from './webauthn.ts';
import type { OpsConfig } from './ops.ts';
import type { RiskOverloadConfig } from './risk-overload.ts';
import type { RateLimitConfig } from './ratelimit.ts';
import type { ResourceServerEntry } from './resource-servers.ts';

export const GRANT_TYPES = ['authorization_code', 'refresh_token'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];
/** How a client's access tokens are made (config/clients.ts `access_token_format`). */
export const ACCESS_TOKEN_FORMATS = ['jwt', 'opaque'] as const;
export type AccessTokenFormat = (typeof ACCESS_TOKEN_FORMATS)[number];

export interface ClientEntry {
  client_id: string;
  client_name: string;
  client_secret?: string;
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  jwks_uri?: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  id_token_signed_response_alg: string;
  /**
   * `jwt`: RFC 9068 access tokens signed in the HSM; `opaque`: random values, looked up (config/clients.ts).
   */
  access_token_format: AccessTokenFormat;
  /** The JWT access token's `alg` (RFC 9068), signed with the active `access_token` key of that algorithm. */
  access_token_signed_response_alg: string;
  default_acr_values: Acr[];
  /** This client's floor; raises (never lowers) the federation's minimum. */
  minimum_acr?: Acr;
  scope: string;
  /** https URL of a JSON array listing every redirect URI (OIDC Core §8.1); required when they span hosts. */
  sector_identifier_uri?: string;
  /** Switches for RP software with known defects (config/clients.ts); every default is the standard behaviour. */
  compatibility: { errorResponseIss: 'send' | 'omit' };
  /** `authorization_code`, and `refresh_token` for a client that opts in to (rotating) refresh tokens. */
  grant_types: GrantType[];
  /** OIDC Back-Channel Logout 1.0: where logout tokens are POSTed (https; http on loopback). */
  backchannel_logout_uri?: string;
  /** Whether logout tokens carry `sid` (default true). */
  backchannel_logout_session_required: boolean;
  /** Shared Signals: the RP's CAEP receiver (push, RFC 8935) and the events it wants (config/ssf.ts). */
  ssf?: SsfReceiver;
}

/** Each upstream protocol's section sits at the top level under its own key (`adapters/protocols/table.ts`). */
export interface GatewayConfig extends UpstreamSections {
  issuer: string;
  listen: { host: string; port: number };
  /** Reverse proxies whose X-Forwarded-For / X-Forwarded-Host are believed (addresses or CIDR blocks). */
  trustedProxies: string[];
  /** The operations listener (admin API, /metrics, /ready) and its operators; off unless enabled. */
  ops: OpsConfig;
  /** PostgreSQL: the primary, and a streaming replica for the reads that may lag (config/stores.ts). */
  database: {
    url: string;
    replicaUrl?: string;
    replicaLag?: { heartbeatMs: number; maxMs: number; recoverMs: number; recoverSeconds: number };
  };
  /** Redis: exactly one of `url`, `sentinel`, `cluster` (config/stores.ts). */
  redis: {
    url?: string;
    sentinel?: {
      sentinels: Array<{ host: string; port: number }>;
      name: string;
      password?: string;
      sentinelPassword?: string;
    };
    cluster?: { nodes: Array<{ host: string; port: number }>; password?: string };
    keyPrefix: string;
    commandTimeoutMs: number;
    /** TLS to every connection of the topology (config/redis-tls.ts); with `url`, a `rediss://` one. */
    tls?: { ca?: string; cert?: string; key?: string; servername?: string };
  };
  hsm: {
    library: string;
    tokenLabel: string;
    pin: string;
    poolSize: number;
    /** Signatures allowed to wait for a session before HSM_BUSY (default 1024). */
    maxWaiting: number;
    /** Longest wait for a session before HSM_BUSY, ms (default 10,000). */
    acquireTimeoutMs: number;
    /** Above this many waiting signatures, new logins are shed (503 HSM_BUSY) and /ready is not ready (default 256). */
    shedQueueDepth: number;
  };
  secrets: {
    cookieKeys: string[];
    pairwiseSalt: string;
    browserBindingKey: string;
    /** Keys `browserBindingKey` replaced: a device cookie they signed still reads (and is signed anew). */
    previousBrowserBindingKeys: string[];
    /** The DPoP nonces' secret (oidc/dpop-nonces.ts); unset: derived from `browserBindingKey`. */
    dpopNonceKey?: string | undefined;
  };
  /**
   * `earlierNamesUntil` (epoch ms): until then an earlier version's un-prefixed binding and device cookies are
   * still read on an https issuer (http/cookie-names.ts); unset: never.
   */
  cookies: { secure: boolean; earlierNamesUntil?: number };
  clients: ClientEntry[];
  /** APIs that introspect the access tokens of the RPs they name, with credentials of their own. */
  resourceServers: ResourceServerEntry[];
  /** How sector_identifier_uri documents are fetched: extra CAs for their https servers, refresh period (s). */
  sectorIdentifiers: { caFiles: string[]; refreshSeconds: number };
  /** Where signed audit checkpoints are also appended, outside the database (append-only JSON lines). */
  audit: { anchorFile?: string; spoolDir?: string };
  /** The risk policy set's JSON file (default: the built-in policy); rule-only mode when slow (config/risk-overload.ts). */
  risk: {
    policyFile?: string;
    /** A GeoIP CSV (risk/geoip-file.ts): the address's country and coordinates for travel and location checks. */
    geoipFile?: string;
    overload: RiskOverloadConfig;
  };
  /** The federation's policy: the lowest acr any login may end with (default eidas2). */
  federation: {
    minimumAcr: Acr;
    /** With exactly one IdP available that reaches the required acr, skip the chooser (default true). */
    skipChooserWithOneIdp: boolean;
    /**
     * The IdP's answer and an SSO login go straight to oidc-provider's resume, where the login completes
     * (default true); false: through GET /interaction/:uid/complete first, for a rolling upgrade from an
     * older version (completion/resume-path.ts).
     */
    completeAtResume: boolean;
  };
  /**
   * DPoP server nonces (RFC 9449 §8) at the token and PAR endpoints: `required` (default) refuses a proof without
   * the gateway's nonce (use_dpop_nonce); `offered` hands them out and checks one when sent.
   */
  dpop: { nonce: 'required' | 'offered' };
  ttl: {
    session: number;
    idToken: number;
    accessToken: number;
    refreshToken: number;
    authorizationCode: number;
    interaction: number;
    grant: number;
  };
  /** Worker processes serving the one port (node:cluster); default the number of cores; 1 = no cluster. */
  workers: number;
  logging: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  /** WebAuthn: what an enrolled credential may stand in for (config/webauthn.ts). */
  webauthn: WebAuthnConfig;
  /** Rate limits: global, per RP tier and client, per address, failures (config/ratelimit.ts). */
  rateLimit: RateLimitConfig;
}
