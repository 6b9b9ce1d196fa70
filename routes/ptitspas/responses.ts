import { Type } from '@sinclair/typebox';
import { stringify } from '../../domain/shared/json-text.js';
import { errorResponses } from '../../plugins/errors.js';

/** The security requirement of every authenticated PtitsPas route in the OpenAPI document. */
export const security = [{ ptitspasBearer: [] }];

/** Error responses of an authenticated route: 401, 403 and 429 always, plus `statuses`. */
export const authenticatedErrors = (...statuses: number[]) => errorResponses('ptitspas', 401, 403, 429, ...statuses);

/** The header that carries a list's total (PtitsPas list bodies stay arrays). */
export const TotalHeader = { 'x-total-count': Type.Integer({ description: 'Nombre total de résultats' }) };

/**
 * Big lists of nullable fields (dossiers, événements) go out through JSON.stringify, not the
 * response schema's fast-json-stringify: their shape is fixed by the domain's `shown` and by the
 * closed schemas they were written with, and fast-json-stringify's handling of nullable fields
 * (anyOf, checked value by value) cost 0.2 to 0.4 ms of CPU for a page of 20 against 0.07 ms
 * (docs/benchmarks.md). The schemas still document the answers, and tests check every answer
 * of these routes against them, closed. A JsonText (a jsonb column read as text) is written as
 * it is (domain/shared/json-text.ts). The answer leaves as UTF-8 bytes: a string this large was
 * copied twice more on its way to the socket (node prefixes it with the headers, then flattens
 * and encodes it), garbage that pushed the old generation up under load.
 */
export const plainJson = {
  serializerCompiler: () => (data: unknown) => Buffer.from(stringify(data) ?? 'null') as unknown as string,
};
