/**
 * The legacy SAML adapter passes the adapter contract suite (`suite.ts`): our own test IdP answers, signing
 * its assertions with xml-crypto; the adapter's SP key is in a SoftHSM2 token, its state in Redis.
 */
import test from 'ava';
import { signedBy } from '../../helpers/saml/logout-messages.ts';
import { createSamlTestBed, openSpKeys } from '../../helpers/saml/test-bed.ts';
import { createTestIdp } from '../../helpers/saml/test-idp.ts';
import { CONTRACT_SLO, samlLogoutSubject } from './saml-logout-subject.ts';
import { freshToken } from '../../helpers/services.ts';
import { contractSuite, type ContractSubject, type Defect } from './suite.ts';

const token = freshToken();
const SUBSTANTIAL = 'http://eidas.europa.eu/LoA/substantial';

async function open(): Promise<ContractSubject> {
  const keys = await openSpKeys(token);
  const idp = await createTestIdp({ slo: { post: 'https://idp.test.example/slo' } });
  const bed = await createSamlTestBed(keys, { maxLoa: SUBSTANTIAL }, undefined, { idp, sloUrl: CONTRACT_SLO });
  return {
    adapter: bed.adapter,
    unreachable: 'http://eidas.europa.eu/LoA/high',
    codes: {
      'bad-signature': 'SAML_SIGNATURE_INVALID',
      'wrong-audience': 'SAML_AUDIENCE_INVALID',
      expired: 'SAML_EXPIRED',
      'unknown-loa': 'SAML_LOA_INVALID',
      replay: 'SAML_REPLAY',
      'wrong-browser': 'SAML_INRESPONSETO_SESSION_MISMATCH',
    },
    logout: samlLogoutSubject(bed.adapter.id, idp.entityId, (xml, id) => signedBy(xml, id, idp)),
    async start(browser) {
      const loginId = `contract-${Math.random().toString(36).slice(2)}`;
      const start = await bed.adapter.startLogin({
        loginId,
        browserBinding: browser,
        minimumLoa: SUBSTANTIAL,
        forceAuthn: false,
      });
      if (start.binding !== 'post') throw new Error('expected the POST binding');
      const request = Buffer.from(start.fields.SAMLRequest!, 'base64').toString('utf8');
      const requestId = /\sID="([^"]+)"/.exec(request)![1]!;
      return {
        loginId,
        start,
        async answer(defect?: Defect) {
          const f = bed.fields(requestId);
          if (defect === 'wrong-audience') f.audience = 'https://another-sp.example/metadata';
          if (defect === 'expired') f.notOnOrAfter = f.confirmationNotOnOrAfter = new Date(Date.now() - 10 * 60_000);
          if (defect === 'unknown-loa') f.loa = 'http://eidas.europa.eu/LoA/medium';
          let xml = bed.signedResponse(f);
          // an attribute changed after signing
          if (defect === 'bad-signature') xml = xml.replace('>Ada<', '>Eve<');
          return { SAMLResponse: Buffer.from(xml, 'utf8').toString('base64'), RelayState: start.correlation };
        },
      };
    },
    async close() {
      await bed.close();
      await keys.store.close();
    },
  };
}

contractSuite(test, 'legacy SAML', open, { logout: 'offered' });
