import { Type } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyRequest } from 'fastify';
import { pick } from '../../../db/columns.js';
import type { SyncEntity } from '../../../db/schema.js';
import { closeSchema } from '../../../plugins/boundary.js';
import { fieldErrors, HttpError, type FieldErrors } from '../../../plugins/errors.js';
import { mutate, mutationScope, resourceData, type ChangeRange, type Mutation, type MutationRow } from '../mutation.js';
import { referencesOf, sameContent, type RecordDefinition } from '../records/crud.js';
import type { References } from '../records/references.js';
import { touchDevice } from './devices.js';
import { SYNC_ENTITIES } from './pull.js';
import type { SyncedEntity } from '../mutation.js';

/**
 * Applying a pushed batch (docs/sync.md). Items are applied by uuid, last writer wins on
 * `updated_at`, and each item stands alone: a bad item is reported and the others are applied.
 *
 * The fast path plans every item first (validation, references preloaded in one query per kind,
 * the organization's current rows in one query per entity), then writes each entity's new rows in
 * one statement. Should the database still refuse something (a constraint the plan cannot see, a
 * race), the batch is replayed in a new transaction with a savepoint per item, so that one item
 * fails alone and no item is ever half-applied.
 */

export interface ItemResult {
  uuid: string;
  status: 'ok' | 'conflict';
  updated_at: string | null;
  /** On a conflict: the server's current resource (null when it was deleted). */
  data?: Record<string, unknown> | null;
}

export interface ItemError {
  entity: SyncEntity;
  uuid: string | null;
  code: 'invalid' | 'organization_mismatch' | 'unsupported' | 'failed';
  message: string;
  errors?: FieldErrors;
}

export type PushBody = Partial<Record<SyncEntity, Array<Record<string, unknown>>>>;

