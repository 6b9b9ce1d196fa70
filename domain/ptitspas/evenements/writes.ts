import { type Kysely, sql } from 'kysely';
import type { Database } from '../../../db/schema.js';
import type { EvenementType } from '../../../db/schema-ptitspas.js';
import { uuidv7 } from '../../../db/uuid.js';
import { Forbidden, Invalid, NotFound } from '../../errors.js';
import type { PtitsPasCaller } from '../caller.js';
import { ENFANT_NOT_FOUND } from '../enfants/rules.js';
import { isStaff, parentsOf, visibleEnfants } from '../enfants/visibility.js';
import { notify } from '../notifications/notify.js';
import { checkDetails } from './details.js';
import type { Evenement, EvenementBody, EvenementChanges } from './model.js';
import { EVENEMENT_NOT_FOUND, getEvenement, shown } from './queries.js';

/** How far ahead of now an event may be dated (a clock a little fast). */
const FUTURE_MS = 5 * 60_000;
/** How long the author may change or delete an event. */
const EDIT_WINDOW_MS = 24 * 3_600_000;

interface Content {
  survenu_le: Date;
  details: Record<string, unknown>;
  note: string | null;
  id_upload: string | null;
}

/** The child `idEnfant` as `caller` sees it, locked until the commit; NotFound otherwise. */
async function lockEnfant(trx: Kysely<Database>, caller: PtitsPasCaller, idEnfant: string) {
  const enfant = await visibleEnfants(trx, caller)
    .select(['e.id', 'e.prenom', 'e.consentement_photo'])
    .where('e.id', '=', idEnfant)
    .forKeyShare()
    .executeTakeFirst();
  if (!enfant) throw new NotFound(ENFANT_NOT_FOUND);
  return enfant;
}

/**
 * The rules of an event's content (ptitspas-evolutions.md, Événements): not dated more than 5
 * minutes ahead, details of its type, a note for a `note`, a picture (a `photo` upload of this
 * child, with the child's photo consent) for a `photo` and only for it, and the dossier's
 * authorisation for a `medicament` (403 without it).
 */
async function checkContent(
  trx: Kysely<Database>,
  enfant: { id: string; consentement_photo: boolean },
  type: EvenementType,
  content: Content,
) {
  if (content.survenu_le.getTime() > Date.now() + FUTURE_MS) {
    throw new Invalid('survenu_le ne peut pas dépasser maintenant de plus de 5 minutes', {
      survenu_le: ['Le champ survenu_le ne peut pas dépasser maintenant de plus de 5 minutes.'],
    });
  }
  checkDetails(type, content.details);
  if (type === 'note' && !content.note) {
    throw new Invalid('Un événement « note » demande une note', { note: ['Le champ note est obligatoire.'] });
  }
  if (type !== 'photo' && content.id_upload) {
    throw new Invalid('Seul un événement « photo » porte un fichier', {
      id_upload: ['Seul un événement « photo » porte un fichier.'],
    });
  }
  if (type === 'photo') {
    if (!enfant.consentement_photo) {
      throw new Invalid("Les parents n'ont pas consenti aux photos de l'enfant", {
        id_upload: ["Les parents n'ont pas consenti aux photos de l'enfant."],
      });
    }
    const photo =
      content.id_upload &&
      (await trx
        .selectFrom('ptitspas.uploads')
        .select('id')
        .where('id', '=', content.id_upload)
        .where('id_enfant', '=', enfant.id)
        .where('categorie', '=', 'photo')
        .forKeyShare()
        .executeTakeFirst());
    if (!photo) {
      throw new Invalid('Un événement « photo » demande une photo de cet enfant', {
        id_upload: ['Le champ id_upload doit désigner une photo de cet enfant.'],
      });
    }
  }
  if (type === 'medicament') {
    const dossier = await trx
      .selectFrom('ptitspas.dossiers')
      .select(sql<boolean | null>`(autorisations ->> 'administration_medicaments')::boolean`.as('autorise'))
      .where('id_enfant', '=', enfant.id)
      .executeTakeFirst();
    if (dossier?.autorise !== true) {
      throw new Forbidden("Le dossier de l'enfant n'autorise pas l'administration de médicaments");
    }
  }
}

/**
 * POST /evenements, by the child's childminder (a current signed contract: she sees the child) or
 * staff. Notifies the child's parents, and every active gestionnaire of a `grave` incident; the
 * notifications name no detail (they may show on a locked phone).
 */
