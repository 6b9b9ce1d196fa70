import type { FastifyRequest } from 'fastify';
import type { MemberScope } from '../../domain/medreport/records/mutation.js';

const DEVICE = /^[\w.:-]{1,100}$/;

/** The caller's device as X-Device-Id names it, when well-formed. */
export function deviceOf(request: FastifyRequest): string | null {
  const given = request.headers['x-device-id'];
  return typeof given === 'string' && DEVICE.test(given) ? given : null;
}

/** What a tenant mutation of `request`'s caller runs with: the organization's handle, the actor, the device. */
export function mutationScope(request: FastifyRequest): MemberScope {
  return {
    db: request.tenant.db,
    organizationId: request.tenant.organizationId,
    actor: request.user,
    deviceId: deviceOf(request),
  };
}
