import { Readable } from 'node:stream';

export interface CsvColumn<Row> {
  header: string;
  value: (row: Row) => string | number | null | undefined;
}

// A cell a spreadsheet would read as a formula (OWASP "CSV injection"): = + - @, and tab or
// carriage return, which some spreadsheets strip before looking.
const FORMULA_START = /^[=+\-@\t\r]/;
// Where a reader other than ours starts a cell inside one of our cells: after a `;` (French
// Excel's separator), a tab, or a line break (a reader out of step with our quotes). What follows
// there must not start a formula, nor a quoted field whose content would. The test spares most
// cells the replace (a quarter of the writer's time otherwise).
const FORMULA_AFTER_BREAK = /[;\t\r\n][=+\-@\t\r"]/;
const BETWEEN_BREAK_AND_FORMULA = /(?<=[;\t\r\n])(?=[=+\-@\t\r"])/g;
// Quoted: a field holding a quote, a separator (`,` or `;`), a line break (CRLF, or a lone CR or
// LF) or a tab, so every reader keeps it in one cell.
const NEEDS_QUOTES = /[",;\r\n\t]/;
const BOM = '\uFEFF';

/** The cell as text, with an apostrophe wherever a spreadsheet splitting it could otherwise run it. */
export function neutralize(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (FORMULA_AFTER_BREAK.test(text)) text = text.replace(BETWEEN_BREAK_AND_FORMULA, "'");
  return FORMULA_START.test(text) ? `'${text}` : text;
}

const quote = (text: string) => (NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text);

/** = + - @ tab CR: FORMULA_START's characters, by code. */
const startsFormula = (code: number) =>
  code === 61 || code === 43 || code === 45 || code === 64 || code === 9 || code === 13;

/**
 * The value's CSV field: neutralized, then quoted when needed. Most cells hold no quote, separator,
 * tab or line break and start no formula: one test answers them (three tests a cell: 400 → 350 ms
 * per 100,000 patients, docs/benchmarks.md).
 */
function field(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : String(value);
  if (!NEEDS_QUOTES.test(text) && !startsFormula(text.charCodeAt(0))) return text;
  return quote(neutralize(text));
}

const [COMMA, CR, LF] = [0x2c, 0x0d, 0x0a];
/** Bytes a chunk of the response starts with room for. */
const CHUNK_BYTES = 512 * 1024;

/**
 * Fields written as UTF-8 straight into pre-sized buffers, rather than one string a batch joined,
 * flattened and then encoded (350 → 305 ms per 100,000 patients).
 */
class ByteChunks {
  #full: Buffer[] = [];
  #buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  #at = 0;

  /** `text` (a UTF-8 character is at most 3 bytes per UTF-16 unit), then `,` or, last, CRLF. */
  field(text: string, last: boolean): void {
    const room = text.length * 3 + 2;
    if (this.#at + room > this.#buffer.length) {
      if (this.#at > 0) this.#full.push(this.#buffer.subarray(0, this.#at));
      this.#buffer = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, room));
      this.#at = 0;
    }
    if (text.length > 0) this.#at += this.#buffer.write(text, this.#at);
    if (last) {
      this.#buffer[this.#at++] = CR;
      this.#buffer[this.#at++] = LF;
    } else this.#buffer[this.#at++] = COMMA;
  }

  /** The bytes written, as chunks; the object is not used again. */
  done(): Buffer[] {
    if (this.#at > 0) this.#full.push(this.#buffer.subarray(0, this.#at));
    return this.#full;
  }
}

export interface CsvStreamOptions {
  /**
   * The stream is destroyed when the client takes no bytes for this long: a reader that stalls
   * must not hold the rows' cursor, and its connection, forever. `onStall` is told how many rows
   * went out.
   */
  stallTimeoutMs?: number;
  onStall?: (rowsSent: number) => void;
}

// Not csv-stringify 6.9: the same bytes, 3.6x slower on 100k rows (218 vs 789 ms, scripts/bench-libraries.ts csv).
/**
 * RFC 4180 CSV (CRLF, quotes doubled, fields quoted when needed) with a header row, streamed from
 * `batches` of rows with back-pressure: a batch is pulled only as the response drains, so memory
 * stays flat whatever the row count. Starts with a UTF-8 byte order mark so spreadsheet programs
 * read accents right. A client that goes away (or stalls past `stallTimeoutMs`) destroys the
 * stream, which ends the iteration of `batches`: its cursor closes and gives its connection back.
 *
 * Rows come in batches (a cursor's fetch, domain/medreport/records/export.ts) and are written
 * synchronously: awaiting each row cost more than writing it (docs/benchmarks.md, issue 28).
 */
export function csvStream<Row>(
  batches: AsyncIterable<readonly Row[]>,
  columns: CsvColumn<Row>[],
  { stallTimeoutMs, onStall }: CsvStreamOptions = {},
): Readable {
  let sent = 0;
  let stall: NodeJS.Timeout | undefined;
  const last = columns.length - 1;
  // The generator resumes only when the consumer takes the previous chunk: each resumption is progress.
  const progressed = () => stall?.refresh();
  async function* chunks() {
    try {
      yield `${BOM}${columns.map((c) => quote(c.header)).join(',')}\r\n`;
      progressed();
      for await (const batch of batches) {
        const out = new ByteChunks();
        for (const row of batch) {
          for (let i = 0; i < last; i++) out.field(field(columns[i]!.value(row)), false);
          out.field(field(columns[last]!.value(row)), true);
        }
        for (const chunk of out.done()) {
          yield chunk;
          progressed();
        }
        sent += batch.length;
      }
    } finally {
      clearTimeout(stall);
    }
  }
  const stream = Readable.from(chunks(), { objectMode: false });
  if (stallTimeoutMs) {
    stall = setTimeout(() => {
      onStall?.(sent);
      stream.destroy();
    }, stallTimeoutMs).unref();
  }
  return stream;
}

/** `attachment; filename="patients-2026-11-22.csv"` */
export function csvDisposition(name: string, now = new Date()): string {
  return `attachment; filename="${name}-${now.toISOString().slice(0, 10)}.csv"`;
}
