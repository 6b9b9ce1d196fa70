import { readFile } from 'node:fs/promises';
import type { TObject } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'csv-parse/sync';
import type { FastifySchemaValidationError } from 'fastify';
import { sql, type Kysely, type Transaction } from 'kysely';
import { fieldErrors } from '../plugins/errors.js';
import { CreateAssistanteMaternelleBody } from '../routes/ptitspas/assistantes-maternelles/schemas.js';
import { CreateEnfantBody } from '../routes/ptitspas/enfants/schemas.js';
import { CreateParentBody } from '../routes/ptitspas/parents/schemas.js';
import { DEFAULT_NB_MAX_ENFANTS } from '../routes/ptitspas/assistantes-maternelles/queries.js';
import { isUniqueViolation } from './errors.js';
import type { Database } from './schema.js';
import { uuidv7 } from './uuid.js';

/**
 * `npm run cli -- ptitspas:import --users users.csv --enfants enfants.csv` (docs/ptitspas.md,
 * example files in docs/ptitspas-import/): families (one or two parents and their children) and
 * childminders from CSV. Every row is checked with the API's own request schemas and rules; a bad
 * row rejects its whole family (never half a family), reported with its file and line. Accounts
 * are created `actif` without a password and without mail (validating one again sends it its
 * set-password link). Idempotent: a family one of whose e-mails exists, or a childminder whose
 * e-mail or agreement number exists, is left as it is.
 */

export const USER_COLUMNS = [
  'famille',
  'role',
  'email',
  'prenom',
  'nom',
  'telephone',
  'adresse',
  'numero_agrement',
  'date_agrement',
  'nb_max_enfants',
  'place_disponible',
  'ville_residence',
  'disponible',
  'biographie',
  'annee_experience',
  'specialite',
] as const;
export const ENFANT_COLUMNS = [
  'famille',
  'prenom',
  'nom',
  'genre',
  'date_naissance',
  'statut',
  'consentement_photo',
] as const;

export interface RowError {
  file: string;
  line: number;
  message: string;
}

export interface ImportSummary {
  families: number;
  parents: number;
  enfants: number;
  childminders: number;
  /** Families and childminders already present (by e-mail or agreement number), left unchanged. */
  alreadyPresent: number;
  errors: RowError[];
}

interface Row {
  file: string;
  line: number;
  fields: Record<string, unknown>;
}

interface Family {
  key: string;
  parents: Row[];
  enfants: Row[];
}

type Unit = { kind: 'family'; family: Family } | { kind: 'childminder'; row: Row };

const today = () => new Date().toISOString().slice(0, 10);

// The API's request schemas, with text cells read as the numbers and booleans they hold.
const ajv = new Ajv({ allErrors: true, coerceTypes: true, removeAdditional: false });
(addFormats as unknown as (a: Ajv) => void)(ajv);
const validator = (schema: TObject, omit: string[]) => {
  const properties = Object.fromEntries(Object.entries(schema.properties).filter(([k]) => !omit.includes(k)));
  const required = (schema.required ?? []).filter((k) => !omit.includes(k));
  return ajv.compile({ ...schema, properties, required, additionalProperties: false });
};
const validateParent = validator(CreateParentBody, ['password', 'id_co_parent']);
const validateChildminder = validator(CreateAssistanteMaternelleBody, ['password', 'nir_chiffre']);
const validateEnfant = validator(CreateEnfantBody, []);

/** The API's own French messages for the row's violations (plugins/errors.ts). */
function problems(validate: ValidateFunction): string | undefined {
  if (!validate.errors?.length) return undefined;
  return Object.values(fieldErrors(validate.errors as FastifySchemaValidationError[], 'ligne'))
    .flat()
    .join(' ');
}

