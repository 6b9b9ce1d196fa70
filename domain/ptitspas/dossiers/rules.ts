import type { Categorie } from '../uploads/model.js';
import type { Dossier } from './model.js';

const AUTORISATIONS: Record<keyof Dossier['autorisations'], string> = {
  soins_urgence: 'soins d’urgence',
  administration_medicaments: 'administration de médicaments',
  droit_image: 'droit à l’image',
  sorties: 'sorties',
};

/**
 * What a dossier still lacks to be submitted, each item named in French: a responsable with
 * parental authority, an emergency contact, the family doctor, an answer to each of the four
 * authorisations, and a vaccination record among the pieces. Empty when it is complete.
 */
export function missingItems(dossier: Dossier, pieceCategories: readonly Categorie[]): string[] {
  const missing: string[] = [];
  if (!dossier.responsables.some((r) => r.autorite_parentale)) {
    missing.push('un responsable ayant l’autorité parentale');
  }
  if (dossier.contacts_urgence.length === 0) missing.push('un contact d’urgence');
  if (!dossier.sante.medecin_traitant) missing.push('le médecin traitant');
  for (const [key, label] of Object.entries(AUTORISATIONS)) {
    if (dossier.autorisations[key as keyof typeof AUTORISATIONS] === null) {
      missing.push(`la réponse à l’autorisation « ${label} »`);
    }
  }
  if (!pieceCategories.includes('carnet_vaccination')) missing.push('le carnet de vaccination (pièce)');
  return missing;
}
