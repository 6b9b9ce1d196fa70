import type { fastifyOauth2 } from '@fastify/oauth2';
import type { OAuthProfile } from '../../../domain/medreport/accounts/oauth.js';
import type { OAuthProviderConfig, OAuthProviderName } from './provider-config.js';

type Endpoints = { authorizeHost?: string; authorizePath: string; tokenHost: string; tokenPath: string };

interface ProviderDefinition {
  /** @fastify/oauth2's constant with the provider's endpoints. */
  endpoints: 'GOOGLE_CONFIGURATION' | 'FACEBOOK_CONFIGURATION' | 'GITHUB_CONFIGURATION';
  scope: string[];
  userinfoUrl: string;
  profile(userinfo: Record<string, unknown>, accessToken: string, userinfoUrl: string): Promise<OAuthProfile>;
}

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : null);

export const PROVIDERS: Record<OAuthProviderName, ProviderDefinition> = {
  google: {
    endpoints: 'GOOGLE_CONFIGURATION',
    scope: ['openid', 'email', 'profile'],
    userinfoUrl: 'https://openidconnect.googleapis.com/v1/userinfo',
    async profile(info) {
      return {
        providerUserId: String(info.sub),
        email: str(info.email),
        emailVerified: info.email_verified === true || info.email_verified === 'true',
        name: str(info.name) ?? str(info.email) ?? 'Utilisateur Google',
      };
    },
  },
  facebook: {
    endpoints: 'FACEBOOK_CONFIGURATION',
    scope: ['email', 'public_profile'],
    userinfoUrl: 'https://graph.facebook.com/me?fields=id,name,email',
    // Facebook returns an e-mail address only once its owner has confirmed it.
    async profile(info) {
      return {
        providerUserId: String(info.id ?? info.sub),
        email: str(info.email),
        emailVerified: str(info.email) !== null,
        name: str(info.name) ?? 'Utilisateur Facebook',
      };
    },
  },
  github: {
    endpoints: 'GITHUB_CONFIGURATION',
    scope: ['read:user', 'user:email'],
    userinfoUrl: 'https://api.github.com/user',
    // A public GitHub address is always a verified one; a private one is read from /user/emails.
    async profile(info, accessToken, userinfoUrl) {
      let email = str(info.email);
      if (!email) {
        const emails = await fetchJson<Array<{ email: string; primary: boolean; verified: boolean }>>(
          `${userinfoUrl.replace(/\/+$/, '')}/emails`,
          accessToken,
        ).catch(() => []);
        email = emails.find((e) => e.primary && e.verified)?.email ?? null;
      }
      return {
        providerUserId: String(info.id ?? info.sub),
        email,
        emailVerified: email !== null,
        name: str(info.name) ?? str(info.login) ?? 'Utilisateur GitHub',
      };
    },
  },
};

/** simple-oauth2 endpoints: the provider's, or the overrides from the environment (tests, proxies). */
export function endpoints(oauth2: typeof fastifyOauth2, provider: OAuthProviderName, config: OAuthProviderConfig) {
  const defaults = oauth2[PROVIDERS[provider].endpoints] as Endpoints;
  const authorize = config.authorizeUrl ? new URL(config.authorizeUrl) : undefined;
  const token = config.tokenUrl ? new URL(config.tokenUrl) : undefined;
  return {
    authorizeHost: authorize?.origin ?? defaults.authorizeHost ?? defaults.tokenHost,
    authorizePath: authorize ? authorize.pathname : defaults.authorizePath,
    tokenHost: token?.origin ?? defaults.tokenHost,
    tokenPath: token ? token.pathname : defaults.tokenPath,
  };
}

export async function fetchJson<T>(url: string, accessToken: string): Promise<T> {
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json', 'user-agent': 'medreport-api' },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return (await res.json()) as T;
}
