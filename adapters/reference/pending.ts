/**
 * A reference login waiting for its answer, kept in the shared state store (Redis in the gateway) under its
 * `state` for ten minutes and taken exactly once: `ref:pending:<state>` = what the answer must match.
 */
import type { AdapterStateStore, LoaUri } from '../contract.ts';

export const PENDING_TTL_SECONDS = 600;

export interface PendingLogin {
  loginId: string;
  idp: string;
  browserBinding: string;
  nonce: string;
  minimumLoa: LoaUri;
  forceAuthn: boolean;
  maxAuthenticationAgeSeconds?: number;
  /** Seconds since the epoch. */
  issuedAt: number;
}

export async function savePending(store: AdapterStateStore, state: string, pending: PendingLogin): Promise<void> {
  await store.put(`ref:pending:${state}`, JSON.stringify(pending), PENDING_TTL_SECONDS);
}

/** The pending login of `state`, removed as it is read; null when there is none (unknown, taken, expired). */
export async function takePending(store: AdapterStateStore, state: string): Promise<PendingLogin | null> {
  const raw = await store.take(`ref:pending:${state}`);
  return raw === null ? null : (JSON.parse(raw) as PendingLogin);
}
