import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { PayloadKeyring } from './encryption-keys';

/**
 * Encrypts every payload on its way to Temporal (workflow and activity inputs and results, queries, updates,
 * signals, memos, failure details), so the server and its history hold no address or payment token in plain text.
 *
 * The whole payload (its metadata and data, protobuf-encoded) is sealed with AES-256-GCM under the current key; the
 * result is a payload of encoding `binary/encrypted` that names its key in `encryption-key-id`. The key id is also
 * the cipher's associated data, so a payload relabelled with another key id fails authentication instead of being
 * decrypted under the wrong key. Search attributes are not payloads of this kind: Temporal must read them to index
 * them, so they carry no personal data here.
 */

export const encryptedEncoding = 'binary/encrypted';
export const keyIdMetadataKey = 'encryption-key-id';
export const cipherMetadataKey = 'encryption-cipher';
export const cipherName = 'AES-256-GCM';

const ivBytes = 12;
const tagBytes = 16;
const { Payload: PayloadMessage } = proto.temporal.api.common.v1;

/** A payload this process cannot decrypt; the message names the key id and says what to do, with no key material. */
export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
  constructor(
    message: string,
    readonly keyId: string | undefined,
    readonly reason: 'unknown-key' | 'not-authentic' | 'malformed',
  ) {
    super(message);
  }
}

export interface EncryptionCodecOptions {
  /** False (PAYLOAD_ENCRYPTION=off): payloads go out in plain text, and encrypted ones are still decrypted. */
  encrypt?: boolean;
}

export class EncryptionCodec implements PayloadCodec {
  readonly #keyring: PayloadKeyring;
  readonly #encrypt: boolean;

  constructor(keyring: PayloadKeyring, { encrypt = true }: EncryptionCodecOptions = {}) {
    if (encrypt && keyring.currentKeyId === undefined) {
      throw new Error('payload encryption needs at least one key');
    }
    this.#keyring = keyring;
    this.#encrypt = encrypt;
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.#keyring.currentKeyId;
    if (!this.#encrypt || keyId === undefined) return Promise.resolve(payloads);
    return Promise.resolve(payloads.map((payload) => (isEncrypted(payload) ? payload : this.#seal(payload, keyId))));
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    try {
      // Payloads written before encryption was on (older histories, the recorded ones in tests/histories) pass as they are.
      return Promise.resolve(payloads.map((payload) => (isEncrypted(payload) ? this.#open(payload) : payload)));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #seal(payload: Payload, keyId: string): Payload {
    const key = this.#keyring.key(keyId)!;
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(associatedData(keyId));
    const plaintext = PayloadMessage.encode(payload).finish();
    const sealed = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        encoding: Buffer.from(encryptedEncoding),
        [keyIdMetadataKey]: Buffer.from(keyId),
        [cipherMetadataKey]: Buffer.from(cipherName),
      },
      data: sealed,
    };
  }

  #open(payload: Payload): Payload {
    const keyIdBytes = payload.metadata?.[keyIdMetadataKey];
    const keyId = keyIdBytes ? Buffer.from(keyIdBytes).toString() : undefined;
    if (keyId === undefined) {
      throw new PayloadDecryptionError(
        `an encrypted payload has no ${keyIdMetadataKey} in its metadata`,
        undefined,
        'malformed',
      );
    }
    const key = this.#keyring.key(keyId);
    if (!key) {
      const known = this.#keyring.keyIds;
      throw new PayloadDecryptionError(
        `payload encrypted with key "${keyId}", which is not configured ` +
          `(PAYLOAD_ENCRYPTION_KEYS has ${known.length > 0 ? known.map((id) => `"${id}"`).join(', ') : 'no key'}); ` +
          'add that key to PAYLOAD_ENCRYPTION_KEYS to read it',
        keyId,
        'unknown-key',
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < ivBytes + tagBytes) {
      throw new PayloadDecryptionError(`payload encrypted with key "${keyId}" is truncated`, keyId, 'malformed');
    }
    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, ivBytes));
      decipher.setAAD(associatedData(keyId));
      decipher.setAuthTag(data.subarray(data.length - tagBytes));
      plaintext = Buffer.concat([decipher.update(data.subarray(ivBytes, data.length - tagBytes)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(
        `payload encrypted with key "${keyId}" failed authentication: it was altered, ` +
          `or the key configured as "${keyId}" is not the one that encrypted it`,
        keyId,
        'not-authentic',
      );
    }
    const { metadata, data: inner } = PayloadMessage.decode(plaintext);
    return { metadata: { ...metadata }, data: inner };
  }
}

function isEncrypted(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return encoding !== undefined && encoding !== null && Buffer.from(encoding).toString() === encryptedEncoding;
}

function associatedData(keyId: string): Buffer {
  return Buffer.from(`${encryptedEncoding};${cipherName};${keyId}`);
}
