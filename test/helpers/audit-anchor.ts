/** What `audit verify` needs in tests: trusted keys and an anchor (here: none taken yet, or a temp file). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JWK } from 'jose';
import type { Anchor } from '../../gateway/audit/anchor.ts';
import { GENESIS_HASH } from '../../gateway/audit/canonical.ts';

/** A chain verified from its genesis, no checkpoint anchored. */
export function genesisOnly(trustedKeys: JWK[] = []): { trustedKeys: JWK[]; anchor: Anchor } {
  return { trustedKeys, anchor: { genesis: GENESIS_HASH.toString('base64url'), checkpoints: [] } };
}

/** A fresh anchor file path (created by the first checkpoint). */
export function anchorFilePath(): string {
  return join(mkdtempSync(join(tmpdir(), 'gw-anchor-')), 'audit-anchor.jsonl');
}
