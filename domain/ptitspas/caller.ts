import type { PtitsPasRole, PtitsPasStatut } from '../../db/schema.js';

/** The five roles, highest first (the document's hierarchy). */
export const PTITSPAS_ROLES = [
  'super_admin',
  'administrateur',
  'gestionnaire',
  'assistante_maternelle',
  'parent',
] as const satisfies readonly PtitsPasRole[];

/** The caller of an authenticated PtitsPas route, as their token's live refresh family says. */
export interface PtitsPasCaller {
  id: string;
  email: string;
  role: PtitsPasRole;
  prenom: string;
  nom: string;
  statut: PtitsPasStatut;
  /** The login (refresh-token family) the access token belongs to: what logout revokes. */
  familyId: string;
}
