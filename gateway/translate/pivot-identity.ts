/** The OIDC identity the gateway hands oidc-provider: validated pivot claims and the acr they carry. */
import type { Acr } from './acr.ts';

/** A company representative's legal-person claims (scope `legal_person`); see legal-person.ts. */
export interface LegalPersonClaims {
  /** eIDAS LegalPersonIdentifier, `XX/YY/…`. */
  legal_person_identifier?: string;
  legal_name?: string;
  /** eIDAS LegalAddress, as sent (base64 of the eIDAS address structure). */
  legal_address?: string;
  vat_registration_number?: string;
  /** ISO 17442 Legal Entity Identifier. */
  lei?: string;
}

export interface PivotIdentity extends LegalPersonClaims {
  given_name: string;
  family_name: string;
  /** `YYYY-MM-DD`, or a presumed date `YYYY-MM-00` / `YYYY-00-00`. */
  birthdate: string;
  /** `unspecified` when an eIDAS node sent no Gender; legacy IdPs must send it. */
  gender: 'female' | 'male' | 'unspecified';
  /** INSEE COG code of the commune of birth; empty when born abroad. */
  birthplace: string;
  /**
   * INSEE COG code of the country of birth (`99100` for France). For eIDAS identities without
   * CountryOfBirth, the country of the issuing node (see birth.ts).
   */
  birthcountry: string;
  preferred_username?: string;
  email?: string;
  acr: Acr;
}
