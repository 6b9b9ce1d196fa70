// The rule moved to the domain (domain/shared/pagination.ts); kept here for the routes that import it.
export { paginate } from '../domain/shared/pagination.js';
