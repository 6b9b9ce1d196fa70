import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Transform } from 'node:stream';
import type * as Fontkit from 'fontkit';
import type QRCode from 'qrcode';

/**
 * The one way either API renders a document (docs/documents.md): A4, DejaVu fonts embedded
 * (French accents, œ, €, « »), PDF/A-2b metadata, a verification code as text and as a QR code.
 * Rendering is pure: the same data and creation date give the same bytes.
 */

const require = createRequire(import.meta.url);

interface Kit {
  PDFDocument: typeof import('pdfkit');
  qrcode: typeof QRCode;
  fonts: { regular: Fontkit.Font; bold: Fontkit.Font };
}

/**
 * pdfkit, fontkit, qrcode and the two parsed fonts load with the first document, not when the
 * server starts: most of what loading modules lazily took off the idle memory (docs/benchmarks.md).
 */
let loading: Promise<Kit> | undefined;
let kit: Kit | undefined;

function loadKit(): Promise<Kit> {
  loading ??= Promise.all([import('fontkit'), import('pdfkit'), import('qrcode')]).then(
    ([fontkit, { default: PDFDocument }, { default: qrcode }]) => {
      /**
       * Parsed once and shared by every document, which embeds the subset of glyphs it uses.
       * (Given the file's bytes, pdfkit parses the 750 kB font again for each document: most of a
       * one-page document's time.) A parsed font only caches glyphs, at most its own few thousand.
       */
      const fontFile = (name: string) => {
        const font = fontkit.create(readFileSync(require.resolve(`dejavu-fonts-ttf/ttf/${name}`))) as Fontkit.Font;
        // fontkit keeps each glyph with the characters it was first met with, and pdfkit maps it back
        // to those (ToUnicode). Met first as a part of a composite glyph (the A of À, when a document
        // is subset), a glyph would keep none, and every later document sharing the font would print
        // it as no text: not found, not copied, not read aloud. Met first through its own character,
        // it keeps it.
        for (const codePoint of font.characterSet) font.glyphForCodePoint(codePoint);
        return font;
      };
      kit = {
        PDFDocument,
        qrcode,
        fonts: { regular: fontFile('DejaVuSans.ttf'), bold: fontFile('DejaVuSans-Bold.ttf') },
      };
      return kit;
    },
  );
  return loading;
}

/** The loaded kit, for the helpers `draw` calls: renderPdf draws only once it is loaded. */
function loadedKit(): Kit {
  if (!kit) throw new Error('A document is drawn only inside renderPdf');
  return kit;
}

export type Pdf = PDFKit.PDFDocument;

export interface DocumentInfo {
  title: string;
  author: string;
  subject: string;
  /** Defaults to now: the only thing that differs between two renderings of the same data. */
  creationDate?: Date;
}

/** Where a reader checks the document: the code printed on it and the public URL of its route. */
export interface Verification {
  code: string;
  url: string;
}

/** What a rendered document's bytes were: told once the last byte has been produced. */
export interface Issued {
  sha256: string;
  size: number;
}

const MARGIN = 50;
/** The side of the QR code, in points. */
const QR_SIDE = 72;
/** Room kept at the bottom of every page for the verification footer. */
const FOOTER = QR_SIDE + 20;
/** Bytes gathered before they are passed on. */
const BLOCK = 64 * 1024;

/**
 * Renders a document as a stream: `draw` lays it out on a fresh A4 document, the bytes flow as
 * pdfkit produces them. `onIssued` (optional) runs with the digest of the whole document before its
 * last bytes leave, so a client holding the complete file can always verify it; if it fails, the
 * stream fails and no complete copy is handed out.
 */
