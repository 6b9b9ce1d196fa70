import http from 'node:http';
import { type Readable, Writable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../db/connection.js';
import { CopyTextToCsv, csvStream, neutralize } from '../../domain/medreport/records/csv.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { createOrganization, type Member, type TenantFixture } from '../helpers/tenants.js';
import { bearer, registerUser } from '../helpers/users.js';

const BOM = '\uFEFF';
const BOM_BYTES = Buffer.from([0xef, 0xbb, 0xbf]);

const PATIENT_HEADER = [
  'uuid',
  'name',
  'birth_date',
  'gender',
  'phone',
  'email',
  'address',
  'blood_group',
  'allergies',
  'notes',
  'created_at',
];
const PRESCRIPTION_HEADER = [
  'uuid',
  'patient_uuid',
  'doctor_uuid',
  'medication',
  'dosage',
  'duration',
  'notes',
  'validity_period',
  'file_uuid',
  'date_issued',
  'created_at',
];

/** Collects a stream (strings or bytes) into one Buffer. */
async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

type Value = string | number | null;

/** A value as PostgreSQL's COPY text format writes it: NULL as \N, backslash and control characters escaped. */
function copyField(value: Value): string {
  if (value === null) return '\\N';
  const escapes: Record<string, string> = {
    '\\': '\\\\',
    '\b': '\\b',
    '\f': '\\f',
    '\n': '\\n',
    '\r': '\\r',
    '\t': '\\t',
    '\v': '\\v',
  };
  return String(value).replace(/[\\\b\f\n\r\t\v]/g, (c) => escapes[c]!);
}

/** `rows` as COPY ... TO STDOUT sends them: tab-separated, LF-terminated. */
const copyBytes = (rows: Value[][]) => Buffer.from(rows.map((row) => `${row.map(copyField).join('\t')}\n`).join(''));

/** `rows` as COPY output, cut in two chunks in the middle of a row (as a socket may). */
async function* copyText(rows: Value[][]): AsyncGenerator<Buffer> {
  const bytes = copyBytes(rows);
  const half = Math.ceil(bytes.length / 2);
  yield bytes.subarray(0, half);
  yield bytes.subarray(half);
}

/**
 * A strict RFC 4180 parser: records end with CRLF, fields are separated by commas, quoted fields
 * may hold commas, doubled quotes and line breaks. Throws on anything malformed, so a writer bug
 * shows up as a parse error rather than as silently shifted cells.
 */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  const n = text.length;
  if (n === 0) return records;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= n) throw new Error('unterminated quoted field');
        const c = text[i]!;
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            i++;
            break;
          }
        } else {
          field += c;
          i++;
        }
      }
    } else {
      while (i < n && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') throw new Error(`bare quote in unquoted field at ${i}`);
        field += text[i];
        i++;
      }
    }
    record.push(field);
    if (i >= n) throw new Error('last record is not terminated by CRLF');
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text[i] === '\r' && text[i + 1] === '\n') {
      records.push(record);
      record = [];
      i += 2;
      if (i >= n) return records;
      continue;
    }
    throw new Error(`unexpected ${JSON.stringify(text[i])} at ${i} (bare CR or LF outside quotes)`);
  }
}

/** The CSV body without its BOM, parsed; fails if the BOM is missing. */
function parseBody(raw: Buffer): string[][] {
  expect(raw.subarray(0, 3).equals(BOM_BYTES), 'starts with a UTF-8 BOM').toBe(true);
  const text = raw.toString('utf8');
  expect(text.startsWith(BOM)).toBe(true);
  return parseCsv(text.slice(1));
}

/** What the export must write for a value: empty for null, an apostrophe before formula starters. */
function expectedCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** The UTC dates a response produced now may carry (two around midnight). */
function todayCandidates(before: Date, after: Date): string[] {
  return [...new Set([before, after].map((d) => d.toISOString().slice(0, 10)))];
}

// --- 1. The CSV writer itself -----------------------------------------------------------------

