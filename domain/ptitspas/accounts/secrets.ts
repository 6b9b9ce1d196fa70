import { createHash, randomBytes } from 'node:crypto';

/** An opaque secret handed to a client once: 256 random bits, URL-safe. */
export const newSecret = () => randomBytes(32).toString('base64url');

/** What is stored of a secret: its SHA-256, so a copy of the table opens nothing. */
export const secretDigest = (secret: string) => createHash('sha256').update(secret).digest();