export function renderPdf(info: DocumentInfo, draw: (doc: Pdf) => void, onIssued?: (issued: Issued) => Promise<void>) {
  const hash = createHash('sha256');
  let size = 0;
  // pdfkit writes each PDF object as a chunk of its own (150 for a page): gathered into blocks,
  // so that a response is a few socket writes, not hundreds.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const out = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes < BLOCK) return callback();
      const block = Buffer.concat(pending);
      [pending, pendingBytes] = [[], 0];
      callback(null, block);
    },
    flush(callback) {
      const rest = Buffer.concat(pending);
      if (!onIssued) return callback(null, rest);
      onIssued({ sha256: hash.digest('hex'), size }).then(() => callback(null, rest), callback);
    },
  });
  loadKit()
    .then(({ PDFDocument, fonts }) => {
      const doc = new PDFDocument({
        size: 'A4',
        margins: { top: MARGIN, left: MARGIN, right: MARGIN, bottom: MARGIN + FOOTER },
        subset: 'PDF/A-2b',
        pdfVersion: '1.7',
        font: null as unknown as string,
        lang: 'fr-FR',
        displayTitle: true,
        info: {
          Title: info.title,
          Author: info.author,
          Subject: info.subject,
          Creator: 'MedReport / PtitsPas',
          Producer: 'pdfkit',
          CreationDate: info.creationDate ?? new Date(),
        },
      });
      // pdfkit takes a parsed fontkit font (its types know only paths and bytes).
      doc.registerFont('regular', fonts.regular as unknown as Buffer);
      doc.registerFont('bold', fonts.bold as unknown as Buffer);
      doc.font('regular').fontSize(10);
      doc.pipe(out);
      draw(doc);
      doc.end();
    })
    .catch((err: unknown) => out.destroy(err as Error));
  return out;
}

/** The document's title, in bold, with a line under it. */
export function heading(doc: Pdf, text: string, subtitle?: string) {
  doc.font('bold').fontSize(16).text(text, { align: 'left' });
  if (subtitle) doc.font('regular').fontSize(9).fillColor('#555555').text(subtitle).fillColor('black');
  const y = doc.y + 4;
  doc
    .moveTo(MARGIN, y)
    .lineTo(doc.page.width - MARGIN, y)
    .lineWidth(0.5)
    .stroke();
  doc.y = y + 8;
  doc.font('regular').fontSize(10);
}

/** A section title. */
export function section(doc: Pdf, text: string) {
  doc.moveDown(0.6).font('bold').fontSize(11).text(text).font('regular').fontSize(10).moveDown(0.2);
}

/** Label: value lines; a null value prints as « — ». */
export function fields(doc: Pdf, rows: ReadonlyArray<readonly [string, string | null]>) {
  for (const [label, value] of rows) {
    doc
      .font('bold')
      .text(`${label} : `, { continued: true })
      .font('regular')
      .text(value ?? '—');
  }
}

/** A plain paragraph. */
export function paragraph(doc: Pdf, text: string) {
  doc.font('regular').fontSize(10).text(text, { align: 'justify' });
}

/** A table with fixed column widths (points); the first row is the header. */
export function table(doc: Pdf, widths: readonly number[], rows: ReadonlyArray<readonly string[]>) {
  const x0 = MARGIN;
  for (const [index, row] of rows.entries()) {
    const y = doc.y;
    let x = x0;
    let bottom = y;
    doc.font(index === 0 ? 'bold' : 'regular');
    for (const [column, cell] of row.entries()) {
      const width = widths[column]!;
      doc.text(cell, x + 2, y + 2, { width: width - 4 });
      bottom = Math.max(bottom, doc.y + 2);
      x += width;
    }
    doc
      .rect(x0, y, x - x0, bottom - y)
      .lineWidth(0.5)
      .stroke();
    doc.x = x0;
    doc.y = bottom;
  }
  doc.font('regular');
}

