/**
 * The crypto floor of a login: the HSM signatures the gateway made per login (counted by the probe inside
 * the gateway process), each priced by signing with the same key of the same token through the `hsm/`
 * Signer in this process (CPU time of this process, sequential, so SoftHSM's work is all counted).
 */
import { openKeyStore } from '../../../hsm/token-keystore.ts';
import type { AlgorithmName } from '../../../hsm/algorithms.ts';
import type { KeyPurpose } from '../../../hsm/signer.ts';
import type { TokenHandle } from '../../harness/services/softhsm.ts';

export interface FloorRow {
  key: string;
  perLogin: number;
  cpuMsPerSignature: number;
}

/** `signaturesPerLogin`: `purpose/alg` → signatures per login. */
export async function cryptoFloor(
  token: TokenHandle,
  signaturesPerLogin: Record<string, number>,
  samples: number,
): Promise<{ rows: FloorRow[]; totalMs: number }> {
  const store = await openKeyStore({ library: token.library, tokenLabel: token.label, pin: token.pin, poolSize: 1 });
  try {
    const data = Buffer.from(
      'eyJhbGciOiJSUzI1NiIsImtpZCI6ImJlbmNoIn0.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xIiwic3ViIjoiYmVuY2gifQ',
    );
    const rows: FloorRow[] = [];
    for (const [key, perLogin] of Object.entries(signaturesPerLogin)) {
      const [purpose, alg] = key.split('/') as [KeyPurpose, AlgorithmName];
      const signer = store.activeSigner(purpose, alg);
      for (let i = 0; i < 5; i++) await signer.sign(data); // warm-up
      const before = process.cpuUsage();
      for (let i = 0; i < samples; i++) await signer.sign(data);
      const used = process.cpuUsage(before);
      rows.push({ key, perLogin, cpuMsPerSignature: (used.user + used.system) / 1000 / samples });
    }
    return { rows, totalMs: rows.reduce((sum, r) => sum + r.perLogin * r.cpuMsPerSignature, 0) };
  } finally {
    await store.close();
  }
}
