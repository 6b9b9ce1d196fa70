import { pipeline, Readable } from 'node:stream';
import { stringify } from 'csv-stringify';

export interface CsvColumn<Row> {
  header: string;
  value: (row: Row) => string | number | null | undefined;
}

// A cell a spreadsheet would read as a formula (OWASP "CSV injection"): = + - @, and tab or
// carriage return, which some spreadsheets strip before looking.
const FORMULA_START = /^[=+\-@\t\r]/;

/** The cell as text, with a leading apostrophe if a spreadsheet would otherwise run it. */
export function neutralize(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/**
 * RFC 4180 CSV (CRLF, quotes doubled, fields quoted when needed) with a header row, streamed
 * row by row from `rows` with back-pressure: memory stays flat whatever the row count. Starts with
 * a UTF-8 byte order mark so spreadsheet programs read accents right.
 */
export function csvStream<Row>(rows: AsyncIterable<Row>, columns: CsvColumn<Row>[]): Readable {
  // quote_record_delimiter: a lone LF or CR inside a field must be quoted too (csv-stringify turns
  // that off once record_delimiter is given).
  const stringifier = stringify({ record_delimiter: '\r\n', quote_record_delimiter: true, bom: true });
  const source = Readable.from(
    (async function* () {
      yield columns.map((c) => c.header);
      for await (const row of rows) yield columns.map((c) => neutralize(c.value(row)));
    })(),
    { objectMode: true },
  );
  // pipeline, not pipe: a client that goes away destroys the response, and with it the source,
  // whose cursor then closes and gives its connection back to the pool.
  return pipeline(source, stringifier, () => {});
}

/** `attachment; filename="patients-2026-11-22.csv"` */
export function csvDisposition(name: string, now = new Date()): string {
  return `attachment; filename="${name}-${now.toISOString().slice(0, 10)}.csv"`;
}