export async function createEvenement(db: Kysely<Database>, caller: PtitsPasCaller, body: EvenementBody) {
  const id = uuidv7();
  await db.transaction().execute(async (trx) => {
    const enfant = await lockEnfant(trx, caller, body.id_enfant);
    const content: Content = {
      survenu_le: body.survenu_le ? new Date(body.survenu_le) : new Date(),
      details: body.details,
      note: body.note ?? null,
      id_upload: body.id_upload ?? null,
    };
    await checkContent(trx, enfant, body.type, content);
    await trx
      .insertInto('ptitspas.evenements')
      .values({
        id,
        id_enfant: enfant.id,
        id_auteur: caller.id,
        type: body.type,
        survenu_le: content.survenu_le,
        details: JSON.stringify(content.details),
        note: content.note,
        id_upload: content.id_upload,
      })
      .execute();
    const lien = { type: 'evenement', id } as const;
    await notify(trx, await parentsOf(trx, enfant.id), {
      type: 'evenement',
      titre: `Journal de ${enfant.prenom}`,
      corps: `Un nouvel événement est noté dans la journée de ${enfant.prenom}.`,
      lien,
    });
    if (body.type === 'incident' && body.details.gravite === 'grave') {
      const gestionnaires = await trx
        .selectFrom('ptitspas.utilisateurs')
        .select('id')
        .where('role', '=', 'gestionnaire')
        .where('statut', '=', 'actif')
        .execute();
      await notify(
        trx,
        gestionnaires.map((g) => g.id),
        {
          type: 'evenement',
          titre: 'Incident à voir',
          corps: `Un incident concernant ${enfant.prenom} est signalé.`,
          lien,
        },
      );
    }
  });
  return getEvenement(db, caller, id);
}

/**
 * The event `id` locked for a change by `caller`: NotFound when they do not see its child;
 * Forbidden unless they are staff or its author within 24 hours of its creation.
 */
async function lockForChange(trx: Kysely<Database>, caller: PtitsPasCaller, id: string) {
  const row = await trx
    .selectFrom('ptitspas.evenements')
    .selectAll()
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  const enfant =
    row && (await visibleEnfants(trx, caller).select('e.id').where('e.id', '=', row.id_enfant).executeTakeFirst());
  if (!row || !enfant) throw new NotFound(EVENEMENT_NOT_FOUND);
  if (isStaff(caller)) return row;
  if (row.id_auteur !== caller.id) throw new Forbidden("Seuls l'auteur de l'événement et le personnel le modifient");
  if (Date.now() - row.cree_le.getTime() > EDIT_WINDOW_MS) {
    throw new Forbidden("L'événement a plus de 24 heures : seul le personnel peut encore le modifier");
  }
  return row;
}

/** PATCH /evenements/:id: its time, details (of its type), note or picture, checked again. */
export async function updateEvenement(
  db: Kysely<Database>,
  caller: PtitsPasCaller,
  id: string,
  changes: EvenementChanges,
): Promise<Evenement> {
  await db.transaction().execute(async (trx) => {
    const row = await lockForChange(trx, caller, id);
    const enfant = await trx
      .selectFrom('ptitspas.enfants')
      .select(['id', 'consentement_photo'])
      .where('id', '=', row.id_enfant)
      .executeTakeFirstOrThrow();
    const current = shown(row);
    const content: Content = {
      survenu_le: new Date(changes.survenu_le ?? current.survenu_le),
      details: changes.details ?? current.details,
      note: changes.note !== undefined ? changes.note : current.note,
      id_upload: changes.id_upload !== undefined ? changes.id_upload : current.id_upload,
    };
    await checkContent(trx, enfant, row.type, content);
    await trx
      .updateTable('ptitspas.evenements')
      .set({
        survenu_le: content.survenu_le,
        details: JSON.stringify(content.details),
        note: content.note,
        id_upload: content.id_upload,
      })
      .where('id', '=', id)
      .execute();
  });
  return getEvenement(db, caller, id);
}

/** DELETE /evenements/:id: the author within 24 hours, or staff. */
export async function deleteEvenement(db: Kysely<Database>, caller: PtitsPasCaller, id: string) {
  await db.transaction().execute(async (trx) => {
    await lockForChange(trx, caller, id);
    await trx.deleteFrom('ptitspas.evenements').where('id', '=', id).execute();
  });
}
