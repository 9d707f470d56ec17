/**
 * The path of oidc-provider's resume of an interaction (`routes.authorization` + `/:uid`, the path of its
 * resume cookie): where the browser goes once the upstream IdP answered or an SSO login was decided; the
 * completion step runs there, in front of oidc-provider (interaction/resume-completion.ts).
 *
 * @example
 * resumePath('AbC-123'); // '/auth/AbC-123'
 */
export function resumePath(uid: string): string {
  return `/auth/${encodeURIComponent(uid)}`;
}
