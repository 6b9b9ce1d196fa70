import { randomUUID } from 'node:crypto';
import { type MedReportUser, medreportLogin, medreportLoginCharges } from './accounts.js';
import type { Charge } from './budgets.js';
import { type Client, formWith, pdfBytes, pick, type Scenario, sha256, times } from './scenario.js';

/** Patients each organization's users have seen: what the next scenarios open, edit and prescribe for. */
const knownPatients = new Map<number, string[]>();
const patientsOf = (org: number) => knownPatients.get(org) ?? [];
function remember(org: number, uuids: string[]) {
  const list = patientsOf(org);
  for (const uuid of uuids) if (!list.includes(uuid)) list.push(uuid);
  knownPatients.set(org, list.slice(-200));
}

type Patient = { uuid: string; phone: string | null };
type Prescription = { uuid: string; medication: string };
type ItemResult = { uuid: string; status: string; updated_at: string | null };
type BatchAnswer = { results: Record<string, ItemResult[]>; errors: unknown[] };
type Changes = { has_more: boolean; changes: Record<string, Array<{ uuid: string }>> };

const bearer = (user: MedReportUser) => user.token!;
const api = (n: number, user: MedReportUser): Charge[] => times(n, ['api', user.email]);

/** Logs in first when the user has no token yet (its cost is in `charges`). */
async function loggedIn(client: Client, user: MedReportUser): Promise<boolean> {
  return user.token !== undefined || medreportLogin(client.traffic, client.side(), user);
}

/** A scenario's charges, with a login's in front when the user has no token yet. */
const withLogin = (user: MedReportUser, charges: Charge[]): Charge[] =>
  user.token ? charges : [...medreportLoginCharges(user), ...charges];

const browse: Scenario<MedReportUser> = {
  name: 'browse patients',
  weight: 40,
  charges: (user) => withLogin(user, api(3, user)),
  async run(client, user) {
    if (!(await loggedIn(client, user))) return;
    const page = 1 + Math.floor(Math.random() * 5);
    const list = await client.traffic.send(client.side(), {
      method: 'GET',
      path: `/api/patients?page=${page}&limit=20&sort=name`,
      route: 'GET /api/patients',
      expect: 200,
      token: bearer(user),
    });
    if (list.ok)
      remember(
        user.org,
        (list.body as { data: Patient[] }).data.map((p) => p.uuid),
      );
    const uuid = pick(patientsOf(user.org));
    if (!uuid) return;
    await client.traffic.send(client.side(), {
      method: 'GET',
      path: `/api/patients/${uuid}`,
      route: 'GET /api/patients/:uuid',
      expect: 200,
      token: bearer(user),
    });
    await client.traffic.send(client.side(), {
      method: 'GET',
      path: `/api/prescriptions?patient_uuid=${uuid}`,
      route: 'GET /api/prescriptions',
      expect: 200,
      token: bearer(user),
    });
  },
};

const editPatient: Scenario<MedReportUser> = {
  name: 'create and edit a patient',
  weight: 15,
  charges: (user) => withLogin(user, api(3, user)),
  async run(client, user) {
    if (!(await loggedIn(client, user))) return;
    const created = await client.traffic.send(client.side(), {
      method: 'POST',
      path: '/api/patients',
      route: 'POST /api/patients',
      expect: 201,
      token: bearer(user),
      json: { name: 'Patient Cluster', birth_date: '1980-03-04', phone: '+221770000000' },
    });
    if (!created.ok) return;
    const { uuid } = created.body as Patient;
    remember(user.org, [uuid]);
    const phone = `+2217700${String(Math.floor(Math.random() * 100_000)).padStart(5, '0')}`;
    const patched = await client.traffic.send(client.side(), {
      method: 'PATCH',
      path: `/api/patients/${uuid}`,
      route: 'PATCH /api/patients/:uuid',
      expect: 200,
      token: bearer(user),
      json: { phone },
    });
    if (!patched.ok) return;
    const read = await client.traffic.send(client.side(), {
      method: 'GET',
      path: `/api/patients/${uuid}`,
      route: 'GET /api/patients/:uuid',
      expect: 200,
      token: bearer(user),
    });
    if (!read.ok) return;
    const seen = (read.body as Patient).phone;
    client.traffic.tally('a write through one instance is read back through the other', seen === phone, uuid);
  },
};

