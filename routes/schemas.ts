// Moved to domain/shared/schemas.ts (the domain's model schemas use them); kept here for the routes.
export { Nullable, StringEnum } from '../domain/shared/schemas.js';
