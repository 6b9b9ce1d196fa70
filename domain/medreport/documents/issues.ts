import type { Transform } from 'node:stream';
import { type Static, Type } from '@sinclair/typebox';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { NotFound } from '../../errors.js';
import type { Issued } from '../../shared/documents/pdf.js';
import { normalizeVerificationCode } from '../../shared/documents/verification-code.js';
import { StringEnum } from '../../shared/schemas.js';
import { Timestamp } from '../records/schemas.js';

/**
 * The PDFs of MedReport records (docs/documents.md): what is kept of each issue, and what the
 * public verification answers. Nothing here is part of the record: issuing a PDF changes no
 * record, no activity log and no sync feed.
 */

export type DocumentKind = 'prescription' | 'invoice';

/** What GET /api/verify/{code} tells anyone holding the code: nothing about the patient, the practice or amounts. */
export const Verification = Type.Object({
  type: StringEnum(['prescription', 'invoice']),
  status: StringEnum(['valid', 'cancelled'], {
    description: '`cancelled` once the record was deleted; `valid` otherwise',
  }),
  issued_at: Type.Union([Timestamp, Type.Null()], {
    description: 'When the last PDF of the record was issued (its creation date); null before any',
  }),
  sha256: Type.Union([Type.String({ pattern: '^[0-9a-f]{64}$' }), Type.Null()], {
    description: 'SHA-256 (hex) of the bytes of that PDF, as served; null before any',
  }),
});
export type Verification = Static<typeof Verification>;

/**
 * The time a PDF is issued with: whole seconds, as a PDF's creation date is written, so that the
 * same record rendered twice in the same second gives the same bytes (pdfkit's file identifier
 * hashes the creation date to the millisecond).
 */
const issueTime = (now = new Date()) => new Date(Math.floor(now.getTime() / 1000) * 1000);

/** How a document kind renders: the verification URL, the creation date, what to do with its digest. */
export interface RenderOptions {
  /** The public URL of the verification route for a code. */
  verificationUrl: (code: string) => string;
  /** The document's creation date (now by default): the only thing two renderings may differ by. */
  creationDate?: Date;
  onIssued?: (issued: Issued) => Promise<void>;
}

export interface PdfRequest {
  verificationUrl: (code: string) => string;
  /** False for a HEAD request: no one receives those bytes, so they do not become the last issue. */
  record?: boolean;
}

/**
 * Renders a record's document now; once its last byte is produced (before it leaves), its digest
 * is kept as the record's last issue, what GET /api/verify/{code} answers.
 */
export function issuePdf(
  db: Kysely<Database>,
  kind: DocumentKind,
  uuid: string,
  { verificationUrl, record = true }: PdfRequest,
  render: (options: RenderOptions) => Transform,
): Transform {
  const at = issueTime();
  return render({
    verificationUrl,
    creationDate: at,
    onIssued: record ? (issued) => recordIssue(db, kind, uuid, issued, at) : undefined,
  });
}

/**
 * Keeps `issued` as the last PDF of the record, on the organization's handle. The same bytes
 * again leave the row as it was (the issue time stays that of the first copy).
 */
async function recordIssue(
  db: Kysely<Database>,
  kind: DocumentKind,
  uuid: string,
  issued: Issued,
  at: Date,
): Promise<void> {
  await db
    .insertInto('medreport.document_issues')
    .values({ record_type: kind, record_uuid: uuid, sha256: issued.sha256, size: issued.size, issued_at: at })
    .onConflict((oc) =>
      oc
        .columns(['organization_id', 'record_type', 'record_uuid'])
        .doUpdateSet((eb) => ({
          sha256: eb.ref('excluded.sha256'),
          size: eb.ref('excluded.size'),
          issued_at: eb.ref('excluded.issued_at'),
        }))
        .whereRef('medreport.document_issues.sha256', '<>', 'excluded.sha256'),
    )
    .execute();
}

/**
 * The public answer for a code as a reader may type it. Any organization's record: the lookup is
 * medreport.verify_document (migration 0017), which reads only what the answer shows. NotFound for
 * an unknown code and for input that cannot be a code (without a query).
 */
export async function verifyDocument(db: Kysely<Database>, input: string): Promise<Verification> {
  const code = normalizeVerificationCode(input);
  if (!code) throw new NotFound('Code de vérification inconnu.');
  const { rows } = await sql<{
    record_type: DocumentKind;
    cancelled: boolean;
    issued_at: Date | null;
    sha256: string | null;
  }>`select record_type, cancelled, issued_at, sha256 from medreport.verify_document(${code})`.execute(db);
  const [row] = rows;
  if (!row) throw new NotFound('Code de vérification inconnu.');
  return {
    type: row.record_type,
    status: row.cancelled ? 'cancelled' : 'valid',
    issued_at: row.issued_at?.toISOString() ?? null,
    sha256: row.sha256,
  };
}
