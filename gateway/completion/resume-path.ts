import { AUTHORIZATION_PATH } from '../oidc/authorization-post.ts';

/**
 * Where the browser goes once the upstream IdP answered or an SSO login was decided: oidc-provider's resume of
 * the interaction (`routes.authorization` + `/:uid`, the path of its resume cookie), where the completion step
 * runs in front of oidc-provider (interaction/resume-completion.ts) — one request less per login (issue #14).
 *
 * `federation.completeAtResume: false` sends it through GET /interaction/:uid/complete first, as versions
 * before this one did: while a cluster is upgraded from such a version, an old instance's resume would not
 * run the completion step (it would start the login again), so the hop is kept until every instance runs
 * this version. Both paths stay served either way: the completion page finishes at the resume with a result.
 *
 * @example
 * afterDecisionPath({ completeAtResume: true }, 'AbC-123'); // '/auth/AbC-123'
 * afterDecisionPath({ completeAtResume: false }, 'AbC-123'); // '/interaction/AbC-123/complete'
 */
export function afterDecisionPath(federation: { completeAtResume: boolean }, uid: string): string {
  const id = encodeURIComponent(uid);
  return federation.completeAtResume ? `${AUTHORIZATION_PATH}/${id}` : `/interaction/${id}/complete`;
}
