/**
 * Why a person is asked for a stronger check, in words a citizen understands (issue #13 item 9): one table
 * for every page that asks — the page before a step-up at the IdP (interaction/step-up-page.ts) and the
 * WebAuthn step-up at the gateway (webauthn/authenticate.ts). Never a score, a factor or a detection
 * detail: telling a fraudster which signal fired helps them.
 */
import type { Language } from './language.ts';

export interface StepUpReason {
  /** What is asked and when it happens. */
  why: string;
  /** That the person is not refused. */
  notRefusal: string;
}

export const STEP_UP_REASON: Readonly<Record<Language, StepUpReason>> = {
  fr: {
    why: 'Pour protéger votre compte, ce service demande une vérification supplémentaire, par exemple lors d’une connexion depuis un nouvel appareil ou pour une opération importante.',
    notRefusal: 'Ce n’est pas un refus.',
  },
  en: {
    why: 'To protect your account, this service asks for an extra check, for example when you sign in from a new device or for an important operation.',
    notRefusal: 'It is not a refusal.',
  },
};

/**
 * The reason as one paragraph.
 *
 * @example
 * stepUpReason('en'); // 'To protect your account, … It is not a refusal.'
 */
export function stepUpReason(lang: Language): string {
  const r = STEP_UP_REASON[lang];
  return `${r.why} ${r.notRefusal}`;
}