export interface PushOutcome {
  results: Record<SyncEntity, ItemResult[]>;
  errors: ItemError[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A client clock may run ahead a little; an item from further in the future is refused. */
const CLOCK_SKEW_MS = 5 * 60_000;

const ajv = new Ajv({ allErrors: true, coerceTypes: false });
addFormats.default(ajv);
const ItemHead = Type.Object({
  uuid: Type.String({ format: 'uuid' }),
  updated_at: Type.String({ format: 'date-time' }),
  deleted: Type.Optional(Type.Boolean()),
});
const checkHead = ajv.compile(ItemHead);

interface Checks {
  create: ValidateFunction;
  update: ValidateFunction;
}
/** Compiled once per record definition. */
const checks = new WeakMap<RecordDefinition, Checks>();

function checksOf(def: RecordDefinition): Checks {
  let compiled = checks.get(def);
  if (!compiled) {
    compiled = {
      create: ajv.compile(closeSchema(def.create)),
      // An update item may carry no field at all (a newer timestamp only).
      update: ajv.compile(closeSchema(Type.Object(def.update.properties))),
    };
    checks.set(def, compiled);
  }
  return compiled;
}

const invalid = (entity: SyncEntity, uuid: string | null, message: string, errors?: FieldErrors): ItemError => ({
  entity,
  uuid,
  code: 'invalid',
  message,
  ...(errors ? { errors } : {}),
});

function validationError(entity: SyncEntity, uuid: string | null, check: ValidateFunction): ItemError {
  const errors = fieldErrors(check.errors ?? [], 'item');
  return invalid(entity, uuid, Object.values(errors).flat()[0] ?? 'Élément invalide.', errors);
}

type Op =
  | { kind: 'insert'; uuid: string; values: Record<string, unknown> }
  | { kind: 'update'; uuid: string; values: Record<string, unknown>; at: Date }
  | { kind: 'delete'; uuid: string; at: Date };

interface Plan {
  entity: SyncedEntity;
  ops: Op[];
}

/** Applies the batch in one mutation; see the file's comment for the fast and careful paths. */
export async function push(
  request: FastifyRequest,
  body: PushBody,
  entities: Record<SyncEntity, SyncedEntity>,
): Promise<{ outcome: PushOutcome; changes: ChangeRange | undefined }> {
  const scope = mutationScope(request);
  try {
    const { value, changes } = await mutate(scope, (m) => apply(m, request, body, entities, false));
    return { outcome: value, changes };
  } catch (err) {
    if (!isDatabaseError(err)) throw err;
    request.log.warn({ err }, 'sync batch refused by the database: replaying it item by item');
    const { value, changes } = await mutate(scope, (m) => apply(m, request, body, entities, true));
    return { outcome: value, changes };
  }
}

function isDatabaseError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

async function apply(
  m: Mutation,
  request: FastifyRequest,
  body: PushBody,
  entities: Record<SyncEntity, SyncedEntity>,
  careful: boolean,
): Promise<PushOutcome> {
  const outcome: PushOutcome = {
    results: { patients: [], prescriptions: [], invoices: [], files: [] },
    errors: [],
  };
  const refs = referencesOf(m, request);
  for (const name of SYNC_ENTITIES) {
    const items = body[name] ?? [];
    if (items.length === 0) continue;
    const plan = await planEntity(m, request, entities[name], items, refs, outcome);
    await execute(m, plan, outcome, careful);
  }
  await touchDevice(m.trx, request, { pushed: true });
  if (outcome.errors.length > 0) {
    const { actor, deviceId } = mutationScope(request);
    await m.trx
      .insertInto('medreport.sync_errors')
      .values(
        outcome.errors.map((e) => ({
          user_id: actor.id,
          device_id: deviceId ?? 'default',
          message: e.message,
          metadata: JSON.stringify({ entity: e.entity, uuid: e.uuid, code: e.code, errors: e.errors }),
        })),
      )
      .execute();
  }
  return outcome;
}

async function planEntity(
  m: Mutation,
  request: FastifyRequest,
  entity: SyncedEntity,
  items: Array<Record<string, unknown>>,
  refs: References,
  outcome: PushOutcome,
): Promise<Plan> {
  const name = entity.plural;
  const plan: Plan = { entity, ops: [] };
  const now = Date.now();
  const heads: Array<{ item: Record<string, unknown>; uuid: string; at: Date; deleted: boolean }> = [];
  const seen = new Set<string>();
  for (const item of items) {
    if (!checkHead(item)) {
      // The item's uuid is named only if it is one: nothing else the client sent is echoed back.
      const uuid = typeof item.uuid === 'string' && UUID.test(item.uuid) ? item.uuid.toLowerCase() : null;
      outcome.errors.push(validationError(name, uuid, checkHead));
      continue;
    }
    const uuid = (item.uuid as string).toLowerCase();
    const at = new Date(item.updated_at as string);
    if (at.getTime() > now + CLOCK_SKEW_MS) {
      outcome.errors.push(
        invalid(name, uuid, 'updated_at est dans le futur.', { updated_at: ['Date dans le futur.'] }),
      );
    } else if (seen.has(uuid)) {
      outcome.errors.push(invalid(name, uuid, 'Cet uuid figure deux fois dans le lot.'));
    } else {
      seen.add(uuid);
      heads.push({ item, uuid, at, deleted: item.deleted === true });
    }
  }
  if (heads.length === 0) return plan;

  // Read under the organization's lock: last-writer-wins decides from rows nobody else can change.
  type StoredRow = MutationRow & { updated_at: Date; created_at: Date };
  const locked = await m.lockedRows(entity, [...seen], { foreign: true });
  const rows = new Map((locked.rows as StoredRow[]).map((r) => [r.uuid, r]));
  const { foreign } = locked;
  const def = entity.plural === 'files' ? undefined : (entity as RecordDefinition);
  if (def) {
    const wanted = (column: string) =>
      heads.map((h) => h.item[column]).filter((v): v is string => typeof v === 'string');
    await refs.preload({
      patients: wanted('patient_uuid'),
      files: wanted('file_uuid'),
      doctors: wanted('doctor_uuid'),
    });
  }

  const result = (uuid: string, status: ItemResult['status'], row?: StoredRow) => {
    const entry: ItemResult = { uuid, status, updated_at: row ? row.updated_at.toISOString() : null };
    if (status === 'conflict') entry.data = row && !row.deleted_at ? resourceData(entity, row) : null;
    outcome.results[name].push(entry);
  };

  for (const { item, uuid, at, deleted } of heads) {
    if (foreign.has(uuid)) {
      // Nothing about the other organization: not whether the record is alive, nor anything of it.
      outcome.errors.push({
        entity: name,
        uuid,
        code: 'organization_mismatch',
        message: "Cet élément n'appartient pas à votre organisation.",
      });
      continue;
    }
    const row = rows.get(uuid);
    if (deleted) {
      if (!row || row.deleted_at) result(uuid, 'ok', row);
      else if (at < row.updated_at) result(uuid, 'conflict', row);
      else plan.ops.push({ kind: 'delete', uuid, at });
      continue;
    }
    if (!def) {
      outcome.errors.push({
        entity: name,
        uuid,
        code: 'unsupported',
        message: 'Un fichier se crée par POST /api/files ; la synchronisation ne peut que le supprimer.',
      });
      continue;
    }
    if (row?.deleted_at) {
      result(uuid, 'conflict', row);
      continue;
    }
    const fields = pick(item, def.writable);
    const { create, update } = checksOf(def);
    if (row) {
      if (at < row.updated_at) {
        result(uuid, 'conflict', row);
        continue;
      }
      if (at.getTime() === row.updated_at.getTime()) {
        // The same item again (a replay): the same answer, and nothing written.
        result(uuid, sameContent(fields, row) ? 'ok' : 'conflict', row);
        continue;
      }
      if (!update(fields)) {
        outcome.errors.push(validationError(name, uuid, update));
        continue;
      }
    } else if (!create({ ...fields, uuid })) {
      outcome.errors.push(validationError(name, uuid, create));
      continue;
    }
    try {
      const values = pick(await def.prepare(refs, fields, row), def.columns);
      if (row) plan.ops.push({ kind: 'update', uuid, values, at });
      else {
        plan.ops.push({
          kind: 'insert',
          uuid,
          values: { ...values, uuid, created_by: request.user.id, updated_at: at },
        });
        if (name === 'patients') refs.created('patients', uuid);
      }
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      outcome.errors.push(invalid(name, uuid, err.message, err.details.errors));
    }
  }
  return plan;
}

async function execute(m: Mutation, plan: Plan, outcome: PushOutcome, careful: boolean): Promise<void> {
  const { entity } = plan;
  const failed = (uuid: string) =>
    outcome.errors.push({
      entity: entity.plural,
      uuid,
      code: 'failed',
      message: "L'élément n'a pas pu être enregistré.",
    });
  // Under the lock the plan holds, so a write always finds its row; were it not to, the item is
  // reported rather than dropped.
  const ok = (row: MutationRow | undefined, uuid: string) => {
    if (!row) failed(uuid);
    else
      outcome.results[entity.plural].push({ uuid, status: 'ok', updated_at: (row.updated_at as Date).toISOString() });
  };
  const run = async (op: Op) => {
    if (op.kind === 'insert') return (await m.insert(entity, [op.values]))[0];
    if (op.kind === 'update') return m.update(entity, op.uuid, op.values, op.at);
    return (await m.remove(entity, [op.uuid], op.at))[0];
  };
  if (!careful) {
    const inserts = plan.ops.filter((op): op is Extract<Op, { kind: 'insert' }> => op.kind === 'insert');
    const inserted = await m.insert(
      entity,
      inserts.map((op) => op.values),
      { summary: true },
    );
    for (const row of inserted) ok(row, row.uuid);
    for (const op of plan.ops.filter((o) => o.kind !== 'insert')) ok(await run(op), op.uuid);
    return;
  }
  for (const op of plan.ops) {
    const attempt = await m.attempt(() => run(op));
    if (attempt.ok) ok(attempt.value, op.uuid);
    else failed(op.uuid);
  }
}
