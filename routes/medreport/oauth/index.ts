import cookie from '@fastify/cookie';
import type { OAuth2Namespace } from '@fastify/oauth2';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { oauthSignIn } from '../../../domain/medreport/accounts/oauth.js';
import { errorResponses, HttpError } from '../../../plugins/errors.js';
import { AuthResponse } from '../auth/schemas.js';
import { toUserResource } from '../users/schemas.js';
import { OAUTH_PROVIDERS } from './provider-config.js';
import { endpoints, fetchJson, PROVIDERS } from './providers.js';

const CallbackQuery = Type.Object({
  code: Type.Optional(Type.String({ maxLength: 2048 })),
  state: Type.Optional(Type.String({ maxLength: 512 })),
  error: Type.Optional(Type.String({ maxLength: 512 })),
});

const redirectSchema = (title: string) => ({
  operationId: `oauth${title}Redirect`,
  tags: ['oauth'],
  summary: `Start ${title} login (redirects to ${title}; 404 when this server has no ${title} client)`,
  response: { 302: Type.Null({ description: 'Redirect to the provider' }), ...errorResponses('medreport', 404) },
});

const callbackSchema = (title: string) => ({
  operationId: `oauth${title}Callback`,
  tags: ['oauth'],
  summary: `${title} returns here; answers a MedReport token (or redirects to OAUTH_SUCCESS_REDIRECT)`,
  querystring: CallbackQuery,
  response: {
    200: AuthResponse,
    302: Type.Null({ description: 'Redirect to OAUTH_SUCCESS_REDIRECT?token=...' }),
    ...errorResponses('medreport', 401, 403, 404, 422),
  },
});

/**
 * Social login: GET /auth/{provider} redirects to the provider, GET /auth/{provider}/callback
 * trades the code for a MedReport token. Every provider's routes exist, so the API and its
 * OpenAPI document are the same on every server; a provider without credentials answers 404.
 */
const oauthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { publicUrl, oauthSuccessRedirect } = app.config;
  const configured = Object.keys(app.config.oauth).length > 0;
  // The state (and PKCE verifier) ride in short-lived cookies between redirect and callback.
  if (configured) await app.register(cookie);
  // @fastify/oauth2 and simple-oauth2 are loaded only for a configured provider (idle memory).
  const oauth2 = configured ? (await import('@fastify/oauth2')).fastifyOauth2 : undefined;

  for (const provider of OAUTH_PROVIDERS) {
    const config = app.config.oauth[provider];
    const title = provider[0]!.toUpperCase() + provider.slice(1);
    if (!config || !oauth2) {
      const notConfigured = async () => {
        throw new HttpError(404, `La connexion avec ${title} n'est pas disponible sur ce serveur.`);
      };
      app.get(`/auth/${provider}`, { schema: redirectSchema(title) }, notConfigured);
      app.get(`/auth/${provider}/callback`, { schema: callbackSchema(title) }, notConfigured);
      continue;
    }
    const definition = PROVIDERS[provider];
    const name = `${provider}OAuth2`;
    await app.register(oauth2, {
      name,
      scope: definition.scope,
      credentials: {
        client: { id: config.clientId, secret: config.clientSecret },
        auth: endpoints(oauth2, provider, config),
      },
      callbackUri: `${publicUrl}/api/auth/${provider}/callback`,
      // One pair of cookies per provider, so two flows in the same browser do not clash.
      redirectStateCookieName: `oauth2-${provider}-state`,
      verifierCookieName: `oauth2-${provider}-verifier`,
      cookie: { secure: publicUrl.startsWith('https://'), path: '/api/auth' },
      pkce: 'S256',
    });
    // @fastify/oauth2 decorates the instance under a name chosen at run time, which its types cannot name.
    const client = (app as unknown as Record<string, OAuth2Namespace>)[name]!;

    app.get(`/auth/${provider}`, { schema: redirectSchema(title) }, async (request, reply) =>
      reply.redirect(await client.generateAuthorizationUri(request, reply)),
    );

    app.get(`/auth/${provider}/callback`, { schema: callbackSchema(title) }, async (request, reply) => {
      let accessToken: string;
      try {
        // Checks the state against the cookie set by the redirect route before trading the code.
        ({
          token: { access_token: accessToken },
        } = await client.getAccessTokenFromAuthorizationCodeFlow(request, reply));
      } catch (err) {
        request.log.info({ err, provider }, 'oauth callback refused');
        throw new HttpError(401, `Échec de la connexion avec ${title}.`);
      }
      const userinfoUrl = config.userinfoUrl ?? definition.userinfoUrl;
      const profile = await fetchJson<Record<string, unknown>>(userinfoUrl, accessToken)
        .then((info) => definition.profile(info, accessToken, userinfoUrl))
        .catch((err: unknown) => {
          request.log.warn({ err, provider }, 'oauth userinfo failed');
          throw new HttpError(401, `Échec de la connexion avec ${title}.`);
        });
      const user = await oauthSignIn(app.systemDb, provider, title, profile);
      const token = await app.issueToken(app.systemDb, user.id, user.uuid, request);
      if (oauthSuccessRedirect) {
        const target = new URL(oauthSuccessRedirect);
        target.searchParams.set('token', token);
        return reply.redirect(target.toString());
      }
      return { success: true as const, message: 'Connexion réussie', token, user: toUserResource(user, publicUrl) };
    });
  }
};

export default oauthRoutes;
