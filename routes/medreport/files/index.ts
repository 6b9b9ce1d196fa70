import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  findFile,
  isOwnerType,
  newFileKey,
  type OwnerType,
  recordUpload,
} from '../../../domain/medreport/files/files.js';
import { Uuid } from '../../../domain/medreport/records/schemas.js';
import { findBadValue } from '../../../plugins/boundary.js';
import { errorResponses, notFound, unprocessable } from '../../../plugins/errors.js';
import { byUser } from '../../../plugins/medreport/auth.js';
import { attachment, etagMatches, fileResponse } from '../../shared/downloads.js';
import { receiveUpload } from '../../shared/upload-form.js';
import { mutationScope } from '../mutation-scope.js';
import { FileResource, toFileResource, UploadForm } from './schemas.js';

/**
 * Attachments: streamed to storage while hashed (SHA-256) and sniffed (type by content), then
 * recorded with the next version number for that owner and name. A failed or aborted upload
 * leaves neither a row nor a stored object (routes/shared/upload-form.ts).
 */
const fileRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { fileMaxBytes } = app.config;
  const security = [{ bearerAuth: [] }];
  // One byte over the limit reaches the storage meter, which refuses it (413) and stores nothing.
  await app.register(multipart, { limits: { fileSize: fileMaxBytes + 1, files: 1, fields: 30, fieldSize: 1024 } });

  app.post(
    '/files',
    {
      onRequest: app.limit('upload', { max: 20, timeWindow: '1 hour', per: byUser }),
      bodyLimit: fileMaxBytes + 64 * 1024,
      schema: {
        operationId: 'uploadFile',
        tags: ['files'],
        summary: 'Attach a file to a patient, prescription or invoice (multipart/form-data)',
        security,
        consumes: ['multipart/form-data'],
        body: UploadForm,
        response: { 201: Type.Ref(FileResource), ...errorResponses('medreport', 401, 403, 413, 415, 422, 429) },
      },
      // The body is read as a stream in the handler; the schema above documents it.
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      const { uuid, key } = newFileKey(request.tenant.organizationId);
      const options = { fileField: 'file', maxBytes: fileMaxBytes, key: () => key };
      const row = await receiveUpload(request, options, async ({ fields, file }) => {
        const { ownerType, ownerUuid } = checkFields(fields, file?.filename);
        return recordUpload(mutationScope(request), {
          uuid,
          key,
          ownerType,
          ownerUuid,
          originalName: file!.filename,
          mimeType: file!.detected?.mime ?? 'application/octet-stream',
          size: file!.size,
          checksum: file!.sha256,
        });
      });
      return reply.code(201).send(toFileResource(row));
    },
  );

  app.get(
    '/files/:uuid',
    {
      schema: {
        operationId: 'downloadFile',
        tags: ['files'],
        summary: 'Download a file (ETag = SHA-256; If-None-Match answers 304)',
        security,
        params: Type.Object({ uuid: Uuid }),
        response: {
          200: fileResponse('The file, with the type detected from its content when uploaded', ['*/*']),
          304: Type.Null({ description: 'Not modified' }),
          ...errorResponses('medreport', 401, 403, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const row = await findFile(request.tenant.db, request.params.uuid);
      const etag = `"${row.checksum}"`;
      reply.header('etag', etag).header('cache-control', 'private, no-cache');
      if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send(null);
      const stored = await app.storage.get(row.path);
      if (!stored) {
        request.log.error({ file: row.uuid, path: row.path }, 'file row without stored bytes');
        throw notFound('Fichier introuvable.');
      }
      return (
        reply
          .type(row.mime_type)
          .header('content-length', stored.size)
          .header('content-disposition', attachment(row.original_name))
          .header('x-content-type-options', 'nosniff')
          // The type provider types send() by the response schema (binary string); a stream is what goes out.
          .send(stored.stream as unknown as string)
      );
    },
  );
};

/** The form's fields and the file's name, checked; `filename` is undefined when no file came. */
function checkFields(fields: Map<string, string>, filename: string | undefined) {
  const errors: Record<string, string[]> = {};
  const ownerType = fields.get('owner_type');
  const ownerUuid = fields.get('owner_uuid');
  if (filename === undefined) errors.file = ['Le champ file est obligatoire.'];
  else if (!filename) errors.file = ['Le fichier envoyé doit avoir un nom (filename).'];
  else if (findBadValue(filename) || filename.length > 255) {
    errors.file = ['Le nom du fichier est invalide (255 caractères au plus, sans caractères de contrôle).'];
  }
  if (!isOwnerType(ownerType)) {
    errors.owner_type = ['Le champ owner_type doit valoir patient, prescription ou invoice.'];
  }
  if (!ownerUuid || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ownerUuid)) {
    errors.owner_uuid = ['Le champ owner_uuid doit être un UUID valide.'];
  }
  const first = Object.values(errors)[0]?.[0];
  if (first) throw unprocessable(first, errors);
  return { ownerType: ownerType as OwnerType, ownerUuid: ownerUuid!.toLowerCase() };
}

export default fileRoutes;
