import { Readable } from 'node:stream';

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

/** The value's CSV field: neutralized, then quoted when needed. */
const field = (text: string) => quote(neutralize(text));

// Bytes of PostgreSQL's COPY text format and of our CSV.
const [TAB, LF, CR, BACKSLASH, QUOTE, COMMA, SEMICOLON, APOSTROPHE] = [0x09, 0x0a, 0x0d, 0x5c, 0x22, 0x2c, 0x3b, 0x27];
const [SPECIAL, FIELD_END] = [1, 2];
const EMPTY = Buffer.alloc(0);
/** What a byte of COPY text means to the fast path: a field with none SPECIAL (all 0) is copied as is. */
const BYTE_CLASS = new Uint8Array(256);
for (const byte of [BACKSLASH, QUOTE, COMMA, SEMICOLON]) BYTE_CLASS[byte] = SPECIAL;
BYTE_CLASS[TAB] = FIELD_END;
BYTE_CLASS[LF] = FIELD_END;
/** = + - @: a formula's first character (a tab or CR would come escaped, as SPECIAL). */
const FORMULA_BYTE = new Uint8Array(256);
for (const byte of '=+-@') FORMULA_BYTE[byte.charCodeAt(0)] = 1;

const UNESCAPED: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
const unescapeCopyText = (text: string) => text.replace(/\\(.)/gs, (_, c: string) => UNESCAPED[c] ?? c);

// PostgreSQL's `timestamp` as DateStyle ISO writes it: `2026-12-07 15:04:47`, then `.` and 1 to 6
// digits of fraction unless it is zero. Becomes `2026-12-07T15:04:47.123Z` (24 bytes).
const TIMESTAMP_SHAPE = '0000-00-00 00:00:00';
const ISO_TIMESTAMP_BYTES = 24;
const isDigit = (byte: number) => byte >= 0x30 && byte <= 0x39;

/**
 * The `timestamp` field at `start` as ISO 8601 with milliseconds, truncated as `to_char`'s MS
 * does, written at `at` (24 bytes). Returns the field's length, or 0 when it has another shape
 * (NULL, infinity, a year past 9999), which then goes the ordinary way.
 */
function isoTimestamp(input: Buffer, start: number, out: Buffer, at: number): number {
  let i = start;
  for (let k = 0; k < TIMESTAMP_SHAPE.length; k++, i++) {
    const byte = input[i]!;
    const expected = TIMESTAMP_SHAPE.charCodeAt(k);
    if (expected === 0x30 ? !isDigit(byte) : byte !== expected) return 0;
  }
  let digits = 0;
  if (input[i] === 0x2e) {
    while (isDigit(input[i + 1 + digits]!) && digits < 6) digits++;
    if (digits === 0) return 0;
    i += 1 + digits;
  }
  if (BYTE_CLASS[input[i]!] !== FIELD_END) return 0;
  input.copy(out, at, start, start + 19);
  out[at + 10] = 0x54; // T
  out[at + 19] = 0x2e; // .
  for (let d = 0; d < 3; d++) out[at + 20 + d] = d < digits ? input[start + 20 + d]! : 0x30;
  out[at + 23] = 0x5a; // Z
  return i - start;
}

/**
 * Rewrites PostgreSQL's COPY text format as our CSV, in one pass over the bytes. COPY text
 * separates fields with a tab and ends rows with LF; it writes NULL as `\N` and escapes a
 * backslash and the control characters \b \f \n \r \t \v with a backslash. So a field with no
 * backslash, quote, comma or semicolon is already its CSV field, an apostrophe first when it
 * starts a formula, and is copied as is (most fields); the others go through `field()`.
 */
export class CopyTextToCsv {
  #rest: Buffer | undefined;
  /** Rows converted so far. */
  rows = 0;

  /**
   * `isoTimestampColumn`: the index of a `timestamp` column (UTC, DateStyle ISO) to write as
   * ISO 8601 with milliseconds (`2026-12-07T15:04:47.123Z`, what the API's JSON says):
   * PostgreSQL's `to_char` for it cost more than the rest of the row (86 of 228 ms per 100,000).
   */
  constructor(private readonly isoTimestampColumn = -1) {}

  /** The CSV of the whole rows `chunk` completes; a row cut short waits for the next chunk. */
  push(chunk: Buffer): Buffer {
    const end = chunk.lastIndexOf(LF) + 1;
    if (end === 0) {
      if (chunk.length > 0) this.#rest = this.#rest ? Buffer.concat([this.#rest, chunk]) : Buffer.from(chunk);
      return EMPTY;
    }
    // The row cut short last time, completed alone: copying the whole chunk behind it cost more.
    const head = this.#rest ? Buffer.concat([this.#rest, chunk.subarray(0, chunk.indexOf(LF) + 1)]) : EMPTY;
    const from = this.#rest ? head.length - this.#rest.length : 0;
    this.#rest = end < chunk.length ? Buffer.from(chunk.subarray(end)) : undefined;
    // Room for every field copied: a field of n bytes and its separator become at most n + 1
    // (an apostrophe) and 2 (CRLF). Only the slow path's quotes and apostrophes may need more.
    this.#out = Buffer.allocUnsafe(2 * (head.length + end - from) + 64);
    this.#at = 0;
    this.#convert(head, 0, head.length, 2 * (end - from));
    this.#convert(chunk, from, end, 0);
    return this.#out.subarray(0, this.#at);
  }

