import type { FastifyInstance } from 'fastify';
import { activationMail } from '../../../domain/ptitspas/accounts/links.js';
import { setPasswordLink } from './set-password-page.js';

/**
 * Tells an account it is active, with its set-password link when it has no password yet
 * (`PTITSPAS_SET_PASSWORD_URL?token=...`, this server's own page when unset). Sent after the
 * commit; a mail lost on the way is sent again by validating the account again.
 */
export function sendActivation(
  app: FastifyInstance,
  user: { email: string; prenom: string },
  token: string | undefined,
): void {
  const link = token && `${setPasswordLink(app.config)}?token=${encodeURIComponent(token)}`;
  app.mailer.sendInBackground({ ...activationMail(user, link), from: app.config.ptitspasMailFrom });
}
