/**
 * Validity windows (SAML 2.0 core §2.5.1.2, profiles §4.1.4.2): NotBefore in the future, NotOnOrAfter in
 * the past (Conditions or SubjectConfirmationData), and a stale IssueInstant are refused without a code.
 */
import type { CheckDefinition } from '../../types.ts';
import { refusal, resign } from './refusal.ts';

const HOUR = 3_600_000;

/** The time checks. */
export const timeChecks: readonly CheckDefinition[] = [
  refusal({
    id: 'SAML-TIME-01',
    title: 'An Assertion not yet valid (NotBefore + 1 h) is refused',
    source: 'SAML 2.0 core §2.5.1.2; security-conformance.md SAML-TIME-01',
    sent: 'Conditions NotBefore = now + 1 h',
    reference: 'SAML_NOT_YET_VALID',
    input: () => ({
      overrides: { notBefore: new Date(Date.now() + HOUR), notOnOrAfter: new Date(Date.now() + 2 * HOUR) },
    }),
  }),
  refusal({
    id: 'SAML-TIME-02',
    title: 'An expired Assertion (NotOnOrAfter − 1 h) is refused',
    source: 'SAML 2.0 core §2.5.1.2; security-conformance.md SAML-TIME-04',
    sent: 'IssueInstant = now − 65 min, NotOnOrAfter = now − 1 h',
    reference: 'SAML_EXPIRED',
    input: () => {
      const past = new Date(Date.now() - HOUR);
      return {
        overrides: {
          notOnOrAfter: past,
          issueInstant: new Date(past.getTime() - 300_000),
          notBefore: new Date(past.getTime() - 300_000),
        },
      };
    },
  }),
  refusal({
    id: 'SAML-TIME-03',
    title: 'An expired SubjectConfirmationData is refused',
    source: 'SAML 2.0 profiles §4.1.4.2; security-conformance.md SAML-SCD-01',
    sent: 'SubjectConfirmationData NotOnOrAfter = now − 1 h, Conditions valid; re-signed by the genuine key',
    reference: 'SAML_SUBJECT_CONFIRMATION_INVALID',
    input: (ctx) => ({
      mutate: resign(ctx, (x) =>
        x.replace(
          /(<saml:SubjectConfirmationData[^>]*NotOnOrAfter=")[^"]*/,
          `$1${new Date(Date.now() - HOUR).toISOString()}`,
        ),
      ),
    }),
  }),
  refusal({
    id: 'SAML-TIME-04',
    title: 'A Response issued a day ago is refused',
    source: 'security-conformance.md SAML-TIME-04 (stale IssueInstant/AuthnInstant)',
    sent: 'IssueInstant and AuthnInstant = now − 24 h, NotOnOrAfter = now + 5 min',
    reference: 'SAML_STALE_MESSAGE',
    input: () => ({
      overrides: {
        issueInstant: new Date(Date.now() - 24 * HOUR),
        notBefore: new Date(Date.now() - 60_000),
        notOnOrAfter: new Date(Date.now() + 300_000),
      },
    }),
  }),
];
