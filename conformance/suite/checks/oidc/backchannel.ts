/**
 * OIDF Back-Channel Logout OP plan essentials (`oidcc-backchannel-logout-discovery-endpoint-verification`;
 * OpenID Connect Back-Channel Logout 1.0 §2.1): a deployment that advertises back-channel logout must also
 * say whether logout tokens carry `sid` and offer an end_session_endpoint. A deployment that does not
 * advertise it is skipped with exactly that reason — the suite never passes what the target does not offer.
 */
import { judge, skip, type CheckDefinition } from '../../types.ts';

/** The skip reason when the target has no back-channel logout. */
export const NO_BACKCHANNEL = 'the target does not advertise backchannel_logout_supported';

/** The back-channel logout checks. */
export const backchannelChecks: readonly CheckDefinition[] = [
  {
    id: 'OIDC-BCL-01',
    title: 'Back-channel logout is advertised with session support and an end_session_endpoint',
    plan: 'oidc',
    source: 'OpenID Connect Back-Channel Logout 1.0 §2.1; oidcc-backchannel-logout-discovery-endpoint-verification',
    run: async (ctx) => {
      const d = ctx.rp.discovery;
      const sent = 'GET /.well-known/openid-configuration';
      const expected =
        'backchannel_logout_supported=true, backchannel_logout_session_supported=true, an end_session_endpoint';
      const observed = `backchannel_logout_supported=${String(d.backchannel_logout_supported)}, backchannel_logout_session_supported=${String(d.backchannel_logout_session_supported)}, end_session_endpoint=${d.end_session_endpoint === undefined ? 'absent' : 'present'}`;
      if (d.backchannel_logout_supported !== true) return skip(NO_BACKCHANNEL, { sent, expected, observed });
      return judge(d.backchannel_logout_session_supported === true && typeof d.end_session_endpoint === 'string', {
        sent,
        expected,
        observed,
      });
    },
  },
];
