import { setTimeout as sleep } from 'node:timers/promises';
import { mutate } from '../../domain/medreport/records/mutation.js';
import { patientRecords } from '../../domain/medreport/records/patients.js';
import type { App } from '../../src/app.js';
import type { TenantFixture } from './tenants.js';

/**
 * Deletes a patient in a mutation that holds the organization's lock, starts `waiter` while it is
 * held (the waiter's write queues behind the lock), then commits the deletion; answers what the
 * waiter answered. For tests that a write decides on what the holder committed.
 */
export async function whileDeletionHeld<T>(
  app: App,
  fx: TenantFixture,
  patientUuid: string,
  waiter: () => Promise<T>,
): Promise<T> {
  const scope = {
    db: app.tenantPool.forOrganization(fx.organization.id),
    organizationId: fx.organization.id,
    actor: { id: fx.owner.user.id, name: 'Suppression tenue' },
    deviceId: null,
  };
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let removed!: () => void;
  const locked = new Promise<void>((resolve) => (removed = resolve));
  const deletion = mutate(scope, async (m) => {
    await m.remove(patientRecords, [patientUuid]);
    removed();
    await held;
  });
  await locked;
  const waiting = waiter();
  await sleep(50); // the waiter is queued behind the lock
  release();
  await deletion;
  return waiting;
}
