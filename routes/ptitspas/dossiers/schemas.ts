import { Type } from '@sinclair/typebox';
import { Commentaire, Dossier, DossierBody, DossierListOptions } from '../../../domain/ptitspas/dossiers/model.js';
import { TotalHeader } from '../responses.js';

/** The HTTP face of /dossiers: bodies and query string are the domain's model schemas. */
export { Dossier, DossierBody };
export const DossierQuery = DossierListOptions;
export const DossierList = { ...Type.Array(Dossier), headers: TotalHeader };
export const EnfantParams = Type.Object({ id_enfant: Type.String({ format: 'uuid' }) });
export const ValiderBody = Type.Object({ commentaire: Type.Optional(Commentaire) });
export const CompleterBody = Type.Object({ commentaire: Commentaire });
