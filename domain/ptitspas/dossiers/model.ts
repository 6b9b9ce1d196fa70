import { type Static, Type } from '@sinclair/typebox';
import { Nullable, StringEnum } from '../../shared/schemas.js';
import { Email, Name, Telephone, Uuid } from '../accounts/model.js';
import { Page, Search, Sort } from '../lists.js';

/** What a dossier d'inscription holds (docs/ptitspas.md, Dossiers): the API's bodies and answers. */
const STATUTS_DOSSIER = ['brouillon', 'soumis', 'valide', 'a_completer'] as const;
const StatutDossier = StringEnum(STATUTS_DOSSIER);
const Lien = Type.String({ minLength: 1, maxLength: 50, pattern: '\\S', description: 'Ex. grand-mère, voisin' });
const Texte = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '\\S' });
const Timestamp = Type.String({ format: 'date-time' });

const Responsable = Type.Object({
  prenom: Name,
  nom: Name,
  lien: StringEnum(['pere', 'mere', 'tuteur', 'autre']),
  telephone: Telephone,
  email: Nullable(Email),
  autorite_parentale: Type.Boolean(),
});
const Contact = Type.Object({ prenom: Name, nom: Name, lien: Lien, telephone: Telephone });
const Sante = Type.Object({
  medecin_traitant: Nullable(Type.Object({ nom: Name, telephone: Telephone })),
  allergies: Type.Array(Texte(100), { maxItems: 50 }),
  regime_alimentaire: Nullable(Texte(500)),
  pai: Type.Boolean({ description: "Projet d'accueil individualisé" }),
  vaccinations: Type.Array(Type.Object({ vaccin: Texte(100), date: Type.String({ format: 'date' }) }), {
    maxItems: 100,
  }),
  traitement_en_cours: Nullable(Texte(1000)),
});
const Reponse = Nullable(Type.Boolean({ description: 'null : pas encore répondu' }));
const Autorisations = Type.Object({
  soins_urgence: Reponse,
  administration_medicaments: Reponse,
  droit_image: Reponse,
  sorties: Reponse,
});

/** The parts a PUT writes, each whole. */
const DossierParts = {
  responsables: Type.Array(Responsable, { minItems: 1, maxItems: 4 }),
  contacts_urgence: Type.Array(Contact, { maxItems: 5 }),
  personnes_autorisees: Type.Array(Contact, {
    maxItems: 10,
    description: "Adultes autorisés à venir chercher l'enfant",
  }),
  sante: Sante,
  autorisations: Autorisations,
};

/** PUT /dossiers/:id_enfant: the whole dossier, every part (an optional `email` may be left out). */
export const DossierBody = Type.Object({
  ...DossierParts,
  responsables: Type.Array(
    Type.Object({ ...Responsable.properties, email: Type.Optional(Nullable(Email)) }),
    DossierParts.responsables,
  ),
  pieces: Type.Array(Uuid, { maxItems: 50, uniqueItems: true, description: 'Fichiers (uploads) de cet enfant' }),
});
export type DossierBody = Static<typeof DossierBody>;

const Etape = Type.Object({
  statut: StatutDossier,
  par: Nullable(Uuid),
  le: Timestamp,
  commentaire: Nullable(Type.String()),
});
export type Etape = Static<typeof Etape>;

export const Dossier = Type.Object(
  {
    id_enfant: Uuid,
    statut: StatutDossier,
    ...DossierParts,
    pieces: Type.Array(Uuid),
    historique: Type.Array(Etape, { description: 'Du plus ancien au plus récent' }),
    cree_le: Timestamp,
    modifie_le: Timestamp,
  },
  { $id: 'PtitsPasDossier' },
);
export type Dossier = Static<typeof Dossier>;

export const Commentaire = Type.String({ minLength: 1, maxLength: 2000, pattern: '\\S' });

export const DossierListOptions = Type.Object({
  ...Page,
  sort: Sort(['cree_le', 'modifie_le', 'statut'], '-cree_le'),
  statut: Type.Optional(StatutDossier),
  search: Type.Optional(Search),
});
export type DossierListOptions = Static<typeof DossierListOptions>;
