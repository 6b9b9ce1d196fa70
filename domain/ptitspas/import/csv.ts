import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';

/** The columns of the two CSV files (docs/ptitspas.md; example files in docs/ptitspas-import/). */
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

/** Columns only a childminder's row may fill. */
export const CHILDMINDER_ONLY = USER_COLUMNS.slice(USER_COLUMNS.indexOf('numero_agrement'));

/** One line of a file: its cells by column, an empty cell left out. */
export interface Row {
  file: string;
  line: number;
  fields: Record<string, unknown>;
}

/** The file's rows, keyed by its header; an unknown or missing column stops the import. */
export async function readCsv(file: string, columns: readonly string[], required: readonly string[]): Promise<Row[]> {
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
