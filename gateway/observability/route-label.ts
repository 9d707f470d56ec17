/**
 * The bounded `route` label of `gateway_http_requests_total`: the pattern of a known route, or `other`.
 * A raw path is never a label value (login ids, typos and scans would create a series each).
 */

const UID = '[A-Za-z0-9_-]{1,128}';

const PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  [new RegExp(`^/interaction/${UID}$`), '/interaction/:uid'],
  [new RegExp(`^/interaction/${UID}/idp$`), '/interaction/:uid/idp'],
  [new RegExp(`^/interaction/${UID}/complete$`), '/interaction/:uid/complete'],
  [new RegExp(`^/interaction/${UID}/signals$`), '/interaction/:uid/signals'],
  [new RegExp(`^/interaction/${UID}/review$`), '/interaction/:uid/review'],
  [new RegExp(`^/interaction/${UID}/[a-z-]{1,32}$`), '/interaction/:uid/:step'],
  [new RegExp(`^/auth/${UID}$`), '/auth/:uid'],
  [/^\/admin(\/.*)?$/, '/admin/*'],
  [/^\/session\/end(\/confirm|\/success)?$/, '/session/end'],
  [/^\/token\/introspection$/, '/token/introspection'],
  [/^\/token\/revocation$/, '/token/revocation'],
];

const EXACT = new Set([
  '/',
  '/health',
  '/ready',
  '/metrics',
  '/jwks',
  '/authorize',
  '/auth',
  '/token',
  '/me',
  '/userinfo',
  '/reg',
  '/request',
  '/par',
  '/.well-known/openid-configuration',
  '/saml/acs',
  '/saml/metadata',
  '/risk/assessment',
]);

/**
 * The route pattern of `path`, or `'other'`.
 *
 * @example
 * routeLabel('/interaction/abc123/complete') // '/interaction/:uid/complete'
 */
export function routeLabel(path: string): string {
  if (EXACT.has(path)) return path;
  for (const [pattern, label] of PATTERNS) if (pattern.test(path)) return label;
  return 'other';
}