describe('neutralize', () => {
  it.each([
    ['=SUM(A1:A2)', "'=SUM(A1:A2)"],
    ['+33 6 12', "'+33 6 12"],
    ['-2+3', "'-2+3"],
    ['@cmd', "'@cmd"],
    ['\tindented', "'\tindented"],
    ['\rcarriage', "'\rcarriage"],
  ])('prefixes %j with an apostrophe', (input, output) => {
    expect(neutralize(input)).toBe(output);
  });

  it.each([
    ['x;=cmd', "x;'=cmd"],
    ['x;"=cmd"', 'x;\'"=cmd"'],
    ['x\t@cmd', "x\t'@cmd"],
    ['a\r\n+b', "a\r\n'+b"],
    ['a;\t-b', "a;'\t'-b"],
  ])('puts an apostrophe after a ;, tab or line break that a formula or a quote follows: %j', (input, output) => {
    expect(neutralize(input)).toBe(output);
  });

  it('leaves harmless text alone, including dangerous characters not in first position', () => {
    expect(neutralize('Jean Dupont')).toBe('Jean Dupont');
    expect(neutralize('a=b')).toBe('a=b');
    expect(neutralize(' =x')).toBe(' =x');
    expect(neutralize("'already")).toBe("'already");
    expect(neutralize('')).toBe('');
  });

  it('turns null and undefined into an empty cell and keeps numbers', () => {
    expect(neutralize(null)).toBe('');
    expect(neutralize(undefined)).toBe('');
    expect(neutralize(42)).toBe('42');
    expect(neutralize(0)).toBe('0');
    expect(neutralize(3.5)).toBe('3.5');
  });
});

