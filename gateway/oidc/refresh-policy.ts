/**
 * What a refresh re-runs (issue #12 item 5), before a new token pair is issued — oidc-provider calls it as
 * `rotateRefreshToken(ctx)`, after its own checks (token found and unexpired, same client, DPoP key =
 * the token's `cnf.jkt` when bound, grant and account still there, not already rotated):
 *
 * 1. the session: the refresh token was found only if its session is not revoked and still has the
 *    version the token was issued under (`session/token-guard.ts`, at every read: `SESSION_REVOKED`,
 *    `SESSION_VERSION_STALE`);
 * 2. the risk policy's deny level for this RP and the IdP of the login behind the token (`policy/policy-set.ts`
 *    `ruleFor`): that login's fraud score (the latest login on its session: an SSO login's rewrites it; another
 *    login of the person, on another device, never does: accounts.ts `ofLogin`) at or above `thresholds.deny` refuses the refresh (`REFRESH_RISK_TOO_HIGH`) and revokes the session (or, when the session
 *    now names another person, ends only the token's grant: that session is not this person's to lose); a login the
 *    person's record no longer keeps (its score and IdP unknown) is refused too (`REFRESH_LOGIN_UNKNOWN`), and so is
 *    a login whose IdP said the person's session ends before now (SAML SessionNotOnOrAfter:
 *    `REFRESH_UPSTREAM_SESSION_OVER`), and so is a login whose IdP no longer vouches for it (disabled or removed by
 *    the operator, or its `maxLoa` lowered below the login's level: `REFRESH_IDP_WITHDRAWN`). These end only the
 *    token's grant, since the session may stand on a newer login of the person by now; but an IdP only disabled
 *    ends nothing (the refresh refused while it is: a disable is what anyone who can publish on Redis can forge).
 *
 * A client refused for its sector identifier document gets no refresh while it is (`unauthorized_client`; the grant
 * kept). It does not re-run the risk pipeline's stages (a refresh carries no browser signals) nor the acr rules
 * (the acr of a refresh is the login's). Every refresh rotates the token (returns true).
 */
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { tokenLoginOf, type AccountStore } from './accounts.ts';

export const REFRESH_RISK_TOO_HIGH = 'REFRESH_RISK_TOO_HIGH';
export const REFRESH_LOGIN_UNKNOWN = 'REFRESH_LOGIN_UNKNOWN';
export const REFRESH_UPSTREAM_SESSION_OVER = 'REFRESH_UPSTREAM_SESSION_OVER';
export const REFRESH_IDP_WITHDRAWN = 'REFRESH_IDP_WITHDRAWN';

export interface RefreshPolicyDeps {
  accounts: Pick<AccountStore, 'ofLogin'>;
  /** The policy's deny level (0..1) for a client and IdP. */
  denyAt(clientId: string, idp: string): number;
  /**
   * Whether the login's IdP no longer vouches for it (idps/idp-still-vouches.ts: unknown, disabled by the operator,
   * not for this client, or the login's level above its `maxLoa` now); `null` when it still does.
   */
  idpWithdrawn(idp: string, clientId: string, acr: string): string | null;
  /**
   * Throws when the client may not get tokens now (its sector identifier document refused: oidc/sector-identifiers.ts
   * `assertUsable`): its refreshes wait with its logins; its grants are kept for when the document is right again.
   */
  assertClientUsable?(clientId: string): void;
  /** Revokes the session (only the token's grant when the session now names another person) and audits the refusal. */
  refuse(facts: {
    sessionUid: string | undefined;
    clientId: string;
    accountId: string;
    grantId: string | undefined;
    code:
      | typeof REFRESH_RISK_TOO_HIGH
      | typeof REFRESH_LOGIN_UNKNOWN
      | typeof REFRESH_UPSTREAM_SESSION_OVER
      | typeof REFRESH_IDP_WITHDRAWN;
    /** Why the login's IdP no longer vouches for it (`REFRESH_IDP_WITHDRAWN`: idps/idp-still-vouches.ts). */
    withdrawn?: string;
    /** The login's score and the deny level (none for a login no longer known). */
    score?: number;
    deny?: number;
  }): Promise<void>;
}

export function refreshPolicy(deps: RefreshPolicyDeps): (ctx: KoaContextWithOIDC) => Promise<boolean> {
  return async (ctx) => {
    const token = ctx.oidc.entities.RefreshToken;
    const client = ctx.oidc.entities.Client;
    if (!token || !client || typeof token.accountId !== 'string')
      throw new errors.InvalidGrant('refresh token without account');
    // a client whose sector document was refused gets no new tokens, its refreshes no more than its logins (the pairwise
    // subjects of a sector its owner withdrew it from)
    try {
      deps.assertClientUsable?.(client.clientId);
    } catch (error) {
      throw new errors.UnauthorizedClient((error as Error).message);
    }
    // the login behind this refresh token (its IdP, its score), never the person's latest login elsewhere
    const account = await deps.accounts.ofLogin(token.accountId, tokenLoginOf(token));
    if (!account) throw new errors.InvalidGrant('account of the refresh token not found');
    // the record no longer keeps its login: its score and IdP unknown, no other login's stands in (fail closed);
    // or the IdP said the person's session with it ended (SessionNotOnOrAfter): nothing stands on it any more
    const over = account.upstreamSessionEnds !== undefined && Date.now() / 1000 >= account.upstreamSessionEnds;
    if (!account.known || over) {
      await deps.refuse({
        sessionUid: token.sessionUid,
        clientId: client.clientId,
        accountId: token.accountId,
        grantId: token.grantId,
        code: account.known ? REFRESH_UPSTREAM_SESSION_OVER : REFRESH_LOGIN_UNKNOWN,
      });
      throw new errors.InvalidGrant(
        account.known
          ? "the identity provider's session this login stood on is over; log in again"
          : 'the login behind this refresh token is no longer known; log in again',
      );
    }
    // the IdP the login came from must still vouch for it: the operator disabled it (a compromised key) or lowered
    // its level, and a token of that login is not carried on
    const acr = tokenLoginOf(token)?.acr ?? account.pivot.acr;
    const withdrawn = deps.idpWithdrawn(account.idp, client.clientId, acr);
    if (withdrawn !== null) {
      await deps.refuse({
        sessionUid: token.sessionUid,
        clientId: client.clientId,
        accountId: token.accountId,
        grantId: token.grantId,
        code: REFRESH_IDP_WITHDRAWN,
        withdrawn,
      });
      throw new errors.InvalidGrant('the identity provider of this login no longer vouches for it; log in again');
    }
    const deny = deps.denyAt(client.clientId, account.idp);
    if (account.fraudScore >= deny) {
      await deps.refuse({
        sessionUid: token.sessionUid,
        clientId: client.clientId,
        accountId: token.accountId,
        grantId: token.grantId,
        code: REFRESH_RISK_TOO_HIGH,
        score: account.fraudScore,
        deny,
      });
      throw new errors.InvalidGrant('refresh refused by the risk policy');
    }
    return true;
  };
}
