import { createHash } from 'node:crypto';
import path from 'node:path';
import { pipeline, Transform } from 'node:stream';
import multipart, { type MultipartFile } from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { fileTypeFromBuffer } from 'file-type';
import {
  findFile,
  isOwnerType,
  type OwnerType,
  recordUpload,
  type Upload,
} from '../../../domain/medreport/files/files.js';
import { Uuid } from '../../../domain/medreport/records/schemas.js';
import { findBadValue } from '../../../plugins/boundary.js';
import { errorResponses, HttpError, notFound, unprocessable } from '../../../plugins/errors.js';
import { byUser } from '../../../plugins/medreport/auth.js';
import { mutationScope } from '../mutation-scope.js';
import { FileResource, toFileResource, UploadForm } from './schemas.js';

const SNIFF_BYTES = 4100; // what file-type needs to recognise every format it knows

interface Received {
  tempKey: string;
  originalName: string;
  size: number;
  checksum: string;
  head: Buffer;
}

/**
 * Attachments: streamed to storage while hashed (SHA-256) and sniffed (type by content), then
 * recorded with the next version number for that owner and name. A failed or aborted upload
 * leaves neither a row nor a stored file.
 */
const fileRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { fileMaxBytes } = app.config;
  const security = [{ bearerAuth: [] }];
  await app.register(multipart, { limits: { fileSize: fileMaxBytes, files: 1, fields: 30, fieldSize: 1024 } });

  /** Streams one part to a temporary key; nothing of it is kept in memory but the first bytes. */
  async function receive(part: MultipartFile): Promise<Received> {
    const tempKey = app.storage.tempKey();
    const hash = createHash('sha256');
    const head: Buffer[] = [];
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (size < SNIFF_BYTES) head.push(chunk);
        size += chunk.length;
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      // pipeline, not pipe: a body cut short must fail the write instead of leaving it waiting.
      await app.storage.put(
        tempKey,
        pipeline(part.file, meter, () => {}),
      );
      if (part.file.truncated) throw new HttpError(413, 'Le fichier dépasse la taille maximale autorisée.');
    } catch (err) {
      await app.storage.remove(tempKey);
      throw err;
    }
    // A part sent as application/octet-stream without a filename is a file whose name is undefined.
    const originalName = part.filename ?? '';
    return { tempKey, originalName, size, checksum: hash.digest('hex'), head: Buffer.concat(head) };
  }

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
      if (!request.isMultipart()) throw new HttpError(415, "La requête n'est pas au format multipart/form-data.");
      const fields = new Map<string, string>();
      let upload: Received | undefined;
      let storedAt: string | undefined;
      try {
        for await (const part of request.parts()) {
          if (part.type === 'file') {
            if (part.fieldname !== 'file' || upload) {
              part.file.resume();
              throw unprocessable('Un seul fichier, dans le champ « file ».', { file: ['Un seul fichier attendu.'] });
            }
            upload = await receive(part);
          } else {
            fields.set(part.fieldname, String(part.value));
          }
        }
        const { ownerType, ownerUuid } = checkFields(fields, upload);
        const received = upload!;
        const detected = await fileTypeFromBuffer(received.head);
        const mimeType = detected?.mime ?? 'application/octet-stream';
        const ext =
          detected?.ext ??
          (path
            .extname(received.originalName)
            .slice(1)
            .toLowerCase()
            .replace(/[^a-z0-9]/g, '') ||
            'bin');
        const recorded: Upload = {
          ownerType,
          ownerUuid,
          originalName: received.originalName,
          mimeType,
          ext,
          size: received.size,
          checksum: received.checksum,
        };
        const row = await recordUpload(mutationScope(request), recorded, async (key) => {
          await app.storage.move(received.tempKey, key);
          storedAt = key;
        });
        return reply.code(201).send(toFileResource(row));
      } catch (err) {
        if (upload) await app.storage.remove(upload.tempKey);
        if (storedAt) await app.storage.remove(storedAt); // the commit itself failed
        throw err;
      }
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
          200: Type.String({ format: 'binary', description: 'The file, with its detected type' }),
          304: Type.Null({ description: 'Not modified' }),
          ...errorResponses('medreport', 401, 403, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const row = await findFile(request.tenant.db, request.params.uuid);
      const etag = `"${row.checksum}"`;
      reply.header('etag', etag).header('cache-control', 'private, no-cache');
      if (matches(request.headers['if-none-match'], etag)) return reply.code(304).send(null);
      const stored = await app.storage.get(row.path);
      if (!stored) {
        request.log.error({ file: row.uuid, path: row.path }, 'file row without stored bytes');
        throw notFound('Fichier introuvable.');
      }
      return (
        reply
          .type(row.mime_type)
          .header('content-length', stored.size)
          .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(row.original_name)}`)
          .header('x-content-type-options', 'nosniff')
          // The type provider types send() by the response schema (binary string); a stream is what goes out.
          .send(stored.stream as unknown as string)
      );
    },
  );
};

function checkFields(fields: Map<string, string>, upload: Received | undefined) {
  const errors: Record<string, string[]> = {};
  const ownerType = fields.get('owner_type');
  const ownerUuid = fields.get('owner_uuid');
  if (!upload) errors.file = ['Le champ file est obligatoire.'];
  else if (!upload.originalName) errors.file = ['Le fichier envoyé doit avoir un nom (filename).'];
  else if (findBadValue(upload.originalName) || upload.originalName.length > 255) {
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

function matches(header: string | undefined, etag: string): boolean {
  return !!header && header.split(',').some((candidate) => candidate.trim() === etag || candidate.trim() === '*');
}

export default fileRoutes;