/** The file's rows, keyed by its header; an unknown or missing column stops the import. */
async function readCsv(file: string, columns: readonly string[], required: readonly string[]): Promise<Row[]> {
  const records = parse(await readFile(file), {
    bom: true,
    columns: (header: string[]) => {
      const names = header.map((h) => h.trim());
      const unknown = names.filter((h) => !columns.includes(h));
      if (unknown.length)
        throw new Error(`${file}: unknown column(s) ${unknown.join(', ')} (expected ${columns.join(', ')})`);
      const missing = required.filter((c) => !names.includes(c));
      if (missing.length) throw new Error(`${file}: missing column(s) ${missing.join(', ')}`);
      return names;
    },
    skip_empty_lines: true,
    trim: true,
    info: true,
  }) as Array<{ record: Record<string, string>; info: { lines: number } }>;
  return records.map(({ record, info }) => ({
    file,
    line: info.lines,
    // An empty cell is an absent field, as in a JSON body without the key.
    fields: Object.fromEntries(Object.entries(record).filter(([, v]) => v !== '')),
  }));
}

const CHILDMINDER_ONLY = USER_COLUMNS.slice(USER_COLUMNS.indexOf('numero_agrement'));

/** The row's problems by the API's rules, or undefined; validated values keep their coerced types. */
function checkUser(row: Row): string | undefined {
  const { famille, role, ...fields } = row.fields;
  if (role === 'parent') {
    if (!famille) return 'Le champ famille est obligatoire pour un parent.';
    const extra = CHILDMINDER_ONLY.filter((k) => fields[k] !== undefined);
    if (extra.length) return `Réservé aux assistantes maternelles : ${extra.join(', ')}.`;
    return validateParent(fields) ? undefined : problems(validateParent);
  }
  if (role === 'assistante_maternelle') {
    if (famille) return 'Le champ famille est réservé aux parents.';
    if (!validateChildminder(fields)) return problems(validateChildminder);
    row.fields = { famille, role, ...fields };
    if (String(fields.date_agrement) > today()) return 'Le champ date_agrement ne peut pas être dans le futur.';
    const max = (fields.nb_max_enfants as number | undefined) ?? DEFAULT_NB_MAX_ENFANTS;
    const free = (fields.place_disponible as number | undefined) ?? max;
    if (free > max) return 'Le champ place_disponible doit être compris entre 0 et nb_max_enfants.';
    return undefined;
  }
  return 'Le champ role doit valoir parent ou assistante_maternelle.';
}

function checkEnfant(row: Row): string | undefined {
  const { famille, ...fields } = row.fields;
  if (!famille) return 'Le champ famille est obligatoire.';
  if (!validateEnfant(fields)) return problems(validateEnfant);
  row.fields = { famille, ...fields };
  if (String(fields.date_naissance) > today()) return 'Le champ date_naissance ne peut pas être dans le futur.';
  return undefined;
}

/** Families and childminders to import, and every rejected row (a family goes whole or not at all). */
function plan(users: Row[], enfants: Row[]) {
  const errors: RowError[] = [];
  const reject = (row: Row, message: string) => errors.push({ file: row.file, line: row.line, message });
  const families = new Map<string, Family>();
  const bad = new Set<string>();
  const childminders: Row[] = [];
  const emails = new Map<string, Row>();
  const agrements = new Map<string, Row>();

  for (const row of users) {
    const problem = checkUser(row);
    const famille = typeof row.fields.famille === 'string' ? row.fields.famille : undefined;
    const email = String(row.fields.email ?? '').toLowerCase();
    const agrement = String(row.fields.numero_agrement ?? '').toUpperCase();
    const twin = emails.get(email) ?? (agrement ? agrements.get(agrement) : undefined);
    const message =
      problem ??
      (twin
        ? `Le champ ${emails.has(email) ? 'email' : 'numero_agrement'} est déjà utilisé ligne ${twin.line}.`
        : undefined);
    if (email) emails.set(email, emails.get(email) ?? row);
    if (agrement) agrements.set(agrement, agrements.get(agrement) ?? row);
    if (row.fields.role === 'parent' && famille) {
      const family = families.get(famille) ?? { key: famille, parents: [], enfants: [] };
      families.set(famille, family);
      family.parents.push(row);
      if (family.parents.length > 2) reject(row, 'Une famille compte deux parents au plus.');
      if (message) reject(row, message);
      if (message || family.parents.length > 2) bad.add(famille);
    } else if (message) reject(row, message);
    else childminders.push(row);
  }
  for (const row of enfants) {
    const problem = checkEnfant(row);
    const family = families.get(String(row.fields.famille ?? ''));
    if (problem) reject(row, problem);
    else if (!family)
      reject(row, `La famille « ${String(row.fields.famille)} » n’a aucun parent dans le fichier des utilisateurs.`);
    if (family) {
      family.enfants.push(row);
      if (problem) bad.add(family.key);
    }
  }
  // The rest of a rejected family is reported too: nothing of it is imported.
  for (const key of bad) {
    const family = families.get(key)!;
    for (const row of [...family.parents, ...family.enfants]) {
      if (!errors.some((e) => e.file === row.file && e.line === row.line)) {
        reject(row, `Famille « ${key} » non importée : une autre de ses lignes est invalide.`);
      }
    }
    families.delete(key);
  }
  errors.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  return { families: [...families.values()], childminders, errors };
}