const prescribe: Scenario<MedReportUser> = {
  name: 'write a prescription',
  weight: 15,
  charges: (user) => (patientsOf(user.org).length ? withLogin(user, api(2, user)) : undefined),
  async run(client, user) {
    if (!(await loggedIn(client, user))) return;
    const medication = `Paracétamol ${100 * (1 + Math.floor(Math.random() * 10))} mg`;
    const created = await client.traffic.send(client.side(), {
      method: 'POST',
      path: '/api/prescriptions',
      route: 'POST /api/prescriptions',
      expect: 201,
      token: bearer(user),
      json: { patient_uuid: pick(patientsOf(user.org)), medication, dosage: '3x/jour', validity_period: 30 },
    });
    if (!created.ok) return;
    const { uuid } = created.body as Prescription;
    const read = await client.traffic.send(client.side(), {
      method: 'GET',
      path: `/api/prescriptions/${uuid}`,
      route: 'GET /api/prescriptions/:uuid',
      expect: 200,
      token: bearer(user),
    });
    if (!read.ok) return;
    const seen = (read.body as Prescription).medication;
    client.traffic.tally('a write through one instance is read back through the other', seen === medication, uuid);
  },
};

/** Three new patients and a prescription for the first, as a device pushes what it made offline. */
function offlineBatch() {
  const updatedAt = new Date().toISOString();
  const patients = Array.from({ length: 3 }, (_, i) => ({
    uuid: randomUUID(),
    name: `Patient Hors Ligne ${i + 1}`,
    phone: '+221770000001',
    updated_at: updatedAt,
  }));
  const prescriptions = [
    { uuid: randomUUID(), patient_uuid: patients[0]!.uuid, medication: 'Amoxicilline 1 g', updated_at: updatedAt },
  ];
  return { patients, prescriptions };
}

const sync: Scenario<MedReportUser> = {
  name: 'sync: push a batch twice (once through each instance), then pull',
  weight: 8,
  charges: (user) => withLogin(user, [...api(3, user), ...times(3, ['sync', user.email])]),
  async run(client, user) {
    if (!(await loggedIn(client, user))) return;
    const since = new Date(Date.now() - 1_000).toISOString();
    const batch = offlineBatch();
    const push = () =>
      client.traffic.send(client.side(), {
        method: 'POST',
        path: '/api/sync/batch',
        route: 'POST /api/sync/batch',
        expect: 200,
        token: bearer(user),
        json: batch,
      });
    const first = await push();
    const replay = await push();
    if (!first.ok || !replay.ok) return;
    const [a, b] = [first.body as BatchAnswer, replay.body as BatchAnswer];
    const allOk = Object.values(a.results).every((items) => items.every((item) => item.status === 'ok'));
    const same = JSON.stringify(a.results) === JSON.stringify(b.results) && b.errors.length === 0;
    const answers = `first ${JSON.stringify(a).slice(0, 200)}, again ${JSON.stringify(b).slice(0, 200)}`;
    client.traffic.tally('a sync batch pushed again through the other instance is a replay', allOk && same, answers);
    const pulled = await client.traffic.send(client.side(), {
      method: 'GET',
      path: `/api/sync/changes?since=${encodeURIComponent(since)}&entities[]=patients&entities[]=prescriptions&limit=1000`,
      route: 'GET /api/sync/changes',
      expect: 200,
      token: bearer(user),
    });
    if (!pulled.ok) return;
    const { changes, has_more } = pulled.body as Changes;
    const uuids = Object.values(changes).flatMap((list) => list.map((c) => c.uuid));
    const expected = [...batch.patients, ...batch.prescriptions].map((item) => item.uuid);
    remember(
      user.org,
      batch.patients.map((p) => p.uuid),
    );
    if (has_more) return; // a page of others' changes: too busy a second to count ours
    const once = expected.every((uuid) => uuids.filter((u) => u === uuid).length === 1);
    client.traffic.tally(
      'the pull lists each pushed item once (the replay wrote nothing)',
      once,
      `changes since ${since}`,
    );
  },
};

