import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml } from '../routes/shared/password-page.js';
import type { App } from '../src/app.js';
import { buildTestApp } from './helpers/app.js';
import { ptitspasSuperAdmin, registration } from './helpers/ptitspas.js';
import { startSmtpServer } from './helpers/smtp.js';
import { registerUser } from './helpers/users.js';

// The pages the e-mailed password links open when no app page is configured: what they send and
// under which headers, that the default links lead to them, and that they do not exist once an
// app URL is configured. tests/e2e/password-pages-browser.test.ts uses them in a real browser.

const PAGES = [
  { url: '/reset-password', api: 'api/reset-password', title: 'MedReport' },
  { url: '/ptitspas/definir-mot-de-passe', api: '../api/v1/auth/set-password', title: 'PtitsPas' },
];

const smtp = await startSmtpServer();
let app: App;
beforeAll(async () => {
  app = await buildTestApp({ config: { smtpUrl: smtp.url, publicUrl: 'https://api.example.test' } });
});
afterAll(async () => {
  await app.close();
  await smtp.close();
});

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
const only = (html: string, tag: string) => {
  const all = [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]!);
  expect(all).toHaveLength(1);
  return all[0]!;
};

describe.each(PAGES)('GET $url', ({ url, api, title }) => {
  it('is a French form with a label for each field, posting to its API', async () => {
    const res = await app.inject({ url: `${url}?token=abc` });
    expect(res.statusCode).toBe(200);
    const html = res.body;
    expect(html).toMatch(/^<!doctype html>\n<html lang="fr">/);
    expect(only(html, 'title')).toContain(title);
    for (const id of ['password', 'password_confirmation']) {
      expect(html).toContain(`<label for="${id}">`);
      expect(html).toMatch(
        new RegExp(`<input id="${id}" name="${id}" type="password" autocomplete="new-password" required`),
      );
    }
    expect(html).toContain(`data-endpoint="${api}"`);
    expect(html).toContain('role="alert"');
    expect(html).toContain('role="status"');
    // The token stays in the browser: the page is the same whatever the link.
    expect(html).not.toContain('abc');
    expect((await app.inject({ url })).body).toBe(html);
  });

  it('allows its own script and style only, in no frame, with no Referer and no cache', async () => {
    const res = await app.inject({ url });
    expect(res.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    const policy = Object.fromEntries(
      String(res.headers['content-security-policy'])
        .split('; ')
        .map((directive) => [directive.split(' ')[0], directive.split(' ').slice(1).join(' ')]),
    );
    expect(policy).toEqual({
      'default-src': "'none'",
      'script-src': sha256(only(res.body, 'script')),
      'style-src': sha256(only(res.body, 'style')),
      'connect-src': "'self'",
      'form-action': "'none'",
      'base-uri': "'none'",
      'frame-ancestors': "'none'",
    });
  });

  it('answers HEAD like GET, without a body', async () => {
    const res = await app.inject({ method: 'HEAD', url });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toBeDefined();
    expect(res.body).toBe('');
  });
});

describe('the default links', () => {
  it('MedReport’s reset mail links to this server’s page', async () => {
    const { email } = await registerUser(app);
    await app.inject({ method: 'POST', url: '/api/forgot-password', payload: { email } });
    const mail = await smtp.waitFor(email);
    const link = new URL(/https?:\/\/\S+/.exec(mail.text!)![0]);
    expect(`${link.origin}${link.pathname}`).toBe('https://api.example.test/reset-password');
    expect([...link.searchParams.keys()]).toEqual(['token', 'email']);
  });

  it('PtitsPas’ activation mail links to this server’s page', async () => {
    const admin = await ptitspasSuperAdmin(app);
    const body = registration('parent', { password: undefined });
    const registered = await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: body });
    await app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${registered.json().userId}/valider`,
      headers: admin.headers,
      payload: {},
    });
    const mail = await smtp.waitFor(body.email as string);
    const link = new URL(/https?:\/\/\S+/.exec(mail.text!)![0]);
    expect(`${link.origin}${link.pathname}`).toBe('https://api.example.test/ptitspas/definir-mot-de-passe');
    expect([...link.searchParams.keys()]).toEqual(['token']);
  });
});

describe('with an app page configured', () => {
  it('serves neither page: the app owns them', async () => {
    const configured = await buildTestApp({
      config: { passwordResetUrl: 'medreport://reset-password', ptitspasSetPasswordUrl: 'ptitspas://mot-de-passe' },
    });
    try {
      for (const { url } of PAGES) {
        const res = await configured.inject({ url: `${url}?token=abc` });
        expect(res.statusCode, url).toBe(404);
        expect(res.json().success).toBe(false);
      }
    } finally {
      await configured.close();
    }
  });
});

describe('escapeHtml', () => {
  it('escapes what could close a tag or an attribute', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});
