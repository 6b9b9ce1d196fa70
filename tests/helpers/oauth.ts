import { OAuth2Server } from 'oauth2-mock-server';
import { expect } from 'vitest';
import type { OAuthProviderConfig, OAuthProviderName } from '../../routes/medreport/oauth/provider-config.js';
import type { App } from '../../src/app.js';

/**
 * A real OAuth2/OIDC server on a local port stands in for Google, Facebook and GitHub: the app
 * redirects to it, the "browser" (fetch) follows, and the app trades the code at its token endpoint.
 */
export async function startOAuthProvider() {
  const provider = new OAuth2Server();
  await provider.issuer.keys.generate('RS256');
  await provider.start(0, '127.0.0.1');

  function config(name: string): OAuthProviderConfig {
    const base = provider.issuer.url!;
    return {
      clientId: `${name}-client`,
      clientSecret: `${name}-secret`,
      authorizeUrl: `${base}/authorize`,
      tokenUrl: `${base}/token`,
      userinfoUrl: `${base}/userinfo`,
    };
  }

  /** What the provider's userinfo endpoint answers for the next login. */
  function nextUserinfo(body: Record<string, unknown>) {
    provider.service.once('beforeUserinfo', (response) => {
      response.body = body;
    });
  }

  /** Runs the browser part of the flow; returns the callback request the provider sends back. */
  async function authorize(app: App, name: OAuthProviderName, publicUrl = 'http://api.test') {
    const start = await app.inject({ method: 'GET', url: `/api/auth/${name}` });
    expect(start.statusCode).toBe(302);
    const authorizeUrl = new URL(start.headers.location as string);
    expect(authorizeUrl.origin).toBe(provider.issuer.url);
    expect(authorizeUrl.searchParams.get('client_id')).toBe(`${name}-client`);
    expect(authorizeUrl.searchParams.get('redirect_uri')).toBe(`${publicUrl}/api/auth/${name}/callback`);
    expect(authorizeUrl.searchParams.get('state')).toBeTruthy();
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');

    const cookies = [start.headers['set-cookie']]
      .flat()
      .filter(Boolean)
      .map((c) => String(c).split(';')[0])
      .join('; ');
    const atProvider = await fetch(authorizeUrl, { redirect: 'manual' });
    expect(atProvider.status).toBe(302);
    const callback = new URL(atProvider.headers.get('location')!);
    expect(callback.pathname).toBe(`/api/auth/${name}/callback`);
    return { path: `${callback.pathname}${callback.search}`, callback, cookies };
  }

  /** The whole flow: the provider will say the user is `userinfo`. */
  async function login(app: App, name: OAuthProviderName, userinfo: Record<string, unknown>) {
    const flow = await authorize(app, name);
    nextUserinfo(userinfo);
    return app.inject({ method: 'GET', url: flow.path, headers: { cookie: flow.cookies } });
  }

  return { provider, config, nextUserinfo, authorize, login, stop: () => provider.stop() };
}

/** Each provider's userinfo answer for a verified address. */
export const oauthProfiles: Record<OAuthProviderName, (email: string, id: string) => Record<string, unknown>> = {
  google: (email, id) => ({ sub: id, email, email_verified: true, name: 'Gina Google' }),
  facebook: (email, id) => ({ id, email, name: 'Fabien Facebook' }),
  github: (email, id) => ({ id: Number(id.replace(/\D/g, '').slice(0, 9) || 1), login: 'octo', email, name: null }),
};
