// The schema helpers live with the model schemas that use them (domain/shared/schemas.ts).
export { Nullable, StringEnum } from '../domain/shared/schemas.js';
