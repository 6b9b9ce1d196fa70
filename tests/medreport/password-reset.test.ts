import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { createLogger } from '../../src/logging.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { startSmtpServer } from '../helpers/smtp.js';
import { bearer, PASSWORD, registerUser, uniqueEmail } from '../helpers/users.js';

const RESET_URL = 'medreport://reset-password';
const NEW_PASSWORD = 'a brand new passphrase';

let app: App;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
const handle = await testDb();

beforeAll(async () => {
  smtp = await startSmtpServer();
  app = await buildTestApp({ config: { smtpUrl: smtp.url, passwordResetUrl: RESET_URL } });
});
afterAll(async () => {
  await app.close();
  await smtp.close();
  await handle.db.destroy();
});

async function requestReset(email: string) {
  const res = await app.inject({ method: 'POST', url: '/api/forgot-password', payload: { email } });
  expect(res.statusCode).toBe(200);
  return res;
}

/** The token and e-mail of the reset link in the last message sent to `email`. */
async function linkSentTo(email: string) {
  const mail = await smtp.waitFor(email);
  const link = /medreport:\/\/reset-password\?\S+/.exec(mail.text ?? '')?.[0];
  expect(link, mail.text).toBeDefined();
  const url = new URL(link!);
  return { token: url.searchParams.get('token')!, email: url.searchParams.get('email')!, mail };
}

function reset(body: Record<string, string>) {
  return app.inject({
    method: 'POST',
    url: '/api/reset-password',
    payload: { password: NEW_PASSWORD, password_confirmation: NEW_PASSWORD, ...body },
  });
}

describe('password reset by e-mail', () => {
  it('mails a link through SMTP, resets the password once, and revokes every session', async () => {
    const { email, token: session } = await registerUser(app);
    await requestReset(email);
    const link = await linkSentTo(email);
    expect(link.email).toBe(email);
    expect(link.mail.subject).toContain('Réinitialisation');
    expect(link.mail.from?.address).toBe('no-reply@localhost');

    const stored = await handle.db.selectFrom('medreport.password_resets').select('token_hash').execute();
    expect(stored.map((r) => r.token_hash)).not.toContain(link.token);

    const res = await reset({ email, token: link.token });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ success: true, message: 'Mot de passe réinitialisé avec succès.' });

    expect((await app.inject({ method: 'GET', url: '/api/user', headers: bearer(session) })).statusCode).toBe(401);
    const oldLogin = await app.inject({ method: 'POST', url: '/api/login', payload: { email, password: PASSWORD } });
    expect(oldLogin.statusCode).toBe(401);
    const newLogin = await app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { email, password: NEW_PASSWORD },
    });
    expect(newLogin.statusCode).toBe(200);
    // Following the e-mailed link proved the address.
    expect(newLogin.json().user.email_verified_at).not.toBeNull();

    const reused = await reset({ email, token: link.token });
    expect(reused.statusCode).toBe(422);
    expect(reused.json().errors).toHaveProperty('token');
  });

  it('answers the same 200 for an unknown e-mail and sends nothing', async () => {
    const { email } = await registerUser(app);
    const known = await requestReset(email);
    const stranger = uniqueEmail('nobody');
    const unknown = await requestReset(stranger);
    expect(unknown.json()).toEqual(known.json());
    await smtp.waitFor(email);
    expect(smtp.messages.some((m) => m.to?.some((t) => t.address === stranger))).toBe(false);
  });

  it('refuses an expired token', async () => {
    const { email, user } = await registerUser(app);
    await requestReset(email);
    const { token } = await linkSentTo(email);
    await handle.db
      .updateTable('medreport.password_resets')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('user_id', '=', user.id)
      .execute();
    const res = await reset({ email, token });
    expect(res.statusCode).toBe(422);
    expect(res.json().message).toBe('Ce lien de réinitialisation est invalide ou a expiré.');
  });

  it('makes tokens valid for 60 minutes', async () => {
    const { email, user } = await registerUser(app);
    await requestReset(email);
    await linkSentTo(email); // the token is made after the answer
    const row = await handle.db
      .selectFrom('medreport.password_resets')
      .select(['created_at', 'expires_at'])
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(row.expires_at.getTime() - row.created_at.getTime()).toBeGreaterThan(59 * 60 * 1000);
    expect(row.expires_at.getTime() - row.created_at.getTime()).toBeLessThanOrEqual(60 * 60 * 1000 + 1000);
  });

  it('refuses a token used with another e-mail, a made-up token, and a mismatched confirmation', async () => {
    const first = await registerUser(app);
    const second = await registerUser(app);
    await requestReset(first.email);
    const { token } = await linkSentTo(first.email);
    expect((await reset({ email: second.email, token })).statusCode).toBe(422);
    expect((await reset({ email: first.email, token: 'made-up' })).statusCode).toBe(422);
    const mismatch = await reset({ email: first.email, token, password_confirmation: 'different' });
    expect(mismatch.statusCode).toBe(422);
    expect(mismatch.json().errors).toHaveProperty('password');
    // None of these consumed the real token.
    expect((await reset({ email: first.email, token })).statusCode).toBe(200);
  });

  it('a new request makes the previous link stop working', async () => {
    const { email } = await registerUser(app);
    await requestReset(email);
    const first = await linkSentTo(email);
    smtp.messages.splice(0);
    await requestReset(email);
    const second = await linkSentTo(email);
    expect(second.token).not.toBe(first.token);
    expect((await reset({ email, token: first.token })).statusCode).toBe(422);
    expect((await reset({ email, token: second.token })).statusCode).toBe(200);
  });
});

describe('without SMTP_URL', () => {
  it('writes the e-mail, link included, to the log at info level', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _e, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const quiet = await buildTestApp({ logger: createLogger('info', stream) });
    try {
      const { email } = await registerUser(quiet);
      await quiet.inject({ method: 'POST', url: '/api/forgot-password', payload: { email } });
      await quiet.close(); // waits for mail still being sent
      const logged = lines.find((l) => (l.mail as { to?: string } | undefined)?.to === email);
      expect(logged).toMatchObject({ level: 30, mail: { subject: expect.stringContaining('Réinitialisation') } });
      expect((logged!.mail as { text: string }).text).toMatch(/reset-password\?token=[\w-]+&email=/);
    } finally {
      await quiet.close();
    }
  });
});
