import { Type } from '@sinclair/typebox';
import { Categorie, Upload } from '../../../domain/ptitspas/uploads/model.js';

export { Upload };

/** The multipart form of POST /uploads, for the OpenAPI document (the handler reads the stream). */
export const UploadFormBody = Type.Object({
  fichier: Type.String({ format: 'binary', description: 'Un seul fichier : PDF, JPEG, PNG ou WebP, 10 Mo au plus' }),
  categorie: Categorie,
  id_enfant: Type.Optional(Type.String({ format: 'uuid' })),
});
