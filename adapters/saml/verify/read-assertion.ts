/**
 * Reads a signed saml:Assertion element into `SignedAssertion`. Called only on signed bytes.
 *
 * - Version 2.0, ID, IssueInstant, Issuer required; one Subject with one NameID (non-empty, no
 *   comment: text nodes only); one AuthnStatement.
 * - Conditions: only AudienceRestriction, OneTimeUse, ProxyRestriction are understood; any other
 *   condition is refused (`SAML_SCHEMA_INVALID`, SAML-CND-01: Indeterminate is not Valid). OneTimeUse and
 *   ProxyRestriction are read (at most one each; Count a non-negative integer) for later steps.
 * - Attributes keep every value, in order.
 */
import type { Element } from '@xmldom/xmldom';
import { samlError } from '../errors.ts';
import { requireXsId } from '../xml/xs-id.ts';
import { attr, childrenNamed, elementChildren, optionalChild, requiredChild, textOnly } from '../xml/dom.ts';
import { NAMEID_UNSPECIFIED, NS } from '../xml/namespaces.ts';
import type { SignedAssertion, SubjectConfirmation } from './context.ts';
import { issuerText } from './issuer.ts';

const A = NS.assertion;
const UNDERSTOOD_CONDITIONS = new Set(['AudienceRestriction', 'OneTimeUse', 'ProxyRestriction']);

export function readAssertion(assertion: Element): SignedAssertion {
  const id = attr(assertion, 'ID');
  const issueInstant = attr(assertion, 'IssueInstant');
  if (!id || !issueInstant || attr(assertion, 'Version') !== '2.0') {
    throw samlError('SAML_SCHEMA_INVALID', { detail: 'Assertion ID, IssueInstant or Version missing' });
  }
  requireXsId(id, 'Assertion ID'); // before the replay guard keys it (`replay.ts`)
  const subject = requiredChild(assertion, A, 'Subject');
  const nameIdElement = requiredChild(subject, A, 'NameID');
  const nameId = textOnly(nameIdElement).trim();
  if (nameId.length === 0 || nameId.length > 256)
    throw samlError('SAML_NAMEID_INVALID', { detail: 'NameID empty or too long' });

  const confirmations: SubjectConfirmation[] = childrenNamed(subject, A, 'SubjectConfirmation').map((sc) => {
    const data = optionalChild(sc, A, 'SubjectConfirmationData');
    return {
      method: attr(sc, 'Method') ?? '',
      recipient: data && attr(data, 'Recipient'),
      notBefore: data && attr(data, 'NotBefore'),
      notOnOrAfter: data && attr(data, 'NotOnOrAfter'),
      inResponseTo: data && attr(data, 'InResponseTo'),
    };
  });

  const conditionsElement = optionalChild(assertion, A, 'Conditions');
  const audienceRestrictions: string[][] = [];
  let oneTimeUse = false;
  let proxyRestriction: { count?: number; audiences: string[] } | undefined;
  for (const condition of conditionsElement ? elementChildren(conditionsElement) : []) {
    if (condition.namespaceURI !== A || !UNDERSTOOD_CONDITIONS.has(condition.localName ?? '')) {
      throw samlError('SAML_SCHEMA_INVALID', { detail: `unsupported condition ${condition.localName ?? ''}` });
    }
    if (condition.localName === 'AudienceRestriction') {
      audienceRestrictions.push(childrenNamed(condition, A, 'Audience').map((a) => textOnly(a).trim()));
    } else if (condition.localName === 'OneTimeUse') {
      if (oneTimeUse) throw samlError('SAML_SCHEMA_INVALID', { detail: 'more than one OneTimeUse' });
      oneTimeUse = true;
    } else {
      if (proxyRestriction) throw samlError('SAML_SCHEMA_INVALID', { detail: 'more than one ProxyRestriction' });
      const count = attr(condition, 'Count');
      if (count !== undefined && !/^\d{1,9}$/.test(count))
        throw samlError('SAML_SCHEMA_INVALID', { detail: 'ProxyRestriction Count is not a non-negative integer' });
      proxyRestriction = {
        ...(count === undefined ? {} : { count: Number(count) }),
        audiences: childrenNamed(condition, A, 'Audience').map((a) => textOnly(a).trim()),
      };
    }
  }

  const authnStatements = childrenNamed(assertion, A, 'AuthnStatement');
  if (authnStatements.length !== 1)
    throw samlError('SAML_SCHEMA_INVALID', { detail: `${authnStatements.length} AuthnStatements` });
  const authn = authnStatements[0]!;
  const authnInstant = attr(authn, 'AuthnInstant');
  if (!authnInstant) throw samlError('SAML_SCHEMA_INVALID', { detail: 'AuthnInstant missing' });
  const context = requiredChild(authn, A, 'AuthnContext');
  const classRef = optionalChild(context, A, 'AuthnContextClassRef');

  const attributes = childrenNamed(assertion, A, 'AttributeStatement')
    .flatMap((statement) => childrenNamed(statement, A, 'Attribute'))
    .map((attribute) => {
      const nameFormat = attr(attribute, 'NameFormat');
      return {
        name: attr(attribute, 'Name') ?? '',
        ...(nameFormat === undefined ? {} : { nameFormat }),
        values: childrenNamed(attribute, A, 'AttributeValue').map(textOnly),
      };
    });

  return {
    id,
    issuer: issuerText(requiredChild(assertion, A, 'Issuer')),
    issueInstant,
    nameId: { value: nameId, format: attr(nameIdElement, 'Format') ?? NAMEID_UNSPECIFIED },
    confirmations,
    conditions: {
      notBefore: conditionsElement && attr(conditionsElement, 'NotBefore'),
      notOnOrAfter: conditionsElement && attr(conditionsElement, 'NotOnOrAfter'),
      audienceRestrictions,
      oneTimeUse,
      ...(proxyRestriction ? { proxyRestriction } : {}),
    },
    authn: {
      instant: authnInstant,
      sessionIndex: attr(authn, 'SessionIndex'),
      sessionNotOnOrAfter: attr(authn, 'SessionNotOnOrAfter'),
      classRef: classRef && textOnly(classRef).trim(),
    },
    attributes,
  };
}
