/** The OIDC identity the gateway hands oidc-provider: validated pivot claims and the acr they carry. */
import type { Acr } from './acr.ts';

export interface PivotIdentity {
  given_name: string;
  family_name: string;
  /** `YYYY-MM-DD`, or a presumed date `YYYY-MM-00` / `YYYY-00-00`. */
  birthdate: string;
  gender: 'female' | 'male' | 'unspecified';
  /** INSEE COG code of the commune of birth; empty when born abroad. */
  birthplace: string;
  /** INSEE COG code of the country of birth (`99100` for France). */
  birthcountry: string;
  preferred_username?: string;
  email?: string;
  acr: Acr;
}