describe('csvStream', () => {
  const headers = ['a', 'b'];

  it('writes a BOM, a header row and CRLF-terminated records', async () => {
    const raw = await collect(
      csvStream(
        headers,
        copyText([
          ['x', 1],
          ['y', 2],
        ]),
      ),
    );
    expect(raw.subarray(0, 3).equals(BOM_BYTES)).toBe(true);
    expect(raw.toString('utf8')).toBe(`${BOM}a,b\r\nx,1\r\ny,2\r\n`);
  });

  it('writes only the header for no rows', async () => {
    const raw = await collect(csvStream(headers, copyText([])));
    expect(raw.toString('utf8')).toBe(`${BOM}a,b\r\n`);
  });

  it('quotes commas, quotes and CRLF line breaks (RFC 4180) and doubles quotes', async () => {
    const raw = await collect(
      csvStream(
        headers,
        copyText([
          ['Dupont, Jean', 1],
          ['say "hi"', 2],
          ['line1\r\nline2', 3],
          ['plain', 4],
        ]),
      ),
    );
    expect(raw.toString('utf8')).toBe(
      `${BOM}a,b\r\n"Dupont, Jean",1\r\n"say ""hi""",2\r\n"line1\r\nline2",3\r\nplain,4\r\n`,
    );
    expect(parseBody(raw)).toEqual([
      ['a', 'b'],
      ['Dupont, Jean', '1'],
      ['say "hi"', '2'],
      ['line1\r\nline2', '3'],
      ['plain', '4'],
    ]);
  });

  it('quotes fields holding a lone LF or a lone CR too', async () => {
    const raw = await collect(
      csvStream(
        headers,
        copyText([
          ['line1\nline2', 1],
          ['old\rmac', 2],
          ['\rstarts with CR', 3],
        ]),
      ),
    );
    expect(raw.toString('utf8')).toBe(`${BOM}a,b\r\n"line1\nline2",1\r\n"old\rmac",2\r\n"'\rstarts with CR",3\r\n`);
    expect(parseBody(raw).slice(1)).toEqual([
      ['line1\nline2', '1'],
      ['old\rmac', '2'],
      ["'\rstarts with CR", '3'],
    ]);
  });

  it('neutralizes every dangerous first character, and quotes the result when needed', async () => {
    const values = ['=1+1', '+33 6 12', '-1', '@SUM(A1)', '\tx', '=HYPERLINK("x")'];
    const raw = await collect(csvStream(headers, copyText(values.map((a) => [a, 0]))));
    expect(raw.toString('utf8')).toBe(
      `${BOM}a,b\r\n'=1+1,0\r\n'+33 6 12,0\r\n'-1,0\r\n'@SUM(A1),0\r\n"'\tx",0\r\n"'=HYPERLINK(""x"")",0\r\n`,
    );
    const rows = parseBody(raw).slice(1);
    expect(rows.map((r) => r[0])).toEqual(values.map((v) => `'${v}`));
  });

  it('writes NULL and the empty string as empty cells, and backslashes and control characters as they are', async () => {
    const raw = await collect(
      csvStream(
        headers,
        copyText([
          [null, null],
          ['', 0],
          ['C:\\temp\\n', 1234567],
          ['\b\f\v', '\\N'],
        ]),
      ),
    );
    expect(raw.toString('utf8')).toBe(`${BOM}a,b\r\n,\r\n,0\r\nC:\\temp\\n,1234567\r\n\b\f\v,\\N\r\n`);
  });

  it('leaves header cells as given, quoted when needed', async () => {
    const raw = await collect(csvStream(['name, full'], copyText([])));
    expect(raw.toString('utf8')).toBe(`${BOM}"name, full"\r\n`);
  });

  it('writes each random value as neutralize() gives it, wherever the chunks are cut', () => {
    // Every character the rules or the COPY format care about, and multi-byte ones.
    const alphabet = Array.from('a =+-@\t\r\n;,"\'\\N\bé€😀');
    let seed = 28;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const rows: Value[][] = Array.from({ length: 400 }, () =>
      Array.from({ length: 3 }, () =>
        random(10) === 0 ? null : Array.from({ length: random(8) }, () => alphabet[random(alphabet.length)]).join(''),
      ),
    );
    const bytes = copyBytes(rows);
    const whole = new CopyTextToCsv().push(bytes);
    const parsed = parseCsv(whole.toString('utf8'));
    expect(parsed).toEqual(rows.map((row) => row.map((v) => neutralize(v))));
    // Cut at every byte of the first rows (inside fields, escapes and multi-byte characters): the same bytes.
    for (let cut = 1; cut < 300; cut++) {
      const csv = new CopyTextToCsv();
      const out = Buffer.concat([csv.push(bytes.subarray(0, cut)), csv.push(bytes.subarray(cut))]);
      csv.end();
      expect(out.equals(whole), `cut at ${cut}`).toBe(true);
    }
  });

  it('writes a UTC timestamp column as ISO 8601 with milliseconds, truncated as to_char does', () => {
    const csv = new CopyTextToCsv(1);
    const rows = [
      ['a', '2026-12-07 15:04:47.123456'],
      ['b', '2026-12-07 15:04:47.999999'],
      ['c', '2026-12-07 15:04:47.5'],
      ['d', '2026-12-07 15:04:47'],
      ['e', null],
      ['f', 'infinity'],
      ['2026-12-07 15:04:47', '2026-12-07 15:04:47.1234567'],
    ];
    expect(csv.push(copyBytes(rows)).toString()).toBe(
      [
        'a,2026-12-07T15:04:47.123Z',
        'b,2026-12-07T15:04:47.999Z',
        'c,2026-12-07T15:04:47.500Z',
        'd,2026-12-07T15:04:47.000Z',
        'e,',
        'f,infinity',
        // Only its column is rewritten, and only the shape PostgreSQL writes.
        '2026-12-07 15:04:47,2026-12-07 15:04:47.1234567',
        '',
      ].join('\r\n'),
    );
  });

  it('grows its output past twice the input (quotes doubled) without losing a byte, wherever the chunks are cut', () => {
    // A lone quote and its separator (2 bytes) become """" and a separator (5 or 6 bytes).
    const rows: Value[][] = Array.from({ length: 3_000 }, () => ['"', '"']);
    const bytes = copyBytes(rows);
    const whole = new CopyTextToCsv().push(bytes);
    expect(whole.toString()).toBe('"""",""""\r\n'.repeat(3_000));
    for (const cut of [1, 2, 3, 5, 8, 13, 100, 1_000, bytes.length - 1]) {
      const csv = new CopyTextToCsv();
      const out = Buffer.concat([csv.push(bytes.subarray(0, cut)), csv.push(bytes.subarray(cut))]);
      expect(out.equals(whole), `cut at ${cut}`).toBe(true);
    }
  });

  it('keeps room for the rows after a row it completes across chunks, however much that row grew', () => {
    // A row of 1,000 lone quotes cut in two (its CSV is 2.5 times its bytes), then 20,000 empty
    // rows (LF becomes CRLF: twice their bytes, the most a copied row takes).
    const quotes = Array.from({ length: 1_000 }, () => '"').join('\t');
    const first = Buffer.from(quotes.slice(0, -2));
    const second = Buffer.from(`${quotes.slice(-2)}\n${'\n'.repeat(20_000)}`);
    const csv = new CopyTextToCsv();
    const out = Buffer.concat([csv.push(first), csv.push(second)]);
    csv.end();
    expect(out.toString()).toBe(`${Array.from({ length: 1_000 }, () => '""""').join(',')}\r\n${'\r\n'.repeat(20_000)}`);
  });

  it('fails when the COPY stops inside a row', () => {
    const csv = new CopyTextToCsv();
    expect(csv.push(Buffer.from('a\tb\nc\t')).toString()).toBe('a,b\r\n');
    expect(() => csv.end()).toThrow('COPY output ended inside a row');
  });

  it('pulls COPY output only as fast as it is read (back-pressure)', async () => {
    let pulled = 0;
    const total = 50_000;
    async function* many() {
      for (let i = 0; i < total; i += 100) {
        pulled += 100;
        // ~100 bytes a row, 5 MB in all: far more than the stream buffers ahead (256 KiB).
        yield Buffer.from(Array.from({ length: 100 }, (_, k) => `row ${i + k}\t${'x'.repeat(90)}\n`).join(''));
      }
    }
    const stream = csvStream(headers, many());
    // A response that stops draining: its buffer fills, and then no more rows may be pulled.
    const stalled: Array<() => void> = [];
    const sink = new Writable({ highWaterMark: 1024, write: (_chunk, _encoding, done) => void stalled.push(done) });
    stream.pipe(sink);
    const settle = async () => {
      for (let k = 0; k < 50; k++) await new Promise((r) => setImmediate(r));
    };
    await settle();
    const whileStalled = pulled;
    expect(whileStalled).toBeGreaterThan(0);
    expect(whileStalled).toBeLessThan(10_000);
    await settle();
    expect(pulled).toBe(whileStalled);
    // Draining again pulls the rest.
    stream.unpipe(sink);
    const lines = (await collect(stream)).toString('utf8').split('\r\n');
    expect(pulled).toBe(total);
    expect(lines.length).toBeGreaterThan(total - 5_000);
  });

  it('fails the stream when the COPY fails', async () => {
    async function* broken() {
      yield Buffer.from('ok\t1\n');
      throw new Error('connection lost');
    }
    await expect(collect(csvStream(headers, broken()))).rejects.toThrow('connection lost');
  });
});

