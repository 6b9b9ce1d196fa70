import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { Invalid } from '../../errors.js';
import { StringEnum } from '../../shared/schemas.js';
import { insertAssistantesMaternelles } from '../assistantes-maternelles/writes.js';
import { insertParents } from '../parents/co-parents.js';
import { Adresse, Email, Name, Password, Telephone } from './model.js';
import { insertUser } from './users.js';

/**
 * v1.3: parents and childminders register without a password (one is chosen through the link
 * mailed at validation); a password sent anyway is kept. Childminders give their agreement.
 */
export const Registration = Type.Object({
  email: Email,
  password: Type.Optional(Password),
  prenom: Name,
  nom: Name,
  role: StringEnum(['parent', 'assistante_maternelle'] as const),
  telephone: Type.Optional(Telephone),
  adresse: Type.Optional(Adresse),
  numero_agrement: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 50,
      pattern: '\\S',
      description: 'Obligatoire pour une assistante maternelle',
    }),
  ),
  date_agrement: Type.Optional(
    Type.String({ format: 'date', description: 'Obligatoire pour une assistante maternelle (v1.3)' }),
  ),
  nb_max_enfants: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, description: 'Par défaut 4' })),
  ville_residence: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' })),
});
export type Registration = Static<typeof Registration>;

/** The childminder's agreement is required (v1.3): checked before any password is hashed. */
export function checkRegistration({ role, numero_agrement, date_agrement }: Registration): void {
  if (role !== 'assistante_maternelle') return;
  if (!numero_agrement) throw new Invalid('numero_agrement est obligatoire pour une assistante maternelle');
  if (!date_agrement) throw new Invalid('date_agrement est obligatoire pour une assistante maternelle');
}

/** A new account `en_attente` and its parent or childminder profile, in one transaction. */
export async function register(db: Kysely<Database>, registration: Registration, passwordHash: string | null) {
  checkRegistration(registration);
  const {
    password: _password,
    role,
    numero_agrement,
    date_agrement,
    nb_max_enfants,
    ville_residence,
    ...fields
  } = registration;
  return db.transaction().execute(async (trx) => {
    const user = await insertUser(trx, fields, { role, statut: 'en_attente', passwordHash });
    if (role === 'parent') await insertParents(trx, [[user.id]]);
    else {
      await insertAssistantesMaternelles(trx, [
        {
          userId: user.id,
          fields: { numero_agrement: numero_agrement!, date_agrement: date_agrement!, nb_max_enfants, ville_residence },
        },
      ]);
    }
    return user;
  });
}
