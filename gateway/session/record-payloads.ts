/**
 * A record's payload, both ways: sealed into a new record for a write (its keys hashed, `record-keys.ts`; sealed by
 * `record-cipher.ts`), and opened for a read.
 *
 * Each record's plaintext is kept once opened or written (issue #14): a record object is read once per request
 * (`request-memo.ts`) and then handed to every reader of that request, so a session or an account read three
 * times is decrypted once, and a record just written is not decrypted at all. Held with the record object (a
 * `WeakMap`: gone with it, at the latest with the request's memo) and only for the very sealed value it was opened
 * from; every read still parses its own copy (callers may change what they get).
 */
import type { RecordCipher } from './record-cipher.ts';
import type { RecordKeys } from './record-keys.ts';
import type { PutInput } from './session-store-types.ts';
import type { StoredRecord } from './stored-record.ts';

export class RecordPayloads {
  readonly #cipher: RecordCipher;
  readonly #keys: RecordKeys;
  readonly #opened = new WeakMap<StoredRecord, { sealed: string; text: Promise<string> }>();

  constructor(cipher: RecordCipher, keys: RecordKeys) {
    this.#cipher = cipher;
    this.#keys = keys;
  }

  /** A new record of `input` (active, version 1 unless given, its life from now), sealed, and its plaintext. */
  async seal(input: PutInput): Promise<{ record: StoredRecord; text: string }> {
    const keys = this.#keys;
    const recordKey = keys.key(input.kind, input.id);
    const text = JSON.stringify(input.payload);
    const { sealed, dekVersion } = await this.#cipher.seal(recordKey, Buffer.from(text));
    const now = new Date();
    const record: StoredRecord = {
      recordKey,
      kind: input.kind,
      lookupKey: input.lookupId ? keys.key('jti', input.lookupId) : null,
      sidKeys: (input.sids ?? []).map((sid) => keys.key('sid', sid)),
      grantKey: input.grantId ? keys.key('Grant', input.grantId) : null,
      accountKey: input.accountId ? keys.key('account', input.accountId) : null,
      idp: input.idp ?? null,
      version: input.version ?? 1,
      state: 'active',
      dekVersion,
      sealed,
      createdAt: now,
      expiresAt: new Date(now.getTime() + input.expiresIn * 1000),
    };
    return { record, text };
  }

  /** Remembers `text` as the plaintext of `record` as it is sealed now (a record just written or merged). */
  known(record: StoredRecord, text: string): void {
    this.#opened.set(record, { sealed: record.sealed, text: Promise.resolve(text) });
  }

  /** The plaintext of `record` if it was opened or written as it is sealed now, without decrypting anything. */
  held(record: StoredRecord): Promise<string> | undefined {
    const held = this.#opened.get(record);
    return held?.sealed === record.sealed ? held.text : undefined;
  }

  /** The record's payload: decrypted once per record object, parsed at every call. */
  async payload<T>(record: StoredRecord): Promise<T> {
    let held = this.#opened.get(record);
    if (held?.sealed !== record.sealed) {
      const text = this.#cipher.open(record.recordKey, record.sealed).then((plain) => plain.toString('utf8'));
      held = { sealed: record.sealed, text };
      this.#opened.set(record, held);
      text.catch(() => this.#opened.delete(record)); // a failed open is not remembered
    }
    return JSON.parse(await held.text) as T;
  }
}
