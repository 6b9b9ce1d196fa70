import { DEMO_PASSWORD, type DemoOptions, medreportDemoAccounts } from '../db/seed-demo.js';
import { ptitspasDemoAccounts } from '../domain/ptitspas/demo.js';

/**
 * What `seed:demo` prints last: one line per API and role, the account to log in with (e-mail;
 * every one has the demo password) and what it sees, in aligned columns.
 */
export function demoAccountLines(options: DemoOptions & { dossiers: number }): string[] {
  const rows = [
    ...medreportDemoAccounts(options).map((a) => ({ api: 'MedReport', ...a })),
    ...ptitspasDemoAccounts(options.dossiers).map((a) => ({ api: 'PtitsPas', ...a })),
  ];
  const width = (column: 'api' | 'role' | 'email') => Math.max(...rows.map((r) => r[column].length));
  const [api, role, email] = [width('api'), width('role'), width('email')];
  return [
    `Log in with (password "${DEMO_PASSWORD}"):`,
    ...rows.map((r) => `  ${r.api.padEnd(api)}  ${r.role.padEnd(role)}  ${r.email.padEnd(email)}  ${r.sees}`),
  ];
}
