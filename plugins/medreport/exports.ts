import fp from 'fastify-plugin';
import { createPool } from '../../db/connection.js';
import { TenantPool } from '../../db/tenant-pool.js';
import { TooMany } from '../../domain/errors.js';

export interface ExportSlot {
  readonly organizationId: number;
  /** A COPY ... TO STDOUT under the organization's context, on the exports' own pool (a connection is free for it). */
  copyOut(statement: string): AsyncGenerator<Buffer>;
  /** How long the export may go without the client taking more bytes. */
  readonly stallTimeoutMs: number;
  /** Gives the place back (once the COPY has ended or been abandoned); calling it again does nothing. */
  release(): void;
}

export interface Exports {
  /** Per-organization handles on a pool of their own (`EXPORT_CONCURRENCY` connections). */
  readonly tenants: TenantPool;
  /** A place for one export of the organization, or 429 past either bound. */
  admit(organizationId: number): ExportSlot;
}

declare module 'fastify' {
  interface FastifyInstance {
    exports: Exports;
  }
}

const RETRY_AFTER_SECONDS = 10;

/**
 * Exports stream for as long as the client reads, so they run on their own small pool: a client
 * that stops reading can hold one of its connections (until the stall timeout), never one that
 * ordinary requests need. At most `concurrency` run at once, `perOrganization` per organization,
 * so one clinic cannot take every place either.
 */
interface ExportsOptions {
  url: string;
  namedStatements: boolean;
  concurrency: number;
  perOrganization: number;
  stallTimeoutMs: number;
}

export default fp<ExportsOptions>(
  async (app, { url, namedStatements, concurrency, perOrganization, stallTimeoutMs }) => {
    const pool = createPool(url, {
      max: concurrency,
      namedStatements,
      onIdleError: app.idleConnectionLost('exports'),
    });
    const tenants = new TenantPool(pool, namedStatements);
    app.metrics.watchPool('exports', pool);
    app.metrics.gauge('export_streams', 'CSV exports streaming now', () => running);
    // Not p-limit: admission here refuses at once (429), in all and per organization; p-limit only queues.
    let running = 0;
    const byOrganization = new Map<number, number>();

    app.decorate('exports', {
      tenants,
      admit(organizationId) {
        const own = byOrganization.get(organizationId) ?? 0;
        if (running >= concurrency || own >= perOrganization) {
          throw new TooMany(
            own >= perOrganization
              ? `Trop d'exports en cours pour votre organisation : réessayez dans ${RETRY_AFTER_SECONDS} s.`
              : `Trop d'exports en cours : réessayez dans ${RETRY_AFTER_SECONDS} s.`,
            RETRY_AFTER_SECONDS,
          );
        }
        running++;
        byOrganization.set(organizationId, own + 1);
        let released = false;
        return {
          organizationId,
          copyOut: (statement) => tenants.copyOut(organizationId, statement),
          stallTimeoutMs,
          release() {
            if (released) return;
            released = true;
            running--;
            const left = byOrganization.get(organizationId)! - 1;
            if (left === 0) byOrganization.delete(organizationId);
            else byOrganization.set(organizationId, left);
          },
        };
      },
    });
    app.addHook('onClose', async () => {
      await pool.end();
    });
  },
  { name: 'exports', dependencies: ['db'] },
);
