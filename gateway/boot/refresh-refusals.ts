/**
 * What a refresh re-runs (oidc/refresh-policy.ts), wired for boot.ts: the RP's deny level from the policy set read
 * when a refresh happens, and what a refused refresh does — ends the token's grant (its own login no longer known,
 * or the session now another person's) or revokes the session (the login's score at the RP's deny level), and
 * audits `TOKEN_REFUSED` with the code.
 */
import type { AdapterRegistry } from '../../adapters/registry.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { idpNoLongerVouches } from '../idps/idp-still-vouches.ts';
import type { AccountStore } from '../oidc/accounts.ts';
import type { RefreshPolicyDeps } from '../oidc/refresh-policy.ts';
import type { SectorIdentifiers } from '../oidc/sector-identifiers.ts';
import { ruleFor, type PolicySet } from '../policy/policy-set.ts';
import type { Sessions } from '../session/boot-sessions.ts';

/**
 * @example
 * const refresh = refreshRefusals({ accounts, sessions, audit, policies: () => services.fraud.policies });
 */
export function refreshRefusals(deps: {
  accounts: AccountStore;
  sessions: Pick<Sessions, 'namesAnotherPerson' | 'grants' | 'revoker'>;
  audit: Pick<AuditLog, 'append'>;
  policies: () => PolicySet;
  /** The IdPs configured now (their availability, `onlyClients`, `maxLoa`) and those this instance left out. */
  adapters: Pick<AdapterRegistry, 'list' | 'leftOutEnabled'>;
  /** The clients refused for their sector identifier document. */
  sectors: Pick<SectorIdentifiers, 'assertNoInvalidVerdict'>;
}): RefreshPolicyDeps {
  return {
    accounts: deps.accounts,
    assertClientUsable: (clientId) => deps.sectors.assertNoInvalidVerdict(clientId),
    denyAt: (clientId, idp) => ruleFor(deps.policies(), clientId, idp).thresholds.deny,
    idpWithdrawn: (idp, clientId, acr) => {
      const why = idpNoLongerVouches(deps.adapters.list(), idp, clientId, acr, deps.adapters.leftOutEnabled);
      // an IdP this instance could not load (a row unreadable here, a key missing on this host) is withdrawn by
      // nobody: ending its people's grants here, on a badly provisioned host or during an upgrade, would be a loss
      return why === 'idp_not_loaded_here' ? null : why;
    },
    refuse: async ({ sessionUid, clientId, accountId, grantId, code, withdrawn, score, deny }) => {
      // a session now another person's (two people's logins at once on one browser) is not this person's to lose
      const another = sessionUid !== undefined && (await deps.sessions.namesAnotherPerson(sessionUid, accountId));
      // a refresh refused for its own login (no longer kept, or its IdP session over) ends only its grant: the
      // session may stand on a newer login of the person by now (oidc-provider keeps its uid across logins)
      const ownLoginOnly = code !== 'REFRESH_RISK_TOO_HIGH';
      // an IdP only disabled ends nothing: the refresh is refused while it is (a forged disable, undone by the registry
      // within 30 s, must not end grants for good; after a compromise the operator revokes the IdP's sessions). Removed,
      // not for this client, or its maxLoa lowered (nothing a message can forge): the grant ends
      const endsGrant = code !== 'REFRESH_IDP_WITHDRAWN' || withdrawn !== 'idp_disabled';
      if ((another || ownLoginOnly) && grantId && endsGrant)
        await deps.sessions.grants.end(grantId, code, { model: 'RefreshToken', clientId });
      const revoked =
        sessionUid && !another && !ownLoginOnly
          ? await deps.sessions.revoker.revokeSession(
              { uid: sessionUid },
              {
                actor: 'refresh-policy',
                reason:
                  score === undefined
                    ? `${code} at refresh by ${clientId}`
                    : `fraud score ${score} >= ${deny} at refresh by ${clientId}`,
              },
            )
          : undefined;
      await deps.audit.append({
        sessionId: `refresh:${clientId}`,
        from: null,
        to: 'TOKEN_REFUSED',
        component: 'oidc',
        errorCode: code,
        details: {
          clientId,
          ...(score === undefined ? {} : { score, deny }),
          sessionsRevoked: revoked?.sessions ?? 0,
          ...(another ? { sessionOfAnotherPerson: true } : {}),
        },
      });
    },
  };
}
