import { createHash, randomBytes } from 'node:crypto';
import type { Budgets, Charge } from './budgets.js';
import type { Traffic } from './traffic.js';

/** A virtual client: its requests alternate between the instances. */
export interface Client {
  traffic: Traffic;
  budgets: Budgets;
  /** The instance for the next request, A and B in turn. */
  side(): number;
}

/**
 * A short sequence of requests one user makes (open a list then a record, edit and read back...).
 * `charges` is what it costs in rate-limit units, or undefined when the actor cannot run it yet.
 */
export interface Scenario<Actor> {
  name: string;
  weight: number;
  charges(actor: Actor): Charge[] | undefined;
  run(client: Client, actor: Actor): Promise<void>;
}

export const times = (n: number, charge: Charge): Charge[] => Array.from({ length: n }, () => charge);

export const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(Math.random() * items.length)];

/** Bytes that start as a PDF (both APIs read the type from the content), random after. */
export function pdfBytes(size: number): Buffer {
  return Buffer.concat([Buffer.from('%PDF-1.4\n%\u00e2\u00e3\u00cf\u00d3\n'), randomBytes(size)]);
}

export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A multipart form: its text fields, then the file in `fileField`. */
export function formWith(fields: Record<string, string>, fileField: string, file: Buffer, filename: string): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append(fileField, new Blob([file], { type: 'application/pdf' }), filename);
  return form;
}
