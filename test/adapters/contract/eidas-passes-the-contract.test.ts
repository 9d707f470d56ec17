/**
 * The eIDAS adapter passes the adapter contract suite (`suite.ts`): a test eIDAS node answers with signed
 * Responses whose assertion is encrypted to our SoftHSM2 decryption key; state in Redis.
 */
import test from 'ava';
import { createEidasBed, hsmDecrypter, openEidasSpKeys } from '../../helpers/saml/eidas-bed.ts';
import { PSS_SHA256, signAsNode } from '../../helpers/saml/eidas-node.ts';
import { freshToken } from '../../helpers/services.ts';
import { CONTRACT_SLO, samlLogoutSubject } from './saml-logout-subject.ts';
import { contractSuite, type ContractSubject, type Defect } from './suite.ts';

const token = freshToken();
const SUBSTANTIAL = 'http://eidas.europa.eu/LoA/substantial';

async function open(): Promise<ContractSubject> {
  const keys = await openEidasSpKeys(token);
  const bed = await createEidasBed(keys, await hsmDecrypter(keys), {
    idp: { maxLoa: SUBSTANTIAL },
    sloUrl: CONTRACT_SLO,
  });
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
    // the node signs its logout messages as its responses: RSA-PSS (the eIDAS allow-list)
    logout: samlLogoutSubject(bed.adapter.id, bed.entityId, (xml, id) =>
      signAsNode(xml, { id, key: bed.node, method: PSS_SHA256 }),
    ),
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
          let xml = bed.response(requestId, {
            loa: defect === 'unknown-loa' ? 'http://eidas.europa.eu/LoA/medium' : SUBSTANTIAL,
            ...(defect === 'wrong-audience' ? { audience: 'https://another-sp.example/metadata' } : {}),
            ...(defect === 'expired' ? { now: new Date(Date.now() - 60 * 60_000) } : {}),
          });
          // the signed Response's Destination changed after signing
          if (defect === 'bad-signature') xml = xml.replace(' Destination="https://', ' Destination="http://');
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

contractSuite(test, 'eIDAS', open, { logout: 'offered' });
