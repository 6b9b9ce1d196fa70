import { DEMO_PASSWORD, demoEmail } from '../../db/seed-demo.js';
import { PTITSPAS_DEMO_DOMAIN, PTITSPAS_DEMO_GESTIONNAIRE } from '../../domain/ptitspas/demo.js';
import type { Charge } from './budgets.js';
import type { Traffic } from './traffic.js';

/** What `seed:demo` makes (every account's password is DEMO_PASSWORD). */
export const SEED = { orgs: 10, usersPerOrg: 10, patients: 1_000, families: 8 };

/** A MedReport user of the seed, with the address its requests come from. */
export interface MedReportUser {
  email: string;
  address: string;
  org: number;
  token?: string;
}

/** A PtitsPas account of the seed. */
export interface PtitsPasAccount {
  email: string;
  address: string;
  role: 'parent' | 'gestionnaire';
  access?: string;
  refresh?: string;
}

let nextAddress = 0;
/** An address of its own for each account, as distinct devices would have (10.x.y.z). */
export const newAddress = () => {
  nextAddress++;
  return `10.${(nextAddress >> 16) & 255}.${(nextAddress >> 8) & 255}.${nextAddress & 255}`;
};

/** The seeded MedReport users of `orgs` (1-based organization keys). */
export function medreportUsers(orgs: number[]): MedReportUser[] {
  return orgs.flatMap((org) =>
    Array.from({ length: SEED.usersPerOrg }, (_, i) => ({ email: demoEmail(org, i), address: newAddress(), org })),
  );
}

/** The seeded PtitsPas gestionnaire and the parents of families `from` to `to`. */
export function ptitspasAccounts(families: number[], withGestionnaire: boolean): PtitsPasAccount[] {
  const parents = families.map((n) => ({
    email: `parent.${n}@${PTITSPAS_DEMO_DOMAIN}`,
    address: newAddress(),
    role: 'parent' as const,
  }));
  const gestionnaire = { email: PTITSPAS_DEMO_GESTIONNAIRE, address: newAddress(), role: 'gestionnaire' as const };
  return withGestionnaire ? [gestionnaire, ...parents] : parents;
}

export const medreportLoginCharges = (user: MedReportUser): Charge[] => [
  ['login', user.address],
  ['hashAddress', user.address],
  ['hashAccount', user.email],
];

export const ptitspasLoginCharges = (account: PtitsPasAccount): Charge[] => [
  ['ptitspasPublic', account.address],
  ['ptitspasLogin', account.address],
  ['hashAddress', account.address],
  ['hashAccount', account.email],
];

/** POST /api/login as `user` through instance `side`; keeps the token. */
export async function medreportLogin(traffic: Traffic, side: number, user: MedReportUser): Promise<boolean> {
  const answer = await traffic.send(side, {
    method: 'POST',
    path: '/api/login',
    route: 'POST /api/login',
    expect: 200,
    json: { email: user.email, password: DEMO_PASSWORD },
    address: user.address,
  });
  user.token = answer.ok ? (answer.body as { token: string }).token : undefined;
  return answer.ok;
}

/** POST /api/v1/auth/login as `account` through instance `side`; keeps its tokens. */
export async function ptitspasLogin(traffic: Traffic, side: number, account: PtitsPasAccount): Promise<boolean> {
  const answer = await traffic.send(side, {
    method: 'POST',
    path: '/api/v1/auth/login',
    route: 'POST /api/v1/auth/login',
    expect: 200,
    json: { email: account.email, password: DEMO_PASSWORD },
    address: account.address,
  });
  const body = answer.body as { access_token: string; refresh_token: string } | undefined;
  account.access = answer.ok ? body?.access_token : undefined;
  account.refresh = answer.ok ? body?.refresh_token : undefined;
  return answer.ok;
}
