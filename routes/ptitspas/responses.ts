import { Type } from '@sinclair/typebox';
import { errorResponses } from '../../plugins/errors.js';

/** The security requirement of every authenticated PtitsPas route in the OpenAPI document. */
export const security = [{ ptitspasBearer: [] }];

/** Error responses of an authenticated route: 401, 403 and 429 always, plus `statuses`. */
export const authenticatedErrors = (...statuses: number[]) => errorResponses('ptitspas', 401, 403, 429, ...statuses);

/** The header that carries a list's total (PtitsPas list bodies stay arrays). */
export const TotalHeader = { 'x-total-count': Type.Integer({ description: 'Nombre total de résultats' }) };
