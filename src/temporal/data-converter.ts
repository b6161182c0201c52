import type { DataConverter } from '@temporalio/common';
import { ConfigError } from '../config-error';
import type { PayloadKeyring } from './encryption-keys';
import { EncryptionCodec } from './payload-codec';

/** PAYLOAD_ENCRYPTION and PAYLOAD_ENCRYPTION_KEYS, as config.ts parses them. */
export interface PayloadEncryptionConfig {
  /** off: payloads are stored in plain text, but still decoded with the keys (histories written while it was on). */
  mode: 'on' | 'off';
  keyring: PayloadKeyring;
}

/** One line, for every process that talks to Temporal and finds no key. */
export const missingKeyMessage =
  'PAYLOAD_ENCRYPTION_KEYS is not set, and payloads to Temporal are encrypted by default: make a key with ' +
  '`npm run keys:new` and set PAYLOAD_ENCRYPTION_KEYS to the line it prints (the same in every process), ' +
  'or set PAYLOAD_ENCRYPTION=off to store payloads in plain text';

/**
 * The codec of every client, worker and the codec server. It always decodes: with PAYLOAD_ENCRYPTION=off it only
 * stops encrypting, so histories written while it was on stay readable as long as their keys are configured.
 */
export function payloadCodecFromConfig({ mode, keyring }: PayloadEncryptionConfig): EncryptionCodec {
  if (mode === 'on' && keyring.size === 0) throw new ConfigError(missingKeyMessage);
  return new EncryptionCodec(keyring, { encrypt: mode === 'on' });
}

/** The data converter of every Temporal client and worker of this project. */
export function createDataConverter(encryption: PayloadEncryptionConfig): DataConverter {
  return { payloadCodecs: [payloadCodecFromConfig(encryption)] };
}
