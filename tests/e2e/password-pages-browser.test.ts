import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page, type Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/process-stats.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { ptitspasSuperAdmin, registration } from '../helpers/ptitspas.js';
import { startSmtpServer } from '../helpers/smtp.js';
import { PASSWORD, registerUser } from '../helpers/users.js';

// The e-mailed password links, followed in a real browser (Debian's chromium, headless) to this
// server's own pages, on a real port, with the mails from a real SMTP server: fill the form by its
// labels, submit, read the answer, then log in through the API with the new password.

const CHROMIUM = '/usr/bin/chromium';
const NEW_PASSWORD = 'une toute nouvelle phrase';
// Generous: a cold browser on a busy two-core machine. Nothing here measures time.
const LAUNCH_MS = 120_000;
const STEP_MS = 60_000;
const TEST_MS = 6 * STEP_MS;

const smtp = await startSmtpServer();
let app: App;
let baseUrl: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install it with \`apt-get install -y chromium\` (.ci/run does)`);
  }
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  // No PASSWORD_RESET_URL nor PTITSPAS_SET_PASSWORD_URL: the links open this server's pages.
  app = await buildTestApp({ config: { smtpUrl: smtp.url, publicUrl: baseUrl } });
  await app.listen({ port, host: '127.0.0.1' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking'],
    timeout: LAUNCH_MS,
  });
}, LAUNCH_MS + STEP_MS);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await smtp.close();
});

/** The first link of the last mail to `email`: it must lead to this server. */
async function linkMailedTo(email: string): Promise<string> {
  const mail = await smtp.waitFor(email, STEP_MS);
  const link = /https?:\/\/\S+/.exec(mail.text ?? '')?.[0];
  expect(link, mail.text).toBeDefined();
  expect(link!.startsWith(`${baseUrl}/`)).toBe(true);
  return link!;
}

/**
 * A new tab on `link`, which records what the page would not be allowed to do (a refused script
 * or style shows as a console error) and the headers of its calls to the API.
 */
async function open(link: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  const apiCalls: Request[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.startsWith('/api/')) apiCalls.push(request);
  });
  const response = await page.goto(link, { timeout: STEP_MS });
  expect(response?.status()).toBe(200);
  return { page, consoleErrors, apiCalls, close: () => context.close() };
}

async function submit(page: Page, password: string, confirmation = password) {
  await page.getByLabel('Nouveau mot de passe').fill(password);
  await page.getByLabel('Confirmer le mot de passe').fill(confirmation);
  await page.getByRole('button', { name: 'Enregistrer le mot de passe' }).click();
}

/** The text the live region `role` shows once it shows something. */
async function announced(page: Page, role: 'status' | 'alert'): Promise<string> {
  const region = page.getByRole(role);
  await region.filter({ hasText: /\S/ }).waitFor({ timeout: STEP_MS });
  return (await region.textContent())!.trim();
}

describe('MedReport: the reset link, in a browser', () => {
  it(
    'sets the new password from the page; the new one logs in, the old one no longer does',
    async () => {
      const { email } = await registerUser(app);
      const asked = await app.inject({ method: 'POST', url: '/api/forgot-password', payload: { email } });
      expect(asked.statusCode).toBe(200);
      const link = await linkMailedTo(email);
      expect(new URL(link).pathname).toBe('/reset-password');

      const tab = await open(link);
      expect(await tab.page.title()).toContain('MedReport');
      await submit(tab.page, NEW_PASSWORD);
      expect(await announced(tab.page, 'status')).toBe('Mot de passe réinitialisé avec succès.');
      expect(await tab.page.locator('form').isHidden()).toBe(true);
      expect(tab.consoleErrors).toEqual([]);
      expect(tab.apiCalls).toHaveLength(1);
      // The token is in the page's URL: the call to the API does not repeat it in a Referer.
      expect(tab.apiCalls[0]!.method()).toBe('POST');
      expect((await tab.apiCalls[0]!.allHeaders()).referer).toBeUndefined();
      await tab.close();

      const login = await app.inject({ method: 'POST', url: '/api/login', payload: { email, password: NEW_PASSWORD } });
      expect(login.statusCode).toBe(200);
      expect(login.json()).toMatchObject({ success: true, message: 'Connexion réussie', user: { email } });
      expect(login.json().token).toEqual(expect.any(String));
      const old = await app.inject({ method: 'POST', url: '/api/login', payload: { email, password: PASSWORD } });
      expect(old.statusCode).toBe(401);

      // The same link again: the API's refusal, shown as it said it.
      const again = await open(link);
      await submit(again.page, 'encore une autre phrase');
      expect(await announced(again.page, 'alert')).toBe('Ce lien de réinitialisation est invalide ou a expiré.');
      expect(await again.page.locator('form').isVisible()).toBe(true);
      await again.close();
    },
    TEST_MS,
  );
});

describe('PtitsPas: the set-password link, in a browser', () => {
  it(
    'refuses a mismatched confirmation in the page, then sets the password; the account logs in with it',
    async () => {
      const admin = await ptitspasSuperAdmin(app);
      const body = registration('parent', { password: undefined });
      const email = body.email as string;
      const registered = await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: body });
      expect(registered.statusCode).toBe(201);
      const validated = await app.inject({
        method: 'PATCH',
        url: `/api/v1/users/${registered.json().userId}/valider`,
        headers: admin.headers,
        payload: { comment: 'Dossier complet' },
      });
      expect(validated.statusCode).toBe(200);
      const link = await linkMailedTo(email);
      expect(new URL(link).pathname).toBe('/ptitspas/definir-mot-de-passe');
      const before = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email, password: NEW_PASSWORD },
      });
      expect(before.statusCode).toBe(401);

      const tab = await open(link);
      expect(await tab.page.title()).toContain('PtitsPas');
      await submit(tab.page, NEW_PASSWORD, `${NEW_PASSWORD}!`);
      expect(await announced(tab.page, 'alert')).toBe('Les deux mots de passe ne correspondent pas.');
      expect(await tab.page.getByLabel('Confirmer le mot de passe').getAttribute('aria-invalid')).toBe('true');
      expect(tab.apiCalls).toEqual([]);

      await submit(tab.page, NEW_PASSWORD);
      expect(await announced(tab.page, 'status')).toBe('Mot de passe enregistré. Vous pouvez vous connecter.');
      expect(await tab.page.getByRole('alert').textContent()).toBe('');
      expect(tab.consoleErrors).toEqual([]);
      expect(tab.apiCalls).toHaveLength(1);
      await tab.close();

      const login = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email, password: NEW_PASSWORD },
      });
      expect(login.statusCode).toBe(200);
      expect(login.json()).toEqual({
        access_token: expect.any(String),
        refresh_token: expect.any(String),
        user: { id: registered.json().userId, email, role: 'parent', prenom: 'Léa', nom: 'Dupont' },
      });
    },
    TEST_MS,
  );
});
