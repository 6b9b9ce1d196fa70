import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { createAdmin } from '../../domain/medreport/admin/create-admin.js';
import type { App } from '../../src/app.js';

export const PASSWORD = 'correct horse battery';

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}.${randomUUID().slice(0, 8)}@example.com`;
}

export function registration(overrides: Record<string, unknown> = {}) {
  return {
    name: 'Dr Test',
    email: uniqueEmail(),
    password: PASSWORD,
    password_confirmation: PASSWORD,
    birth_date: '1985-04-12',
    ...overrides,
  };
}

/** Registers through the API and returns the token, the user and the password used. */
export async function registerUser(
  app: App,
  overrides: Record<string, unknown> = {},
  { remoteAddress }: { remoteAddress?: string } = {},
) {
  const body = registration(overrides);
  const res = await app.inject({ method: 'POST', url: '/api/register', payload: body, remoteAddress });
  expect(res.statusCode, res.body).toBe(201);
  const { token, user } = res.json();
  return { token: token as string, user, email: body.email as string, password: body.password as string };
}

export function bearer(token: string) {
  return { authorization: `Bearer ${token}` };
}

/** A platform administrator, created as `npm run cli -- admin:create` does, and logged in. */
export async function createPlatformAdmin(app: App, name = 'Admin Plateforme') {
  const email = uniqueEmail('admin');
  await createAdmin(app.systemDb, { email, name, password: async () => PASSWORD }, app.passwords.internal);
  const res = await app.inject({ method: 'POST', url: '/api/login', payload: { email, password: PASSWORD } });
  if (res.statusCode !== 200) throw new Error(`admin login: ${res.statusCode} ${res.body}`);
  const { token, user } = res.json();
  return { token, user, email, headers: bearer(token) };
}
