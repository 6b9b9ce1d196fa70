import { type Static, type TObject, Type } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { DomainError } from '../../errors.js';
import { fieldErrors } from '../../shared/validation-messages.js';
import type { NewUserFields } from '../accounts/model.js';
import { type ChildminderProfile, NewAssistanteMaternelle } from '../assistantes-maternelles/model.js';
import { checkChildminder } from '../assistantes-maternelles/rules.js';
import { NewEnfant } from '../enfants/model.js';
import { checkEnfant as enfantRules } from '../enfants/rules.js';
import { NewParent } from '../parents/model.js';
import { CHILDMINDER_ONLY, type Row } from './csv.js';

/**
 * Which rows of the CSV files can be imported: each row checked with the domain's model schemas
 * and rules (the same the API applies), a bad row rejecting its whole family.
 */

export interface RowError {
  file: string;
  line: number;
  message: string;
}

/** A row that passed: its account or child fields, as the domain's write functions take them. */
interface Parent extends Row {
  account: NewUserFields;
}
export interface Childminder extends Row {
  account: NewUserFields;
  profile: ChildminderProfile;
}
interface Child extends Row {
  enfant: NewEnfant;
}
export interface Family {
  key: string;
  parents: Parent[];
  enfants: Child[];
}

// The model schemas, with text cells read as the numbers and booleans they hold.
const ajv = new Ajv({ allErrors: true, coerceTypes: true, removeAdditional: false });
// ajv-formats' CommonJS default export is typed as its module object.
(addFormats as unknown as (a: Ajv) => void)(ajv);
const validator = <T extends TObject, K extends keyof Static<T> & string>(schema: T, omit: K[]) =>
  ajv.compile<Omit<Static<T>, K>>(Type.Omit(schema, omit, { additionalProperties: false }));
const validateParent = validator(NewParent, ['password', 'id_co_parent']);
const validateChildminder = validator(NewAssistanteMaternelle, ['password', 'nir_chiffre']);
const validateEnfant = validator(NewEnfant, []);

/** The API's own French messages for the row's violations (domain/shared/validation-messages.ts). */
function problems(validate: ValidateFunction): string | undefined {
  if (!validate.errors?.length) return undefined;
  return Object.values(fieldErrors(validate.errors, 'ligne')).flat().join(' ');
}

/** The domain rule a row breaks, in the words of its field messages. */
function broken(rules: () => void): string | undefined {
  try {
    rules();
    return undefined;
  } catch (err) {
    if (!(err instanceof DomainError) || !err.fields) throw err;
    return Object.values(err.fields).flat().join(' ');
  }
}

type Checked<T> = { problem: string; value?: undefined } | { problem?: undefined; value: T };

/** The row's problem by the API's rules, or its fields; validated values keep their coerced types. */
function checkUser(row: Row): Checked<{ account: NewUserFields; profile?: ChildminderProfile }> {
  const { famille, role, ...fields } = row.fields;
  if (role === 'parent') {
    if (!famille) return { problem: 'Le champ famille est obligatoire pour un parent.' };
    const extra = CHILDMINDER_ONLY.filter((k) => fields[k] !== undefined);
    if (extra.length) return { problem: `Réservé aux assistantes maternelles : ${extra.join(', ')}.` };
    return validateParent(fields) ? { value: { account: fields } } : { problem: problems(validateParent)! };
  }
  if (role === 'assistante_maternelle') {
    if (famille) return { problem: 'Le champ famille est réservé aux parents.' };
    if (!validateChildminder(fields)) return { problem: problems(validateChildminder)! };
    row.fields = { famille, role, ...fields };
    const { email, prenom, nom, telephone, adresse, ...profile } = fields;
    const problem = broken(() => checkChildminder(profile));
    return problem ? { problem } : { value: { account: { email, prenom, nom, telephone, adresse }, profile } };
  }
  return { problem: 'Le champ role doit valoir parent ou assistante_maternelle.' };
}

function checkEnfant(row: Row): Checked<NewEnfant> {
  const { famille, ...fields } = row.fields;
  if (!famille) return { problem: 'Le champ famille est obligatoire.' };
  if (!validateEnfant(fields)) return { problem: problems(validateEnfant)! };
  row.fields = { famille, ...fields };
  const problem = broken(() => enfantRules(fields));
  return problem ? { problem } : { value: fields };
}

/** Families and childminders to import, and every rejected row (a family goes whole or not at all). */
export function plan(users: Row[], enfants: Row[]) {
  const errors: RowError[] = [];
  const reject = (row: Row, message: string) => errors.push({ file: row.file, line: row.line, message });
  const families = new Map<string, Family>();
  const bad = new Set<string>();
  const childminders: Childminder[] = [];
  const emails = new Map<string, Row>();
  const agrements = new Map<string, Row>();

  for (const row of users) {
    const { problem, value } = checkUser(row);
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
      // A rejected row's placeholder account is never written: its family is dropped below.
      family.parents.push({ ...row, account: value?.account ?? { email: '', prenom: '', nom: '' } });
      if (family.parents.length > 2) reject(row, 'Une famille compte deux parents au plus.');
      if (message) reject(row, message);
      if (message || family.parents.length > 2) bad.add(famille);
    } else if (message) reject(row, message);
    else if (value?.profile) childminders.push({ ...row, account: value.account, profile: value.profile });
  }
  for (const row of enfants) {
    const { problem, value } = checkEnfant(row);
    const family = families.get(String(row.fields.famille ?? ''));
    if (problem) reject(row, problem);
    else if (!family)
      reject(row, `La famille « ${String(row.fields.famille)} » n’a aucun parent dans le fichier des utilisateurs.`);
    if (family) {
      if (value) family.enfants.push({ ...row, enfant: value });
      else {
        family.enfants.push({ ...row, enfant: { prenom: '', nom: '', genre: 'F', date_naissance: '' } });
        bad.add(family.key);
      }
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
