/**
 * A real `RecordCipher` for tests of stores that seal: a fresh SoftHSM2 token with its KEK, a fresh
 * database for the DEK records, the first DEK made by the token.
 */
import { KeyHierarchy } from '../../hsm/hierarchy/key-hierarchy.ts';
import { TokenKek } from '../../hsm/hierarchy/kek.ts';
import { PgDekRepository } from '../../hsm/hierarchy/pg-deks.ts';
import { openKeyStore } from '../../hsm/token-keystore.ts';
import { RecordCipher } from '../../gateway/session/record-cipher.ts';
import { createPool } from '../../gateway/store/postgres.ts';
import { freshDatabase, freshToken } from './services.ts';

export async function sessionCipher(): Promise<{
  cipher: RecordCipher;
  hierarchy: KeyHierarchy;
  close(): Promise<void>;
}> {
  const token = freshToken();
  const keys = await openKeyStore({ library: token.library, tokenLabel: token.label, pin: token.pin });
  const pool = createPool(await freshDatabase(), { max: 2 });
  const { kek } = await TokenKek.ensure(keys.token);
  const hierarchy = await KeyHierarchy.open({
    kek,
    repository: new PgDekRepository(pool),
    actor: 'test',
    bootstrap: true,
  });
  return {
    cipher: new RecordCipher(hierarchy),
    hierarchy,
    async close() {
      hierarchy.forget();
      await pool.end();
      await keys.close();
    },
  };
}
