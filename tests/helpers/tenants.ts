import { expect } from 'vitest';
import type { App } from '../../src/app.js';
import { bearer, registration } from './users.js';

export interface Member {
  token: string;
  user: { id: number; uuid: string; email: string; role: string; organization_id: number };
  headers: { authorization: string };
}

export interface TenantFixture {
  organization: { id: number; uuid: string; name: string; code: string };
  owner: Member;
  doctor: Member;
}

/** An organization with its owner and one doctor, created through the API like a clinic would. */
export async function createOrganization(app: App, name = 'Clinique'): Promise<TenantFixture> {
  const owner = await app.inject({
    method: 'POST',
    url: '/api/register-owner',
    payload: { ...registration({ name: `Owner of ${name}` }), organization_name: name },
  });
  expect(owner.statusCode, owner.body).toBe(201);
  const { organization, token, user } = owner.json();
  const doctor = await app.inject({
    method: 'POST',
    url: '/api/register-doctor',
    payload: { ...registration({ name: `Doctor of ${name}` }), organization_code: organization.code },
  });
  expect(doctor.statusCode, doctor.body).toBe(201);
  const member = (body: { token: string; user: Member['user'] }): Member => ({
    token: body.token,
    user: body.user,
    headers: bearer(body.token),
  });
  return { organization, owner: member({ token, user }), doctor: member(doctor.json()) };
}

/**
 * The cross-tenant harness: every tenant route registers here how to create one of its resources
 * in an organization and how to address it. `expectIsolation` then proves, for each, that the
 * other organization's members get 404 on that identifier (not 403: existence stays hidden) and
 * never see it in a list.
 */
export interface TenantResource {
  name: string;
  /** Creates one resource as `member`; returns its identifier. */
  create(app: App, member: Member): Promise<string>;
  /** Requests that address one resource by identifier: each must answer 404 across tenants. */
  byId: Array<{ method: 'GET' | 'PATCH' | 'PUT' | 'DELETE'; url: (id: string) => string; payload?: unknown }>;
  /** A list route whose `data` must only hold the caller's organization's rows. */
  list?: { url: string; id: (row: Record<string, unknown>) => string };
}

export async function expectIsolation(app: App, resource: TenantResource, a: TenantFixture, b: TenantFixture) {
  const idA = await resource.create(app, a.doctor);
  const idB = await resource.create(app, b.doctor);
  for (const route of resource.byId) {
    for (const intruder of [b.owner, b.doctor]) {
      const res = await app.inject({
        method: route.method,
        url: route.url(idA),
        headers: intruder.headers,
        ...(route.payload === undefined ? {} : { payload: route.payload as object }),
      });
      expect(res.statusCode, `${resource.name}: ${route.method} ${route.url(idA)} by the other organization`).toBe(404);
    }
  }
  if (resource.list) {
    for (const [member, own, foreign] of [
      [a.doctor, idA, idB],
      [b.owner, idB, idA],
    ] as const) {
      const res = await app.inject({ method: 'GET', url: resource.list.url, headers: member.headers });
      expect(res.statusCode).toBe(200);
      const ids = (res.json().data as Record<string, unknown>[]).map(resource.list.id);
      expect(ids, `${resource.name} list`).toContain(own);
      expect(ids, `${resource.name} list`).not.toContain(foreign);
    }
  }
  // The owner's own organization still reaches it: the 404s above were isolation, not a broken route.
  const own = resource.byId.find((r) => r.method === 'GET');
  if (own) {
    const res = await app.inject({ method: 'GET', url: own.url(idA), headers: a.owner.headers });
    expect(res.statusCode).toBe(200);
  }
}
