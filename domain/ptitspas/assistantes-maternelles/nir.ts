import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * The French social security number (NIR) of a childminder: 15 characters, the last two a key
 * (97 − the first 13 digits mod 97, Corsica's 2A/2B counted as 19/18). Stored only encrypted,
 * with AES-256-GCM under a key from PTITSPAS_NIR_KEYS, the row's id as associated data (a
 * ciphertext copied to another row does not decrypt). Never logged, returned only to the roles
 * the routes allow (super_admin, gestionnaire).
 */

/** One key of PTITSPAS_NIR_KEYS: its id (stored with each value) and 32 bytes. */
export interface NirKey {
  id: string;
  key: Buffer;
}

const SHAPE = /^[1-478]\d{4}(?:\d{2}|2[AB])\d{8}$/;

/** Spaces and dots dropped, letters in upper case: how people write it and how it is checked. */
export const normalizeNir = (input: string) => input.replace(/[\s.]/g, '').toUpperCase();

export function isValidNir(nir: string): boolean {
  if (!SHAPE.test(nir)) return false;
  const digits = nir.slice(0, 13).replace('2A', '19').replace('2B', '18');
  return 97 - (Number(digits) % 97) === Number(nir.slice(13));
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Encrypts with the first key (the current one); decrypts with whichever key a row names. */
export class NirCipher {
  readonly #keys: Map<string, Buffer>;
  readonly current: NirKey;

  constructor(keys: readonly NirKey[]) {
    if (keys.length === 0) throw new Error('at least one NIR key is needed');
    this.current = keys[0]!;
    this.#keys = new Map(keys.map((k) => [k.id, k.key]));
  }

  encrypt(nir: string, rowId: string): { nir_chiffre: Buffer; nir_cle: string } {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(rowId));
    const body = Buffer.concat([cipher.update(nir, 'utf8'), cipher.final()]);
    return { nir_chiffre: Buffer.concat([iv, cipher.getAuthTag(), body]), nir_cle: this.current.id };
  }

  decrypt(blob: Buffer, keyId: string, rowId: string): string {
    const key = this.#keys.get(keyId);
    if (!key) throw new Error(`NIR key "${keyId}" is not configured (PTITSPAS_NIR_KEYS)`);
    const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(rowId));
    decipher.setAuthTag(blob.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(blob.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }
}
