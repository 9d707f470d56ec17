/**
 * The logout side of a SAML contract subject: an IdP (our test IdP or the test eIDAS node) that answers our
 * LogoutRequest and sends its own, signed with its key (`sign`), for `contractSuite`'s logout checks.
 */
import type { FrontChannel } from '../../../adapters/contract.ts';
import {
  logoutRequestFields,
  logoutRequestXml,
  logoutResponseXml,
  PERSISTENT,
  postMessage,
  successResponse,
} from '../../helpers/saml/logout-messages.ts';
import type { TestIdp } from '../../helpers/saml/test-idp.ts';
import type { LogoutSubject } from './suite.ts';

export const CONTRACT_SLO = 'https://gateway.test.example/saml/slo';

export function samlLogoutSubject(
  idp: string,
  entityId: string,
  sign: (xml: string, id: string) => string,
): LogoutSubject {
  const session = { idp, subject: 'contract-subject-4711', nameIdFormat: PERSISTENT, sessionIndex: 'idx-contract' };
  const issuer = { entityId } as TestIdp;
  return {
    offered: true,
    session,
    async answer(start: FrontChannel) {
      if (start.binding !== 'post') throw new Error('the subject IdP lists an HTTP-POST SingleLogoutService');
      const request = Buffer.from(start.fields.SAMLRequest!, 'base64').toString('utf8');
      const answer = successResponse(issuer, CONTRACT_SLO, /\sID="([^"]+)"/.exec(request)![1]!);
      return postMessage('SAMLResponse', sign(logoutResponseXml(answer), answer.id), start.fields.RelayState);
    },
    async request(defect) {
      const fields = logoutRequestFields(issuer, CONTRACT_SLO, session.subject, session.sessionIndex);
      let xml = sign(logoutRequestXml(fields), fields.id);
      // the NameID changed after signing
      if (defect === 'bad-signature') xml = xml.replace(`>${session.subject}<`, '>someone-else<');
      return postMessage('SAMLRequest', xml, 'idp-relay');
    },
    codes: {
      'bad-signature': 'SAML_LOGOUT_SIGNATURE_INVALID',
      replay: 'SAML_LOGOUT_REPLAYED',
      'unknown-session': 'SAML_LOGOUT_UNKNOWN_SESSION',
    },
  };
}
