import type { FastifyPluginAsync } from 'fastify';
import { servePasswordPage } from '../../shared/password-page.js';

/** Where this server serves its set-password page (outside /api/v1: the e-mailed link opens it). */
export const SET_PASSWORD_PAGE = '/ptitspas/definir-mot-de-passe';

/** The base of the e-mailed set-password link: PTITSPAS_SET_PASSWORD_URL (the app's page), else this server's. */
export const setPasswordLink = (config: { ptitspasSetPasswordUrl?: string; publicUrl: string }) =>
  config.ptitspasSetPasswordUrl ?? `${config.publicUrl}${SET_PASSWORD_PAGE}`;

/** The set-password page, only when PTITSPAS_SET_PASSWORD_URL is unset: otherwise the app owns it, and this path is a 404. */
const setPasswordPage: FastifyPluginAsync = async (app) => {
  if (app.config.ptitspasSetPasswordUrl !== undefined) return;
  servePasswordPage(app, SET_PASSWORD_PAGE, {
    title: 'Choisir mon mot de passe – PtitsPas',
    heading: 'Choisir mon mot de passe',
    intro: 'Votre compte PtitsPas est activé. Choisissez votre mot de passe pour vous connecter.',
    endpoint: '../api/v1/auth/set-password',
    linkParameters: ['token'],
    sendsConfirmation: false,
    submit: 'Enregistrer le mot de passe',
  });
};

export default setPasswordPage;
