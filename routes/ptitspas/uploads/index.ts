import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Invalid } from '../../../domain/errors.js';
import {
  ACCEPTED_TYPES,
  CATEGORIES,
  type Categorie,
  UPLOAD_MAX_BYTES,
} from '../../../domain/ptitspas/uploads/model.js';
import { getUpload, openUpload } from '../../../domain/ptitspas/uploads/queries.js';
import { deleteUpload, newUploadKey, recordUpload } from '../../../domain/ptitspas/uploads/writes.js';
import { findBadValue } from '../../../plugins/boundary.js';
import { byCaller } from '../../../plugins/ptitspas/auth.js';
import { attachment, etagMatches, fileResponse, requestedRange } from '../../shared/downloads.js';
import { receiveUpload, type UploadForm } from '../../shared/upload-form.js';
import { authenticatedErrors as errors, security } from '../responses.js';
import { Message, UserIdParams } from '../users/schemas.js';
import { Upload, UploadFormBody } from './schemas.js';

const tags = ['ptitspas-uploads'];
const EVERY_ROLE = ['super_admin', 'administrateur', 'gestionnaire', 'assistante_maternelle', 'parent'] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * /uploads: files of the children's dossiers (and later of events and messages). The bytes go
 * to the server's storage as they arrive, hashed and typed by their content; who sees an upload
 * is decided in domain/ptitspas/uploads/queries.ts (visibleUploads).
 */
const uploadRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // One byte over the limit reaches the storage meter, which refuses it (413) and stores nothing.
  await app.register(multipart, {
    limits: { fileSize: UPLOAD_MAX_BYTES + 1, files: 1, fields: 30, fieldSize: 1024 },
  });

  app.post(
    '/uploads',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      // Storage is shared by everyone: each account may send 60 files an hour.
      onRequest: app.limit('ptitspas-upload', { max: 60, timeWindow: '1 hour', per: byCaller }),
      bodyLimit: UPLOAD_MAX_BYTES + 64 * 1024,
      schema: {
        operationId: 'ptitspasCreateUpload',
        tags,
        summary: 'Déposer un fichier (multipart/form-data : fichier, categorie, id_enfant facultatif)',
        security,
        consumes: ['multipart/form-data'],
        body: UploadFormBody,
        response: { 201: Upload, ...errors(400, 404, 413, 415) },
      },
      // The body is read as a stream in the handler; the schema above documents it.
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      const { id, key } = newUploadKey();
      const options = { fileField: 'fichier', maxBytes: UPLOAD_MAX_BYTES, key: () => key };
      const upload = await receiveUpload(request, options, async (form) => {
        const { file, categorie, idEnfant } = checkForm(form);
        return recordUpload(app.systemDb, request.ptitspasUser, {
          id,
          file,
          filename: file.filename,
          categorie,
          id_enfant: idEnfant,
        });
      });
      return reply.code(201).send(upload);
    },
  );

  app.get(
    '/uploads/:id',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      schema: {
        operationId: 'ptitspasGetUpload',
        tags,
        summary: "Un fichier déposé : son auteur, ou qui voit l'enfant",
        security,
        params: UserIdParams,
        response: { 200: Upload, ...errors(400, 404) },
      },
    },
    async (request) => getUpload(app.systemDb, request.ptitspasUser, request.params.id),
  );

  app.get(
    '/uploads/:id/contenu',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      schema: {
        operationId: 'ptitspasGetUploadContent',
        tags,
        summary: 'Le contenu du fichier (ETag = SHA-256, Range accepté)',
        security,
        params: UserIdParams,
        response: {
          200: fileResponse('Le fichier, avec son type lu dans le contenu', ACCEPTED_TYPES),
          206: fileResponse('La plage demandée (Content-Range)', ACCEPTED_TYPES),
          304: Type.Null({ description: 'Non modifié (If-None-Match)' }),
          ...errors(400, 404, 416),
        },
      },
    },
    async (request, reply) => {
      const { upload, read } = await openUpload(app.systemDb, app.storage, request.ptitspasUser, request.params.id);
      const etag = `"${upload.sha256}"`;
      const notModified = etagMatches(request.headers['if-none-match'], etag);
      // Before any header of the file: a range past its end is answered as an error, not as the file.
      const range = notModified ? undefined : requestedRange(request.headers.range, upload.taille);
      reply
        .type(upload.type_mime)
        .header('etag', etag)
        .header('accept-ranges', 'bytes')
        .header('cache-control', 'private, no-cache')
        .header('content-disposition', attachment(upload.nom))
        .header('x-content-type-options', 'nosniff');
      if (notModified) return reply.code(304).send(null);
      const bytes = await read(range);
      if (range) reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${bytes.size}`);
      const length = range ? range.end - range.start + 1 : bytes.size;
      // The type provider types send() by the response schema (binary string); a stream is what goes out.
      return reply.header('content-length', length).send(bytes.stream as unknown as string);
    },
  );

  app.delete(
    '/uploads/:id',
    {
      config: { ptitspasRoles: EVERY_ROLE },
      schema: {
        operationId: 'ptitspasDeleteUpload',
        tags,
        summary: "Supprimer un fichier : son auteur, ou le personnel ; 409 tant qu'un dossier l'utilise",
        security,
        params: UserIdParams,
        response: { 200: Message, ...errors(400, 404, 409) },
      },
    },
    async (request) => {
      await deleteUpload(app.systemDb, app.storage, request.ptitspasUser, request.params.id);
      return { message: 'Fichier supprimé' };
    },
  );
};

/** The form's fields, checked: a file, a known category, a well-formed child id. */
function checkForm({ fields, file }: UploadForm) {
  if (!file) throw new Invalid('Le champ fichier est obligatoire', { fichier: ['Le champ fichier est obligatoire.'] });
  if (findBadValue(file.filename) || file.filename.length > 255) {
    throw new Invalid('Le nom du fichier est invalide (255 caractères au plus, sans caractères de contrôle)', {
      fichier: ['Nom de fichier invalide.'],
    });
  }
  const categorie = fields.get('categorie');
  if (!categorie || !(CATEGORIES as readonly string[]).includes(categorie)) {
    throw new Invalid(`categorie doit valoir ${CATEGORIES.join(', ')}`, { categorie: ['Catégorie inconnue.'] });
  }
  const idEnfant = fields.get('id_enfant') || undefined;
  if (idEnfant !== undefined && !UUID.test(idEnfant)) {
    throw new Invalid('id_enfant doit être un UUID', { id_enfant: ['UUID attendu.'] });
  }
  return { file, categorie: categorie as Categorie, idEnfant: idEnfant?.toLowerCase() };
}

export default uploadRoutes;
