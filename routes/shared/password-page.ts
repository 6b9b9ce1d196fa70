import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

// The page an e-mailed password link opens when no app page is configured: a static form whose
// script reads the link's parameters in the browser and posts them, with the new password, to the
// API's JSON route. The token never reaches the HTML, so nothing here echoes it.

/** What differs between the two APIs' pages. */
export interface PasswordPage {
  /** The browser tab's title. */
  title: string;
  heading: string;
  intro: string;
  /** The JSON route, relative to the page (so a PUBLIC_URL with a path prefix still works). */
  endpoint: string;
  /** The link's query parameters posted with the password (the token first). */
  linkParameters: readonly string[];
  /** Whether the route takes `password_confirmation` too (MedReport's does). */
  sendsConfirmation: boolean;
  submit: string;
}

const STYLE = `
body { font-family: system-ui, sans-serif; line-height: 1.5; margin: 0; padding: 2rem 1rem; color: #1a1a1a; }
main { max-width: 26rem; margin: 0 auto; }
label { display: block; font-weight: 600; margin-top: 1rem; }
input { box-sizing: border-box; width: 100%; padding: .5rem; font-size: 1rem; border: 1px solid #555; border-radius: 4px; }
input:focus, button:focus { outline: 3px solid #1a5fb4; outline-offset: 2px; }
button { margin-top: 1.5rem; padding: .6rem 1rem; font-size: 1rem; border: 0; border-radius: 4px; background: #1a5fb4; color: #fff; cursor: pointer; }
button:disabled { opacity: .6; }
.hint { color: #444; font-size: .9rem; margin: .25rem 0 0; }
#error { color: #a51d2d; font-weight: 600; }
#success { color: #26722b; font-weight: 600; }
`;

// Plain ES2017, no sinks but textContent: the policy allows exactly this text (its hash).
const SCRIPT = `
(function () {
  var form = document.getElementById('password-form');
  var error = document.getElementById('error');
  var success = document.getElementById('success');
  var password = document.getElementById('password');
  var confirmation = document.getElementById('password_confirmation');
  var button = form.querySelector('button');
  var link = new URLSearchParams(window.location.search);
  var sent = {};
  var names = form.getAttribute('data-link-parameters').split(' ');
  for (var i = 0; i < names.length; i++) {
    var value = link.get(names[i]);
    if (!value) {
      form.hidden = true;
      error.textContent = 'Ce lien est incomplet : ouvrez le lien reçu par e-mail tel quel, ou demandez-en un nouveau.';
      return;
    }
    sent[names[i]] = value;
  }
  function fail(message, field) {
    error.textContent = message;
    if (field) {
      field.setAttribute('aria-invalid', 'true');
      field.focus();
    }
  }
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    error.textContent = '';
    success.textContent = '';
    confirmation.removeAttribute('aria-invalid');
    if (password.value !== confirmation.value) {
      fail('Les deux mots de passe ne correspondent pas.', confirmation);
      return;
    }
    var body = Object.assign({}, sent, { password: password.value });
    if (form.hasAttribute('data-sends-confirmation')) body.password_confirmation = confirmation.value;
    button.disabled = true;
    fetch(form.getAttribute('data-endpoint'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      credentials: 'omit',
      referrerPolicy: 'no-referrer'
    })
      .then(function (res) {
        return res.json().then(
          function (answer) { return { ok: res.ok, answer: answer }; },
          function () { return { ok: res.ok, answer: {} }; }
        );
      })
      .then(function (result) {
        var message = typeof result.answer.message === 'string' ? result.answer.message : '';
        if (!result.ok) {
          fail(message || 'Le mot de passe n’a pas pu être enregistré. Réessayez.');
          return;
        }
        password.value = '';
        confirmation.value = '';
        form.hidden = true;
        success.textContent = message || 'Mot de passe enregistré.';
      })
      .catch(function () {
        fail('Le serveur est injoignable. Vérifiez votre connexion et réessayez.');
      })
      .then(function () {
        button.disabled = false;
      });
  });
})();
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The page allows its own inline script and style (by hash) and a fetch to its own origin, and
 * nothing else: no other script, no frame around it, no form posted anywhere without the script.
 * The link's token is in the URL: no Referer carries it, no cache keeps the page.
 */
const PASSWORD_PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': [
    "default-src 'none'",
    `script-src ${sha256(SCRIPT)}`,
    `style-src ${sha256(STYLE)}`,
    "connect-src 'self'",
    "form-action 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** `text` safe in HTML content and in a quoted attribute. */
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** The whole page: every text escaped; the same bytes for every request. */
function passwordPageHtml(page: PasswordPage): string {
  const e = escapeHtml;
  const confirmation = page.sendsConfirmation ? ' data-sends-confirmation' : '';
  return `<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>${e(page.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${e(page.heading)}</h1>
<p>${e(page.intro)}</p>
<noscript><p>Cette page a besoin de JavaScript pour enregistrer votre mot de passe.</p></noscript>
<form id="password-form" method="post" data-endpoint="${e(page.endpoint)}" data-link-parameters="${e(page.linkParameters.join(' '))}"${confirmation}>
<label for="password">Nouveau mot de passe</label>
<input id="password" name="password" type="password" autocomplete="new-password" required aria-describedby="password-hint">
<p id="password-hint" class="hint">Au moins 8 caractères.</p>
<label for="password_confirmation">Confirmer le mot de passe</label>
<input id="password_confirmation" name="password_confirmation" type="password" autocomplete="new-password" required>
<button type="submit">${e(page.submit)}</button>
</form>
<p id="error" role="alert"></p>
<p id="success" role="status"></p>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/**
 * Serves `page` at `url` (GET, and HEAD with it). Outside both API trees, and out of the OpenAPI
 * document: a page for people, not an operation for clients.
 */
export function servePasswordPage(app: FastifyInstance, url: string, page: PasswordPage): void {
  const html = passwordPageHtml(page);
  app.get(url, { schema: { hide: true } }, async (_request, reply) => reply.headers(PASSWORD_PAGE_HEADERS).send(html));
}
