import type { FastifyPluginAsync } from 'fastify';
import { servePasswordPage } from '../../shared/password-page.js';

/** Where this server serves its reset page (outside /api: the e-mailed link opens it). */
export const RESET_PASSWORD_PAGE = '/reset-password';

/** The base of the e-mailed reset link: PASSWORD_RESET_URL (the app's page), else this server's. */
export const resetPasswordLink = (config: { passwordResetUrl?: string; publicUrl: string }) =>
  config.passwordResetUrl ?? `${config.publicUrl}${RESET_PASSWORD_PAGE}`;

/** The reset page, only when PASSWORD_RESET_URL is unset: otherwise the app owns it, and this path is a 404. */
const resetPasswordPage: FastifyPluginAsync = async (app) => {
  if (app.config.passwordResetUrl !== undefined) return;
  servePasswordPage(app, RESET_PASSWORD_PAGE, {
    title: 'Nouveau mot de passe – MedReport',
    heading: 'Choisir un nouveau mot de passe',
    intro: 'Choisissez le nouveau mot de passe de votre compte MedReport. Toutes vos sessions seront fermées.',
    endpoint: 'api/reset-password',
    linkParameters: ['token', 'email'],
    sendsConfirmation: true,
    submit: 'Enregistrer le mot de passe',
  });
};

export default resetPasswordPage;