// --- 2-4. Exports through the API --------------------------------------------------------------

let app: App;
let db: DatabaseHandle;
let a: TenantFixture;
let b: TenantFixture;

beforeAll(async () => {
  db = await testDb();
  app = await buildTestApp();
  a = await createOrganization(app, 'Export A');
  b = await createOrganization(app, 'Export B');
});
afterAll(async () => {
  await app?.close();
  await db?.db.destroy();
});

async function createPatient(member: Member, payload: Record<string, unknown>) {
  const res = await app.inject({ method: 'POST', url: '/api/patients', headers: member.headers, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as Record<string, unknown> & { uuid: string; created_at: string };
}

async function createPrescription(member: Member, payload: Record<string, unknown>) {
  const res = await app.inject({ method: 'POST', url: '/api/prescriptions', headers: member.headers, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as Record<string, unknown> & { uuid: string; created_at: string };
}

async function exportCsv(member: Member, resource: 'patients' | 'prescriptions') {
  const before = new Date();
  const res = await app.inject({
    method: 'GET',
    url: `/api/${resource}/export?format=csv`,
    headers: member.headers,
  });
  const after = new Date();
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
  const dates = todayCandidates(before, after);
  expect(dates.map((d) => `attachment; filename="${resource}-${d}.csv"`)).toContain(res.headers['content-disposition']);
  return parseBody(res.rawPayload);
}

describe('GET /api/patients/export', () => {
  const patientColumns = PATIENT_HEADER.slice(1, -1);
  let live: Array<Record<string, unknown> & { uuid: string; created_at: string }>;
  let deleted: { uuid: string };
  let foreign: { uuid: string };

  beforeAll(async () => {
    const p1 = await createPatient(a.doctor, {
      name: 'Dupont, "Jean"',
      birth_date: '1970-05-17',
      gender: 'male',
      phone: '+33 6 12',
      email: 'jean.dupont@example.com',
      address: '12 rue de la Paix, Paris',
      blood_group: 'O-',
      allergies: 'Pénicilline',
      notes: 'Première ligne\nDeuxième ligne',
    });
    const p2 = await createPatient(a.owner, {
      name: '=HYPERLINK("x")',
      phone: '-1',
      address: '@home',
      allergies: '\tpollen',
      notes: 'windows\r\nline break, and "quotes"',
    });
    deleted = await createPatient(a.doctor, { name: 'Soft Deleted' });
    const p3 = await createPatient(a.doctor, { name: 'Élodie Müller', gender: 'female', blood_group: 'AB+' });
    foreign = await createPatient(b.doctor, { name: 'Other Clinic Patient' });

    const del = await app.inject({ method: 'DELETE', url: `/api/patients/${deleted.uuid}`, headers: a.doctor.headers });
    expect(del.statusCode, del.body).toBe(200);
    live = [p1, p2, p3];
  });

  it('answers a CSV attachment with the patient columns as header', async () => {
    const before = new Date();
    const res = await app.inject({ method: 'GET', url: '/api/patients/export?format=csv', headers: a.doctor.headers });
    const after = new Date();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(todayCandidates(before, after).map((d) => `attachment; filename="patients-${d}.csv"`)).toContain(
      res.headers['content-disposition'],
    );
    expect(res.rawPayload.subarray(0, 3).equals(BOM_BYTES)).toBe(true);
    const text = res.rawPayload.toString('utf8');
    expect(text.slice(1, text.indexOf('\r\n'))).toBe(PATIENT_HEADER.join(','));
  });

  it("holds exactly the organization's live patients, oldest first, every value round-tripping", async () => {
    const [, ...rows] = await exportCsv(a.doctor, 'patients');
    expect(rows.map((r) => r[0])).toEqual(live.map((p) => p.uuid));
    expect(rows.map((r) => r[0])).not.toContain(deleted.uuid);
    expect(rows.map((r) => r[0])).not.toContain(foreign.uuid);
    rows.forEach((row, i) => {
      const patient = live[i]!;
      expect(row).toHaveLength(PATIENT_HEADER.length);
      expect(row).toEqual([patient.uuid, ...patientColumns.map((c) => expectedCell(patient[c])), patient.created_at]);
    });
  });

  it('neutralizes formula-like cells with an apostrophe and keeps the rest verbatim', async () => {
    const [, first, second, third] = await exportCsv(a.owner, 'patients');
    const cell = (row: string[] | undefined, column: string) => row![PATIENT_HEADER.indexOf(column)];
    expect(cell(first, 'name')).toBe('Dupont, "Jean"');
    expect(cell(first, 'phone')).toBe("'+33 6 12");
    expect(cell(first, 'notes')).toBe('Première ligne\nDeuxième ligne');
    expect(cell(first, 'birth_date')).toBe('1970-05-17');
    expect(cell(second, 'name')).toBe('\'=HYPERLINK("x")');
    expect(cell(second, 'phone')).toBe("'-1");
    expect(cell(second, 'address')).toBe("'@home");
    expect(cell(second, 'allergies')).toBe("'\tpollen");
    expect(cell(second, 'notes')).toBe('windows\r\nline break, and "quotes"');
    expect(cell(second, 'email')).toBe('');
    expect(cell(third, 'name')).toBe('Élodie Müller');
    // Removing the apostrophe gives back what was stored.
    expect(cell(second, 'name')!.slice(1)).toBe('=HYPERLINK("x")');
  });

  it('quotes on the wire as RFC 4180 says', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/patients/export?format=csv', headers: a.doctor.headers });
    const text = res.rawPayload.toString('utf8');
    expect(text).toContain('"Dupont, ""Jean"""');
    expect(text).toContain(`"'=HYPERLINK(""x"")"`);
    expect(text).toContain('"Première ligne\nDeuxième ligne"');
    expect(text.endsWith('\r\n')).toBe(true);
  });

  it('shows the other organization only its own patients', async () => {
    const [header, ...rows] = await exportCsv(b.owner, 'patients');
    expect(header).toEqual(PATIENT_HEADER);
    expect(rows.map((r) => r[0])).toEqual([foreign.uuid]);
    expect(rows[0]![1]).toBe('Other Clinic Patient');
  });

  it('gives back every character PostgreSQL escapes in its COPY output (backslash, control characters, \\N)', async () => {
    const clinic = await createOrganization(app, 'Export Escapes');
    const values = ['C:\\temp\\new', '\\N', 'bell\b form\f vtab\v', 'tab\there', '\\', 'x;\t=1', 'é\n€'];
    await sql`
      insert into medreport.patients (organization_id, uuid, name, notes, created_at)
      select ${clinic.organization.id}, gen_random_uuid(), v, v, now() + i * interval '1 second'
      from unnest(${values}::text[]) with ordinality as t(v, i)`.execute(db.db);
    const [, ...rows] = await exportCsv(clinic.owner, 'patients');
    const column = (name: string) => rows.map((r) => r[PATIENT_HEADER.indexOf(name)]);
    expect(column('name')).toEqual(values.map((v) => neutralize(v)));
    expect(column('notes')).toEqual(values.map((v) => neutralize(v)));
    expect(column('email')).toEqual(values.map(() => ''));
  });
});

describe('GET /api/prescriptions/export', () => {
  let patientA: { uuid: string };
  let mine: Array<Record<string, unknown> & { uuid: string; created_at: string }>;
  let removed: { uuid: string };
  let theirs: { uuid: string };

  beforeAll(async () => {
    patientA = await createPatient(a.doctor, { name: 'Prescribed Patient' });
    const patientB = await createPatient(b.doctor, { name: 'Prescribed Elsewhere' });
    const r1 = await createPrescription(a.doctor, {
      patient_uuid: patientA.uuid,
      medication: 'Doliprane 1000 mg',
      dosage: '1 comprimé, 3 fois par jour',
      duration: '5 jours',
      notes: 'Si fièvre\nNe pas dépasser 3 g/jour',
      validity_period: 90,
      date_issued: '2024-03-01',
    });
    const r2 = await createPrescription(a.owner, {
      patient_uuid: patientA.uuid,
      medication: '=cmd|"/c calc"!A1',
      dosage: '-',
    });
    removed = await createPrescription(a.doctor, { patient_uuid: patientA.uuid, medication: 'Withdrawn' });
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/prescriptions/${removed.uuid}`,
      headers: a.doctor.headers,
    });
    expect(del.statusCode, del.body).toBe(200);
    theirs = await createPrescription(b.doctor, { patient_uuid: patientB.uuid, medication: 'Elsewhere' });
    mine = [r1, r2];
  });

  it('answers the header and exactly the live prescriptions of the organization', async () => {
    const [header, ...rows] = await exportCsv(a.doctor, 'prescriptions');
    expect(header).toEqual(PRESCRIPTION_HEADER);
    expect(rows.map((r) => r[0])).toEqual(mine.map((p) => p.uuid));
    expect(rows.map((r) => r[0])).not.toContain(removed.uuid);
    expect(rows.map((r) => r[0])).not.toContain(theirs.uuid);
    rows.forEach((row, i) => {
      const prescription = mine[i]!;
      expect(row).toEqual([
        prescription.uuid,
        ...PRESCRIPTION_HEADER.slice(1, -1).map((c) => expectedCell(prescription[c])),
        prescription.created_at,
      ]);
    });
    const column = (name: string) => PRESCRIPTION_HEADER.indexOf(name);
    expect(rows[0]![column('validity_period')]).toBe('90');
    expect(rows[0]![column('date_issued')]).toBe('2024-03-01');
    expect(rows[0]![column('doctor_uuid')]).toBe(a.doctor.user.uuid);
    expect(rows[1]![column('medication')]).toBe('\'=cmd|"/c calc"!A1');
    expect(rows[1]![column('doctor_uuid')]).toBe(a.owner.user.uuid);
  });

  it('shows the other organization only its own prescriptions', async () => {
    const [header, ...rows] = await exportCsv(b.doctor, 'prescriptions');
    expect(header).toEqual(PRESCRIPTION_HEADER);
    expect(rows.map((r) => r[0])).toEqual([theirs.uuid]);
  });
});

describe('export errors', () => {
  const expectMedReportError = (res: { statusCode: number; json(): unknown }, status: number) => {
    expect(res.statusCode).toBe(status);
    const body = res.json() as Record<string, unknown>;
    expect(body).toMatchObject({ success: false, message: expect.any(String), error: expect.any(String) });
    return body;
  };

  it.each(['patients', 'prescriptions'])('%s: refuses format=xlsx and a missing format with 422', async (resource) => {
    for (const url of [
      `/api/${resource}/export?format=xlsx`,
      `/api/${resource}/export`,
      `/api/${resource}/export?format=CSV`,
    ]) {
      const res = await app.inject({ method: 'GET', url, headers: a.doctor.headers });
      const body = expectMedReportError(res, 422);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(body.errors, url).toHaveProperty('format');
      expect(res.headers['content-disposition']).toBeUndefined();
    }
  });

  it.each(['patients', 'prescriptions'])('%s: answers 401 without a token', async (resource) => {
    const res = await app.inject({ method: 'GET', url: `/api/${resource}/export?format=csv` });
    expectMedReportError(res, 401);
    const bad = await app.inject({
      method: 'GET',
      url: `/api/${resource}/export?format=csv`,
      headers: bearer('not.a.token'),
    });
    expectMedReportError(bad, 401);
  });

  it.each(['patients', 'prescriptions'])('%s: answers 403 to a user without organization', async (resource) => {
    const { token } = await registerUser(app);
    const res = await app.inject({
      method: 'GET',
      url: `/api/${resource}/export?format=csv`,
      headers: bearer(token),
    });
    expectMedReportError(res, 403);
  });
});

// --- 5. A large export streams in bounded memory ----------------------------------------------

/** A full garbage collection on demand (what `--expose-gc` gives), without a flag on the worker. */
function collector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

describe('large export', () => {
  // EXPORT_TEST_ROWS=1000000 for issue 28's 1 M-row figure (docs/benchmarks.md).
  const ROWS = Number(process.env.EXPORT_TEST_ROWS ?? 100_000);
  const MB = 1024 * 1024;

  it(`streams ${ROWS.toLocaleString('en')} patients over HTTP with a bounded heap`, async () => {
    const big = await createOrganization(app, 'Export Big');
    const inserted = await sql`
        insert into medreport.patients (organization_id, uuid, name, created_at, updated_at)
        select ${big.organization.id}, gen_random_uuid(), 'Patient ' || i,
               now() - i * interval '1 second', now() - i * interval '1 second'
        from generate_series(1, ${ROWS}) as i`.execute(db.db);
    expect(Number(inserted.numAffectedRows)).toBe(ROWS);

    const server = await buildTestApp();
    try {
      await server.listen({ port: 0, host: '127.0.0.1' });
      const address = server.server.address();
      if (!address || typeof address === 'string') throw new Error('no TCP address');
      const url = `http://127.0.0.1:${address.port}/api/patients/export?format=csv`;

      // What the export holds, not the garbage waiting for the collector: the heap is read after a
      // full collection, before and every few chunks (without it, the peak was whatever garbage the
      // collector had not reached yet: 44 MB in one run, 61 MB in another of the same code).
      const gc = collector();
      gc();
      const baseline = process.memoryUsage().heapUsed;
      let peak = baseline;
      const started = performance.now();

      const res = await fetch(url, { headers: big.owner.headers });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.body).not.toBeNull();

      // Count CRLFs as bytes arrive; keep only the first bytes (BOM + header) and a short tail.
      let lines = 0;
      let bytes = 0;
      let chunks = 0;
      let previousEndedWithCr = false;
      let head = Buffer.alloc(0);
      let tail = Buffer.alloc(0);
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks++;
        bytes += value.byteLength;
        if (previousEndedWithCr && value[0] === 0x0a) lines++;
        for (let i = 0; i < value.length - 1; i++) {
          if (value[i] === 0x0d && value[i + 1] === 0x0a) lines++;
        }
        previousEndedWithCr = value[value.length - 1] === 0x0d;
        if (head.length < 256) head = Buffer.concat([head, Buffer.from(value.subarray(0, 256 - head.length))]);
        tail = Buffer.concat([tail, Buffer.from(value.subarray(Math.max(0, value.length - 256)))]);
        if (tail.length > 256) tail = tail.subarray(tail.length - 256);
        if (chunks % 16 === 0) {
          gc();
          const heap = process.memoryUsage().heapUsed;
          if (heap > peak) peak = heap;
        }
      }
      const seconds = (performance.now() - started) / 1000;
      const growth = peak - baseline;
      console.log(
        `[export] ${ROWS} patients: ${lines} lines, ${(bytes / MB).toFixed(1)} MB in ${chunks} chunks, ` +
          `${seconds.toFixed(2)} s, peak heap growth ${(growth / MB).toFixed(1)} MB ` +
          `(baseline ${(baseline / MB).toFixed(1)} MB, after full collections)`,
      );

      expect(lines).toBe(ROWS + 1);
      expect(head.subarray(0, 3).equals(BOM_BYTES)).toBe(true);
      const headText = head.toString('utf8').slice(1);
      expect(headText.split('\r\n')[0]).toBe(PATIENT_HEADER.join(','));
      // Oldest first: i = ROWS was inserted furthest in the past.
      expect(headText.split('\r\n')[1]).toMatch(new RegExp(`^[0-9a-f-]{36},Patient ${ROWS},`));
      const tailLines = tail.toString('utf8').split('\r\n');
      expect(tailLines.at(-1)).toBe('');
      expect(tailLines.at(-2)).toMatch(/^[0-9a-f-]{36},Patient 1,/);
      expect(growth).toBeLessThan(25 * MB);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('gives the database connection back when the client goes away mid-download', async () => {
    const org = await createOrganization(app, 'Export Aborted');
    await sql`
        insert into medreport.patients (organization_id, uuid, name)
        select ${org.organization.id}, gen_random_uuid(), 'Patient ' || i from generate_series(1, 50000) as i`.execute(
      db.db,
    );
    const server = await buildTestApp();
    try {
      await server.listen({ port: 0, host: '127.0.0.1' });
      const { port } = server.server.address() as { port: number };
      for (let i = 0; i < 3; i++) {
        // A client that reads the first bytes, then drops the connection.
        await new Promise<void>((resolve, reject) => {
          const req = http.get(
            { host: '127.0.0.1', port, path: '/api/patients/export?format=csv', headers: org.doctor.headers },
            (res) =>
              res.once('data', () => {
                req.destroy();
                resolve();
              }),
          );
          req.on('error', (err) => (req.destroyed ? resolve() : reject(err)));
        });
      }
      const pool = server.exports.tenants.pool;
      for (const deadline = Date.now() + 5000; pool.idleCount < pool.totalCount && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect({ idle: pool.idleCount, waiting: pool.waitingCount }).toEqual({ idle: pool.totalCount, waiting: 0 });
    } finally {
      await server.close();
    }
  });
});
