import argon2 from 'argon2';
import fp from 'fastify-plugin';

export interface PasswordCost {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export interface Passwords {
  hash(password: string): Promise<string>;
  /** False for a wrong password and for an account without one, in about the same time. */
  verify(hash: string | null | undefined, password: string): Promise<boolean>;
}

declare module 'fastify' {
  interface FastifyInstance {
    passwords: Passwords;
  }
}

/** argon2id with the given cost (OWASP: 19 MiB, 2 passes, 1 lane). */
export function passwords(cost: PasswordCost): Passwords {
  const hash = (password: string) => argon2.hash(password, { type: argon2.argon2id, ...cost });
  // Checked against when there is no hash, so "no such account" takes as long as "wrong password".
  let decoy: Promise<string> | undefined;
  return {
    hash,
    async verify(stored, password) {
      const target = stored ?? (await (decoy ??= hash('decoy-password-never-matches')));
      try {
        return (await argon2.verify(target, password)) && Boolean(stored);
      } catch {
        return false;
      }
    },
  };
}

export default fp<{ cost: PasswordCost }>(
  async (app, { cost }) => {
    app.decorate('passwords', passwords(cost));
  },
  { name: 'passwords' },
);
