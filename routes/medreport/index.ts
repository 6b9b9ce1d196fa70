import type { FastifyPluginAsync } from 'fastify';
import { installApiBoundary } from '../../plugins/boundary.js';
import auth, { byUser } from '../../plugins/medreport/auth.js';
import tenant from '../../plugins/medreport/tenant.js';
import activityLogRoutes from './activity-log/index.js';
import adminRoutes from './admin/index.js';
import { publicAuthRoutes, sessionRoutes } from './auth/index.js';
import { verificationRoutes } from './documents/index.js';
import fileRoutes from './files/index.js';
import { FileResource } from './files/schemas.js';
import invoiceRoutes, { Invoice } from './invoices/index.js';
import oauthRoutes from './oauth/index.js';
import { joinRoutes, organizationRoutes, registrationRoutes } from './organization/index.js';
import { Organization } from './organization/schemas.js';
import patientRoutes, { Patient } from './patients/index.js';
import prescriptionRoutes, { Prescription } from './prescriptions/index.js';
import profileRoutes from './profile/index.js';
import reportRoutes from './reports/index.js';
import syncRoutes from './sync/index.js';
import { User } from './users/schemas.js';

/**
 * The MedReport API, mounted under /api, in nested encapsulated scopes: public; authenticated (a
 * live session); inside it, tenant (a live session in an organization, with a handle confined to
 * it) and admin (/api/admin, platform administrators). A route's scope is who may call it;
 * `config.roles` narrows the tenant scope.
 */
const medreport: FastifyPluginAsync = async (app) => {
  installApiBoundary(app, 'medreport');
  await app.register(auth, { secret: app.config.jwtSecret, ttlSeconds: app.config.accessTokenTtlSeconds });
  await app.register(tenant);
  // Resources several routes answer with (records, sync), named once for every scope below.
  for (const schema of [User, Organization, Patient, Prescription, Invoice, FileResource]) app.addSchema(schema);

  await app.register(async function publicScope(scope) {
    await scope.register(publicAuthRoutes);
    await scope.register(registrationRoutes);
    await scope.register(oauthRoutes);
    // Anyone holding a prescription's or invoice's PDF may check it (its own limit per address).
    await scope.register(verificationRoutes);
  });

  await app.register(async function authenticatedScope(scope) {
    scope.addHook('onRequest', scope.authenticate);
    // The spec's "protected API group": 120 requests a minute per user, on top of route limits.
    scope.addHook('onRequest', scope.limit('api', { max: 120, timeWindow: '1 minute', per: byUser }));
    await scope.register(sessionRoutes);
    await scope.register(profileRoutes);
    await scope.register(joinRoutes);
    // Platform administrators only (its own guard), whatever their organization.
    await scope.register(adminRoutes, { prefix: '/admin' });

    await scope.register(async function tenantScope(tenant) {
      tenant.addHook('onRequest', tenant.requireTenant);
      await tenant.register(organizationRoutes);
      await tenant.register(patientRoutes);
      await tenant.register(prescriptionRoutes);
      await tenant.register(invoiceRoutes);
      await tenant.register(fileRoutes);
      await tenant.register(activityLogRoutes);
      await tenant.register(reportRoutes);
      await tenant.register(syncRoutes);
    });
  });
};

export default medreport;
