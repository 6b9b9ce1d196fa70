/** The same server and credentials as `url`, another database. */
export function databaseUrl(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** The claims of a JWT (its payload, decoded, not verified). */
export function tokenClaims<T>(token: string): T {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as T;
}

/** Signs test tokens; the app role's password derives from it, as in production. */
export const TEST_JWT_SECRET = 'test-only-secret-that-is-long-enough-for-hs256';

/** Encrypt test childminders' NIRs: the current key, then a retired one still read (rotation). */
export const TEST_NIR_KEYS = [
  { id: 'test-2', key: Buffer.alloc(32, 2) },
  { id: 'test-1', key: Buffer.alloc(32, 1) },
];
