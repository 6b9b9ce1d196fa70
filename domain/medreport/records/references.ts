import { Invalid } from '../../errors.js';
import type { MemberScope, Mutation } from './mutation.js';

const invalid = (field: string, message: string) => new Invalid(message, { [field]: [message] });

type Kind = 'patients' | 'files' | 'doctors';

/**
 * The records a write refers to, looked up in the mutation's transaction (another organization's
 * rows do not exist for it) after its lock, so none is deleted before the write commits; 422 on
 * the field when one is missing. Answers are remembered; a sync push preloads every reference of
 * its batch in one query per kind, so its items cost none.
 */
export class References {
  readonly #known: Record<Kind, Map<string, boolean>> = { patients: new Map(), files: new Map(), doctors: new Map() };

  constructor(
    private readonly mutation: Mutation,
    private readonly caller: { uuid: string; organizationId: number },
  ) {}

  async preload(uuids: Partial<Record<Kind, string[]>>): Promise<void> {
    for (const kind of ['patients', 'files', 'doctors'] as const) {
      const wanted = [...new Set(uuids[kind] ?? [])].filter((u) => !this.#known[kind].has(u));
      if (wanted.length === 0) continue;
      const found = new Set(await this.#lookup(kind, wanted));
      for (const uuid of wanted) this.#known[kind].set(uuid, found.has(uuid));
    }
  }

  /** A patient written earlier in the same mutation exists for what follows it. */
  created(kind: 'patients' | 'files', uuid: string): void {
    this.#known[kind].set(uuid, true);
  }

  async patient(uuid: string): Promise<void> {
    if (!(await this.#exists('patients', uuid))) {
      throw invalid('patient_uuid', 'Patient introuvable dans votre organisation.');
    }
  }

  async file(uuid: string | null | undefined): Promise<void> {
    if (uuid && !(await this.#exists('files', uuid))) {
      throw invalid('file_uuid', 'Fichier introuvable dans votre organisation.');
    }
  }

  /** The prescribing doctor: the caller by default, otherwise a member (owner or doctor) of the organization. */
  async doctor(uuid: string | undefined): Promise<string> {
    if (uuid === undefined || uuid === this.caller.uuid) return this.caller.uuid;
    if (!(await this.#exists('doctors', uuid))) {
      throw invalid('doctor_uuid', 'Ce médecin ne fait pas partie de votre organisation.');
    }
    return uuid;
  }

  async #exists(kind: Kind, uuid: string): Promise<boolean> {
    const known = this.#known[kind].get(uuid);
    if (known !== undefined) return known;
    const found = (await this.#lookup(kind, [uuid])).length > 0;
    this.#known[kind].set(uuid, found);
    return found;
  }

  async #lookup(kind: Kind, uuids: string[]): Promise<string[]> {
    await this.mutation.lock();
    const db = this.mutation.trx;
    const rows =
      kind === 'doctors'
        ? await db
            .selectFrom('medreport.users')
            .select('uuid')
            .where('uuid', 'in', uuids)
            .where('organization_id', '=', this.caller.organizationId)
            .where('role', 'in', ['owner', 'doctor'])
            .execute()
        : await db
            .selectFrom(kind === 'patients' ? 'medreport.patients' : 'medreport.files')
            .select('uuid')
            .where('uuid', 'in', uuids)
            .where('deleted_at', 'is', null)
            .execute();
    return rows.map((r) => r.uuid);
  }
}

/** The references a mutation of the scope's actor may point to. */
export function referencesOf(mutation: Mutation, { actor, organizationId }: MemberScope): References {
  return new References(mutation, { uuid: actor.uuid, organizationId });
}