const attachFile: Scenario<MedReportUser> = {
  name: 'upload an attachment, download it through the other instance',
  weight: 8,
  charges: (user) =>
    patientsOf(user.org).length ? withLogin(user, [...api(2, user), ['upload', user.email]]) : undefined,
  async run(client, user) {
    if (!(await loggedIn(client, user))) return;
    const bytes = pdfBytes(4_096 + Math.floor(Math.random() * 28_672));
    const form = { owner_type: 'patient', owner_uuid: pick(patientsOf(user.org))! };
    const uploaded = await client.traffic.send(client.side(), {
      method: 'POST',
      path: '/api/files',
      route: 'POST /api/files',
      expect: 201,
      token: bearer(user),
      form: formWith(form, 'file', bytes, 'compte-rendu.pdf'),
    });
    if (!uploaded.ok) return;
    const { uuid } = uploaded.body as { uuid: string };
    const downloaded = await client.traffic.send(client.side(), {
      method: 'GET',
      path: `/api/files/${uuid}`,
      route: 'GET /api/files/:uuid',
      expect: 200,
      token: bearer(user),
    });
    if (!downloaded.ok) return;
    const same = sha256(downloaded.bytes) === sha256(bytes);
    client.traffic.tally('a file uploaded through one instance downloads byte-identical through the other', same, uuid);
  },
};

const relogin: Scenario<MedReportUser> = {
  name: 'log out, log in again',
  weight: 4,
  charges: (user) => (user.token ? [...api(2, user), ...medreportLoginCharges(user)] : undefined),
  async run(client, user) {
    const out = await client.traffic.send(client.side(), {
      method: 'POST',
      path: '/api/logout',
      route: 'POST /api/logout',
      expect: 200,
      token: bearer(user),
    });
    user.token = undefined;
    if (!out.ok || !(await medreportLogin(client.traffic, client.side(), user))) return;
    await client.traffic.send(client.side(), {
      method: 'GET',
      path: '/api/me',
      route: 'GET /api/me',
      expect: 200,
      token: bearer(user),
    });
  },
};

/** One export at a time in the whole run: the instances bound them per organization (429 past it). */
let exporting = false;

const exportCsv: Scenario<MedReportUser> = {
  name: 'export the patients as CSV (a cursor through the pooler)',
  weight: 2,
  charges: (user) => (exporting ? undefined : withLogin(user, api(2, user))),
  async run(client, user) {
    exporting = true;
    try {
      if (!(await loggedIn(client, user))) return;
      const count = await client.traffic.send(client.side(), {
        method: 'GET',
        path: '/api/patients?limit=1',
        route: 'GET /api/patients',
        expect: 200,
        token: bearer(user),
      });
      const csv = await client.traffic.send(client.side(), {
        method: 'GET',
        path: '/api/patients/export?format=csv',
        route: 'GET /api/patients/export',
        expect: 200,
        token: bearer(user),
      });
      if (!count.ok || !csv.ok) return;
      // Nothing is deleted during the run: the export holds at least what the count saw before it.
      const before = (count.body as { total: number }).total;
      const rows = csv.bytes.toString('utf8').trimEnd().split('\n').length - 1;
      client.traffic.tally(
        'a CSV export lists every patient counted before it',
        rows >= before,
        `${rows} rows, ${before} counted`,
      );
    } finally {
      exporting = false;
    }
  },
};

export const MEDREPORT_SCENARIOS = [browse, editPatient, prescribe, sync, attachFile, relogin, exportCsv];
