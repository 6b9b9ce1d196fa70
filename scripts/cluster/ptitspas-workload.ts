import { randomUUID } from 'node:crypto';
import { type PtitsPasAccount, ptitspasLogin, ptitspasLoginCharges } from './accounts.js';
import type { Charge } from './budgets.js';
import { type Client, formWith, pdfBytes, pick, type Scenario, sha256, times } from './scenario.js';
import type { Call } from './traffic.js';

/** Children each parent sees, parents the gestionnaire has listed. */
const childrenOf = new Map<string, string[]>();
let knownParents: string[] = [];

type Enfant = { id: string; consentement_photo: boolean };
type Parent = { id_utilisateur: string; utilisateur: { telephone: string | null } };

const calls = (n: number, account: PtitsPasAccount): Charge[] => times(n, ['ptitspas', account.email]);
const withLogin = (account: PtitsPasAccount, charges: Charge[]): Charge[] =>
  account.access ? charges : [...ptitspasLoginCharges(account), ...charges];

async function loggedIn(client: Client, account: PtitsPasAccount): Promise<boolean> {
  return account.access !== undefined || ptitspasLogin(client.traffic, client.side(), account);
}

/** A request of `account` to /api/v1 through the next instance. */
const send = (client: Client, account: PtitsPasAccount, call: Omit<Call, 'token' | 'route'> & { route?: string }) =>
  client.traffic.send(client.side(), {
    ...call,
    path: `/api/v1${call.path}`,
    route: `${call.method} /api/v1${call.route ?? call.path}`,
    token: account.access,
  });

const parentReads: Scenario<PtitsPasAccount> = {
  name: 'parent: profile, dossiers, a child, notifications',
  weight: 10,
  charges: (account) => (account.role === 'parent' ? withLogin(account, calls(4, account)) : undefined),
  async run(client, account) {
    if (!(await loggedIn(client, account))) return;
    await send(client, account, { method: 'GET', path: '/auth/me', expect: 200 });
    const dossiers = await send(client, account, { method: 'GET', path: '/dossiers', expect: 200 });
    if (dossiers.ok) {
      const ids = (dossiers.body as Array<{ id_enfant: string }>).map((d) => d.id_enfant);
      childrenOf.set(account.email, [...new Set([...(childrenOf.get(account.email) ?? []), ...ids])]);
    }
    const child = pick(childrenOf.get(account.email) ?? []);
    if (child)
      await send(client, account, { method: 'GET', path: `/enfants/${child}`, route: '/enfants/:id', expect: 200 });
    await send(client, account, { method: 'GET', path: '/notifications', expect: 200 });
  },
};

const parentWrites: Scenario<PtitsPasAccount> = {
  name: 'parent: add a child, give photo consent, read it back',
  weight: 4,
  charges: (account) => (account.role === 'parent' ? withLogin(account, calls(3, account)) : undefined),
  async run(client, account) {
    if (!(await loggedIn(client, account))) return;
    const created = await send(client, account, {
      method: 'POST',
      path: '/enfants',
      expect: 201,
      json: { prenom: 'Lou', nom: 'Cluster', genre: 'F', date_naissance: '2023-02-01' },
    });
    if (!created.ok) return;
    const { id } = created.body as Enfant;
    childrenOf.set(account.email, [...(childrenOf.get(account.email) ?? []), id]);
    const path = `/enfants/${id}`;
    const changed = await send(client, account, {
      method: 'PATCH',
      path,
      route: '/enfants/:id',
      expect: 200,
      json: { consentement_photo: true },
    });
    if (!changed.ok) return;
    const read = await send(client, account, { method: 'GET', path, route: '/enfants/:id', expect: 200 });
    if (!read.ok) return;
    const seen = (read.body as Enfant).consentement_photo;
    client.traffic.tally('a write through one instance is read back through the other', seen === true, id);
  },
};

const parentUpload: Scenario<PtitsPasAccount> = {
  name: 'parent: upload a document, download it through the other instance',
  weight: 3,
  charges: (account) =>
    account.role === 'parent'
      ? withLogin(account, [...calls(2, account), ['ptitspasUpload', account.email]])
      : undefined,
  async run(client, account) {
    if (!(await loggedIn(client, account))) return;
    const bytes = pdfBytes(2_048 + Math.floor(Math.random() * 16_384));
    const uploaded = await send(client, account, {
      method: 'POST',
      path: '/uploads',
      expect: 201,
      form: formWith({ categorie: 'autre' }, 'fichier', bytes, 'attestation.pdf'),
    });
    if (!uploaded.ok) return;
    const { id } = uploaded.body as { id: string };
    const content = await send(client, account, {
      method: 'GET',
      path: `/uploads/${id}/contenu`,
      route: '/uploads/:id/contenu',
      expect: 200,
    });
    if (!content.ok) return;
    const same = sha256(content.bytes) === sha256(bytes);
    client.traffic.tally('a file uploaded through one instance downloads byte-identical through the other', same, id);
  },
};

const managerReads: Scenario<PtitsPasAccount> = {
  name: 'gestionnaire: parents, children, dossiers, an account',
  weight: 10,
  charges: (account) => (account.role === 'gestionnaire' ? withLogin(account, calls(4, account)) : undefined),
  async run(client, account) {
    if (!(await loggedIn(client, account))) return;
    const parents = await send(client, account, {
      method: 'GET',
      path: '/parents?limit=20',
      route: '/parents',
      expect: 200,
    });
    if (parents.ok) knownParents = (parents.body as Parent[]).map((p) => p.id_utilisateur);
    await send(client, account, { method: 'GET', path: '/enfants?limit=20', route: '/enfants', expect: 200 });
    await send(client, account, { method: 'GET', path: '/dossiers?statut=soumis', route: '/dossiers', expect: 200 });
    const parent = pick(knownParents);
    if (parent)
      await send(client, account, { method: 'GET', path: `/users/${parent}`, route: '/users/:id', expect: 200 });
  },
};

const managerWrites: Scenario<PtitsPasAccount> = {
  name: 'gestionnaire: add a parent, change their phone, read it back',
  weight: 4,
  charges: (account) => (account.role === 'gestionnaire' ? withLogin(account, calls(3, account)) : undefined),
  async run(client, account) {
    if (!(await loggedIn(client, account))) return;
    const created = await send(client, account, {
      method: 'POST',
      path: '/parents',
      expect: 201,
      json: {
        email: `parent.${randomUUID().slice(0, 8)}@cluster.test`,
        prenom: 'Jean',
        nom: 'Cluster',
        telephone: '0601020304',
      },
    });
    if (!created.ok) return;
    const path = `/parents/${(created.body as Parent).id_utilisateur}`;
    const telephone = `06${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
    const changed = await send(client, account, {
      method: 'PATCH',
      path,
      route: '/parents/:id',
      expect: 200,
      json: { telephone },
    });
    if (!changed.ok) return;
    const read = await send(client, account, { method: 'GET', path, route: '/parents/:id', expect: 200 });
    if (!read.ok) return;
    const seen = (read.body as Parent).utilisateur.telephone;
    client.traffic.tally('a write through one instance is read back through the other', seen === telephone, path);
  },
};

export const PTITSPAS_SCENARIOS = [parentReads, parentWrites, parentUpload, managerReads, managerWrites];