const text = (v: unknown) => (v === undefined ? null : String(v).trim());

/** Inserts the units in one transaction, a few set-based statements for all of them. */
async function insertUnits(trx: Transaction<Database>, units: Unit[]) {
  const utilisateurs: Database['ptitspas.utilisateurs'][] = [];
  const parents: Array<{ id_utilisateur: string; id_co_parent: string | null }> = [];
  const childminders: Array<Record<string, unknown>> = [];
  const enfants: Array<Record<string, unknown>> = [];
  const links: Array<{ id_enfant: string; id_parent: string }> = [];
  const account = (row: Row, role: 'parent' | 'assistante_maternelle') => {
    const id = uuidv7();
    utilisateurs.push({
      id,
      email: String(row.fields.email).trim().toLowerCase(),
      prenom: String(row.fields.prenom).trim(),
      nom: String(row.fields.nom).trim(),
      telephone: text(row.fields.telephone),
      adresse: text(row.fields.adresse),
      role,
      statut: 'actif',
      password_hash: null,
    } as never);
    return id;
  };
  for (const unit of units) {
    if (unit.kind === 'childminder') {
      const f = unit.row.fields;
      const max = (f.nb_max_enfants as number | undefined) ?? DEFAULT_NB_MAX_ENFANTS;
      childminders.push({
        id_utilisateur: account(unit.row, 'assistante_maternelle'),
        numero_agrement: String(f.numero_agrement).trim(),
        date_agrement: f.date_agrement,
        nb_max_enfants: max,
        place_disponible: (f.place_disponible as number | undefined) ?? max,
        disponible: (f.disponible as boolean | undefined) ?? true,
        ville_residence: text(f.ville_residence),
        biographie: text(f.biographie),
        annee_experience: (f.annee_experience as number | undefined) ?? null,
        specialite: text(f.specialite),
      });
      continue;
    }
    const ids = unit.family.parents.map((row) => account(row, 'parent'));
    ids.forEach((id, i) => parents.push({ id_utilisateur: id, id_co_parent: ids[1 - i] ?? null }));
    for (const row of unit.family.enfants) {
      const id = uuidv7();
      enfants.push({
        id,
        prenom: String(row.fields.prenom).trim(),
        nom: String(row.fields.nom).trim(),
        genre: row.fields.genre,
        date_naissance: row.fields.date_naissance,
        statut: row.fields.statut ?? 'actif',
        consentement_photo: row.fields.consentement_photo ?? false,
      });
      for (const parent of ids) links.push({ id_enfant: id, id_parent: parent });
    }
  }
  const insert = async (table: keyof Database, rows: Array<Record<string, unknown>>) => {
    if (rows.length)
      await trx
        .insertInto(table)
        .values(rows as never)
        .execute();
  };
  await insert('ptitspas.utilisateurs', utilisateurs as never);
  await insert('ptitspas.parents', parents);
  await insert('ptitspas.assistantes_maternelles', childminders);
  await insert('ptitspas.enfants', enfants);
  await insert('ptitspas.enfants_parents', links);
}

