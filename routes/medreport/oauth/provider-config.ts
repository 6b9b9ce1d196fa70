// Apart from providers.ts so that loading the configuration (the CLI's every command) does not load
// @fastify/oauth2 and its dependencies.

export const OAUTH_PROVIDERS = ['google', 'facebook', 'github'] as const;
export type OAuthProviderName = (typeof OAUTH_PROVIDERS)[number];

/** A provider's client, from OAUTH_<PROVIDER>_* (endpoints default to the provider's own). */
export interface OAuthProviderConfig {
  clientId: string;
  clientSecret: string;
  authorizeUrl?: string;
  tokenUrl?: string;
  userinfoUrl?: string;
}
