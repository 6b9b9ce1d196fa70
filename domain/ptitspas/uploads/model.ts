import { type Static, Type } from '@sinclair/typebox';
import { Nullable, StringEnum } from '../../shared/schemas.js';
import { Uuid } from '../accounts/model.js';

export const CATEGORIES = [
  'carnet_vaccination',
  'attestation_assurance',
  'decision_justice',
  'ordonnance',
  'photo',
  'autre',
] as const;
export const Categorie = StringEnum(CATEGORIES);
export type Categorie = Static<typeof Categorie>;

/** The types accepted, read from the content (never from the client's header). */
export const ACCEPTED_TYPES = ['application/pdf', 'image/jpeg', 'image/png', 'image/webp'] as const;

/** "More than 10 MB: 413", 10 MiB. */
export const UPLOAD_MAX_BYTES = 10 * 1024 * 1024;

/** An uploaded file as shown; where its bytes lie is the server's business. */
export const Upload = Type.Object(
  {
    id: Uuid,
    nom: Type.String({ description: "Le nom d'origine du fichier, sans chemin" }),
    type_mime: StringEnum(ACCEPTED_TYPES, { description: 'Lu dans le contenu du fichier' }),
    taille: Type.Integer({ description: 'octets' }),
    sha256: Type.String({ description: 'SHA-256 du contenu, hexadécimal' }),
    categorie: Categorie,
    id_enfant: Nullable(Uuid),
    id_auteur: Nullable(Uuid),
    cree_le: Type.String({ format: 'date-time' }),
  },
  { $id: 'PtitsPasUpload' },
);
export type Upload = Static<typeof Upload>;
