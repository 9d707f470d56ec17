/**
 * `audit verify` as an operator runs it (gateway/audit/cli.ts): the audit public keys of the token as the
 * trusted keys (the key stored beside a checkpoint proves nothing), and the anchor file the gateway processes
 * append each checkpoint to (`audit.anchorFile`); the genesis only while no checkpoint was taken yet.
 */
import { existsSync } from 'node:fs';
import type { JWK } from 'jose';
import { readAnchor } from '../../../gateway/audit/anchor.ts';
import { verifyAuditChain } from '../../../gateway/audit/verify.ts';
import { openKeyStore } from '../../../hsm/token-keystore.ts';
import type { TokenHandle } from '../../harness/services/softhsm.ts';
import { genesisOnly } from '../../helpers/audit-anchor.ts';
import type { ChaosBed } from './bed.ts';

export async function verifyAsOperator(
  bed: ChaosBed,
  token: TokenHandle,
): Promise<Awaited<ReturnType<typeof verifyAuditChain>>> {
  const keys = await openKeyStore({ library: token.library, tokenLabel: token.label, pin: token.pin });
  let trustedKeys: JWK[];
  try {
    trustedKeys = keys
      .signers()
      .filter((s) => s.purpose === 'audit')
      .map((s) => ({ ...s.publicJwk }) as JWK);
  } finally {
    await keys.close();
  }
  const anchorFile = (bed.deployment.rawConfig.audit as { anchorFile: string }).anchorFile;
  return verifyAuditChain(
    bed.pool,
    existsSync(anchorFile) ? { trustedKeys, anchor: readAnchor(anchorFile) } : genesisOnly(trustedKeys),
  );
}
