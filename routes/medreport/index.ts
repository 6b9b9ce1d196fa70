import type { FastifyPluginAsync } from 'fastify';

/** The MedReport API, mounted under /api: one child plugin per domain folder. */
const medreport: FastifyPluginAsync = async () => {};

export default medreport;
