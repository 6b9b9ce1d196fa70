import type { FastifyInstance, FastifyRequest } from 'fastify';
import { checkNewAccount } from '../../../domain/medreport/accounts/login.js';
import type { NewAccount } from '../../../domain/medreport/accounts/model.js';

/**
 * The preHandler of every MedReport registration route (register, register-owner,
 * register-doctor): the account rules, then the shared limit of 3 an hour per address. After
 * validation and the rules, so a mistake in the form does not spend the limit (docs/auth.md).
 */
export function registrationGuard(app: FastifyInstance) {
  const limit = app.limit('register', { max: 3, timeWindow: '1 hour', per: 'ip' });
  // Each route's body schema extends NewAccount and has validated the body by now; a hook
  // shared by three routes cannot name their three body types.
  const rules = async (request: FastifyRequest) => checkNewAccount(request.body as NewAccount);
  return [rules, limit];
}
