/**
 * A claim a request took early (`LoginFlow.tryClaim`, sent with another read) for whichever of its transitions
 * comes first: that transition takes it (`take`, once) and makes no claim call of its own; if none does, the
 * request gives it back (`giveBack`, idempotent) before anything else moves the login and when it ends.
 *
 * @example
 * const slot = new HeldSlot(flow, uid, await flow.tryClaim(uid, 'TOKEN_GENERATION'));
 * try {
 *   const held = slot.take();
 *   await flow.transition(uid, 'TOKEN_GENERATION', { component: 'policy', ...(held ? { held } : {}) });
 * } finally {
 *   await slot.giveBack();
 * }
 */
import type { HeldClaim, LoginFlow } from './login-flow.ts';

export class HeldSlot {
  readonly #flow: Pick<LoginFlow, 'release'>;
  readonly #loginId: string;
  #held: HeldClaim | undefined;

  constructor(flow: Pick<LoginFlow, 'release'>, loginId: string, claim: { held: HeldClaim } | { error: unknown }) {
    this.#flow = flow;
    this.#loginId = loginId;
    this.#held = 'held' in claim ? claim.held : undefined;
  }

  /** The claim, for the one transition that uses it (`undefined` when there is none, or it was taken). */
  take(): HeldClaim | undefined {
    const held = this.#held;
    this.#held = undefined;
    return held;
  }

  /** Gives the claim back if nothing took it. */
  async giveBack(): Promise<void> {
    const held = this.take();
    if (held) await this.#flow.release(this.#loginId, held);
  }
}