/** « BROUILLON » across the current page, for a document that is not final. */
export function draftMark(doc: Pdf) {
  const { width, height } = doc.page;
  const { x, y } = doc;
  doc.save();
  doc.rotate(-35, { origin: [width / 2, height / 2] });
  doc.font('bold').fontSize(90).fillColor('#cc0000').fillOpacity(0.15);
  doc.text('BROUILLON', 0, height / 2 - 45, { width, align: 'center', lineBreak: false });
  doc.restore();
  doc.fillColor('black').fillOpacity(1).font('regular').fontSize(10);
  Object.assign(doc, { x, y });
}

/** An empty frame under a label, at the right of the page, for a handwritten signature or a stamp. */
export function signatureBox(doc: Pdf, label: string, { width = 200, height = 70 } = {}) {
  const left = doc.page.width - MARGIN - width;
  doc.moveDown(1);
  if (doc.y + height + 20 > doc.page.height - doc.page.margins.bottom) doc.addPage();
  doc.font('bold').fontSize(10).text(label, left, doc.y, { width });
  const top = doc.y + 4;
  doc.rect(left, top, width, height).lineWidth(0.5).stroke();
  doc.font('regular');
  Object.assign(doc, { x: MARGIN, y: top + height + 8 });
}

/**
 * The verification footer of the first page: the QR code of `url` (drawn as vector squares, so no
 * image and no randomness), the code in clear and the URL, for a reader without a camera. Drawn in
 * the room every page keeps at its bottom (renderPdf's margin), so it never moves the text.
 */
export function verificationFooter(doc: Pdf, { code, url }: Verification) {
  const { x, y } = doc;
  const bottom = doc.page.margins.bottom;
  doc.page.margins.bottom = 0; // drawing in the margin must not start a new page
  const qr = loadedKit().qrcode.create(url, { errorCorrectionLevel: 'M' });
  const modules = qr.modules.size;
  const cell = QR_SIDE / modules;
  const top = doc.page.height - MARGIN - QR_SIDE;
  doc.save().fillColor('black');
  for (let row = 0; row < modules; row++) {
    for (let column = 0; column < modules; column++) {
      if (qr.modules.get(row, column)) doc.rect(MARGIN + column * cell, top + row * cell, cell, cell);
    }
  }
  doc.fill().restore();
  const textLeft = MARGIN + QR_SIDE + 12;
  const width = doc.page.width - MARGIN - textLeft;
  doc
    .font('bold')
    .fontSize(9)
    .text('Vérification du document', textLeft, top + 10, { width });
  doc.font('regular').fontSize(8).text(`Code : ${code}`, { width });
  doc.text(url, { width, link: url });
  doc.page.margins.bottom = bottom;
  doc.font('regular').fontSize(10);
  Object.assign(doc, { x, y });
}

// Built once, when first used: an Intl formatter costs more to make than a page of text to lay
// out, and making them at start would map ~5 MB of ICU's French and time-zone data into every
// server, rendering PDFs or not (measured with /proc/<pid>/pagemap).
let formats: { date: Intl.DateTimeFormat; time: Intl.DateTimeFormat; euros: Intl.NumberFormat } | undefined;
const french = () =>
  (formats ??= {
    date: new Intl.DateTimeFormat('fr-FR', {
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      timeZone: 'Europe/Paris',
    }),
    time: new Intl.DateTimeFormat('fr-FR', { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Paris' }),
    euros: new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR' }),
  });

/** A date (YYYY-MM-DD or a Date) as « 5 décembre 2026 ». */
export function frenchDate(value: string | Date): string {
  const date = typeof value === 'string' ? new Date(`${value.slice(0, 10)}T12:00:00Z`) : value;
  return french().date.format(date).replace(/^1 /, '1er ');
}

/** The time of day in Paris, « 09:45 ». */
export const frenchTime = (date: Date) => french().time.format(date);

/** Euros (a number or cents) as « 1 234,56 € ». */
export function euros(value: number, { cents = false } = {}): string {
  return french()
    .euros.format(cents ? value / 100 : value)
    .replace(/\u202f|\u00a0/g, ' ');
}