  #out = EMPTY;
  #at = 0;

  /**
   * Converts the whole rows of `input` between `start` and `end` into #out, keeping `reserve`
   * bytes of room for what is converted after them.
   */
  #convert(input: Buffer, start: number, end: number, reserve: number): void {
    let out = this.#out;
    let at = this.#at;
    let column = 0;
    while (start < end) {
      let i = start;
      const timestamp = column === this.isoTimestampColumn ? isoTimestamp(input, start, out, at) : 0;
      if (timestamp > 0) {
        at += ISO_TIMESTAMP_BYTES;
        i += timestamp;
      } else {
        const fieldAt = at;
        // Copied byte by byte as it is scanned: a native copy per field cost more than the scan.
        if (FORMULA_BYTE[input[start]!] === 1) out[at++] = APOSTROPHE;
        let byte = input[i]!;
        let kind = BYTE_CLASS[byte];
        while (kind === 0) {
          out[at++] = byte;
          byte = input[++i]!;
          kind = BYTE_CLASS[byte];
        }
        if (kind === SPECIAL) {
          while (kind !== FIELD_END) kind = BYTE_CLASS[input[++i]!];
          at = fieldAt;
          // `\N` is NULL: an empty cell.
          if (!(i - start === 2 && input[start] === BACKSLASH && input[start + 1] === 0x4e)) {
            const text = field(unescapeCopyText(input.toString('utf8', start, i)));
            const needed = at + text.length * 3 + 2 * (end - i) + reserve + 64;
            if (needed > out.length) {
              const bigger = Buffer.allocUnsafe(2 * needed);
              out.copy(bigger, 0, 0, at);
              out = bigger;
            }
            at += out.write(text, at);
          }
        }
      }
      if (input[i] === TAB) {
        out[at++] = COMMA;
        column++;
      } else {
        out[at++] = CR;
        out[at++] = LF;
        this.rows++;
        column = 0;
      }
      start = i + 1;
    }
    this.#out = out;
    this.#at = at;
  }

  /** Fails when the input stopped inside a row. */
  end(): void {
    if (this.#rest) throw new Error('COPY output ended inside a row');
  }
}

export interface CsvStreamOptions {
  /**
   * The stream is destroyed when the client takes no bytes for this long: a reader that stalls
   * must not hold the COPY, and its connection, forever. `onStall` is told how many rows went out.
   */
  stallTimeoutMs?: number;
  onStall?: (rowsSent: number) => void;
  /** See CopyTextToCsv. */
  isoTimestampColumn?: number;
}

/**
 * RFC 4180 CSV (CRLF, quotes doubled, fields quoted when needed) with a header row, made from
 * `copyText` (the output of a COPY ... TO STDOUT, db/copy-out.ts) as the response drains: memory
 * stays flat whatever the row count. Starts with a UTF-8 byte order mark so spreadsheet programs
 * read accents right. A client that goes away (or stalls past `stallTimeoutMs`) destroys the
 * stream, which ends the iteration of `copyText`: the COPY stops and its connection is let go.
 *
 * PostgreSQL formats the values and node only rewrites bytes (0.5 of COPY's own throughput when
 * node parsed and formatted each row, 0.77-0.84 now: docs/benchmarks.md, issue 28).
 */
export function csvStream(
  headers: readonly string[],
  copyText: AsyncIterable<Buffer>,
  { stallTimeoutMs, onStall, isoTimestampColumn }: CsvStreamOptions = {},
): Readable {
  const csv = new CopyTextToCsv(isoTimestampColumn);
  let stall: NodeJS.Timeout | undefined;
  // The generator resumes only when the consumer takes the previous chunk: each resumption is progress.
  const progressed = () => stall?.refresh();
  async function* chunks() {
    try {
      yield `${BOM}${headers.map(quote).join(',')}\r\n`;
      progressed();
      for await (const chunk of copyText) {
        const rows = csv.push(chunk);
        if (rows.length === 0) continue;
        yield rows;
        progressed();
      }
      csv.end();
    } finally {
      clearTimeout(stall);
    }
  }
  // Up to 256 KiB ahead of the client, so PostgreSQL keeps sending while a chunk is written
  // (0.77 → 0.83 of COPY against the default 16 KiB).
  const stream = Readable.from(chunks(), { objectMode: false, highWaterMark: 256 * 1024 });
  if (stallTimeoutMs) {
    stall = setTimeout(() => {
      onStall?.(csv.rows);
      stream.destroy();
    }, stallTimeoutMs).unref();
  }
  return stream;
}

/** `attachment; filename="patients-2026-11-22.csv"` */
export function csvDisposition(name: string, now = new Date()): string {
  return `attachment; filename="${name}-${now.toISOString().slice(0, 10)}.csv"`;
}
