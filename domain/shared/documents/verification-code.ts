import { randomBytes } from 'node:crypto';

/** Crockford's base 32: no I, L, O or U, so a code read aloud or typed is not misread. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const LENGTH = 20;

/**
 * A document's verification code: 20 characters of 5 random bits each (100 bits, the issue asks
 * at least 80), from the system's CSPRNG. A byte's low 5 bits are uniform, so no bias.
 */
export function newVerificationCode(): string {
  return [...randomBytes(LENGTH)].map((byte) => ALPHABET[byte & 31]).join('');
}

/**
 * A code as a reader may type it (lower case, grouped with dashes or spaces, O for 0, I or L for
 * 1) in its stored form, or undefined when it cannot be a code (a 404 without a query).
 */
export function normalizeVerificationCode(input: string): string | undefined {
  const code = input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return code.length === LENGTH && [...code].every((c) => ALPHABET.includes(c)) ? code : undefined;
}

/** The code as printed, in groups of five: « ABCDE-FGHJK-MNPQR-STVWX ». */
export const groupedCode = (code: string) => code.match(/.{1,5}/g)!.join('-');