const rowsOf = (unit: Unit) =>
  unit.kind === 'childminder' ? 1 : unit.family.parents.length + unit.family.enfants.length;
const firstRow = (unit: Unit) => (unit.kind === 'childminder' ? unit.row : unit.family.parents[0]!);

/** At most this many rows per transaction (well under PostgreSQL's 65,535 parameters a statement). */
const BATCH_ROWS = 1000;

export async function importPtitsPas(
  db: Kysely<Database>,
  files: { users: string; enfants?: string },
  onProgress: (done: number, total: number) => void = () => {},
): Promise<ImportSummary> {
  const users = await readCsv(files.users, USER_COLUMNS, ['role', 'email', 'prenom', 'nom']);
  const enfants = files.enfants
    ? await readCsv(files.enfants, ENFANT_COLUMNS, ['famille', 'prenom', 'nom', 'genre', 'date_naissance'])
    : [];
  const { families, childminders, errors } = plan(users, enfants);
  const summary: ImportSummary = { families: 0, parents: 0, enfants: 0, childminders: 0, alreadyPresent: 0, errors };

  // Idempotence: what an earlier run (or anyone) already created is left as it is.
  const emails = [...families.flatMap((f) => f.parents), ...childminders].map((r) =>
    String(r.fields.email).trim().toLowerCase(),
  );
  const agrementsWanted = childminders.map((r) => String(r.fields.numero_agrement).trim().toUpperCase());
  const taken = new Set<string>();
  for (let i = 0; i < emails.length; i += 10_000) {
    const { rows } = await sql<{ email: string }>`
      select lower(email) as email from ptitspas.utilisateurs where lower(email) = any(${emails.slice(i, i + 10_000)})`.execute(
      db,
    );
    for (const r of rows) taken.add(r.email);
  }
  const { rows: agrementRows } = await sql<{ n: string }>`
    select upper(numero_agrement) as n from ptitspas.assistantes_maternelles
     where upper(numero_agrement) = any(${agrementsWanted})`.execute(db);
  const takenAgrements = new Set(agrementRows.map((r) => r.n));

  const units: Unit[] = [];
  for (const family of families) {
    if (family.parents.some((r) => taken.has(String(r.fields.email).trim().toLowerCase()))) summary.alreadyPresent++;
    else units.push({ kind: 'family', family });
  }
  for (const row of childminders) {
    const present =
      taken.has(String(row.fields.email).trim().toLowerCase()) ||
      takenAgrements.has(String(row.fields.numero_agrement).trim().toUpperCase());
    if (present) summary.alreadyPresent++;
    else units.push({ kind: 'childminder', row });
  }

  const total = units.reduce((n, u) => n + rowsOf(u), 0);
  let done = 0;
  const count = (unit: Unit) => {
    if (unit.kind === 'childminder') summary.childminders++;
    else {
      summary.families++;
      summary.parents += unit.family.parents.length;
      summary.enfants += unit.family.enfants.length;
    }
  };
  onProgress(0, total);
  for (let start = 0; start < units.length;) {
    const batch: Unit[] = [];
    let size = 0;
    while (start < units.length && (batch.length === 0 || size + rowsOf(units[start]!) <= BATCH_ROWS)) {
      size += rowsOf(units[start]!);
      batch.push(units[start++]!);
    }
    try {
      await db.transaction().execute((trx) => insertUnits(trx, batch));
      batch.forEach(count);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // Someone else wrote one of these e-mails or numbers meanwhile: each unit on its own, so
      // only the one that conflicts is left out, whole.
      for (const unit of batch) {
        try {
          await db.transaction().execute((trx) => insertUnits(trx, [unit]));
          count(unit);
        } catch (err) {
          if (!isUniqueViolation(err)) throw err;
          const row = firstRow(unit);
          errors.push({
            file: row.file,
            line: row.line,
            message: 'Non importé : une de ses adresses e-mail ou son numéro d’agrément a été enregistré entre-temps.',
          });
        }
      }
    }
    done += size;
    onProgress(done, total);
  }
  return summary;
}
