import type { Transform } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { type PdfRequest, Verification, verifyDocument } from '../../../domain/medreport/documents/issues.js';
import { errorResponses } from '../../../plugins/errors.js';
import { attachment, fileResponse } from '../../shared/downloads.js';

/**
 * The PDFs of prescriptions and invoices and their public verification (docs/documents.md). The
 * documents themselves are drawn in domain/medreport/documents/, one module per kind.
 */

/** The public URL of a code's verification, printed on the document as text and QR code. */
const verificationUrl = (publicUrl: string) => (code: string) => `${publicUrl.replace(/\/$/, '')}/api/verify/${code}`;

const UuidParams = Type.Object({ uuid: Type.String({ format: 'uuid' }) });
const PdfDocument = fileResponse(
  'The PDF, streamed (no Content-Length); its SHA-256 is what GET /api/verify/{code} then answers',
  ['application/pdf'],
);

interface PdfKind {
  /** The record's path segment and OpenAPI tag. */
  plural: 'prescriptions' | 'invoices';
  operationId: string;
  summary: string;
  pdf(db: Kysely<Database>, uuid: string, request: PdfRequest): Promise<{ stream: Transform; filename: string }>;
}

/**
 * `GET /{plural}/:uuid/pdf`, in the tenant scope like the record's JSON (same members, same 404
 * for another organization's or a deleted record). Patient data: never stored by a cache.
 */
export function pdfRoute(kind: PdfKind): FastifyPluginAsyncTypebox {
  return async (app) => {
    const url = verificationUrl(app.config.publicUrl);
    app.get(
      `/${kind.plural}/:uuid/pdf`,
      {
        schema: {
          operationId: kind.operationId,
          tags: [kind.plural],
          summary: kind.summary,
          security: [{ bearerAuth: [] }],
          params: UuidParams,
          response: { 200: PdfDocument, ...errorResponses('medreport', 401, 403, 404, 422) },
        },
      },
      async (request, reply) => {
        const { stream, filename } = await kind.pdf(request.tenant.db, request.params.uuid, {
          verificationUrl: url,
          record: request.method !== 'HEAD',
        });
        return sendPdf(reply, stream, filename);
      },
    );
  };
}

function sendPdf(reply: FastifyReply, stream: Transform, filename: string) {
  return reply
    .type('application/pdf')
    .header('content-disposition', attachment(filename))
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .send(stream);
}

/**
 * `GET /verify/:code`, public: whether a prescription or invoice with that code exists, its status
 * and the digest of its last PDF; nothing about the patient, the practice or amounts. Any input
 * that is not a code is a 404 like an unknown one. Rate-limited per address.
 */
export const verificationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/verify/:code',
    {
      onRequest: app.limit('verify', { max: 60, timeWindow: '1 minute', per: 'ip' }),
      schema: {
        operationId: 'verifyDocument',
        tags: ['documents'],
        summary: 'Check a prescription’s or invoice’s PDF by the code printed on it (no personal data)',
        params: Type.Object({ code: Type.String({ description: 'As printed: grouped or not, any case' }) }),
        response: { 200: Verification, ...errorResponses('medreport', 404, 429) },
      },
    },
    async (request, reply) => {
      // A status can change (a deleted record is cancelled): no cache keeps an old answer.
      reply.header('cache-control', 'no-store');
      return verifyDocument(app.systemDb, request.params.code);
    },
  );
};
