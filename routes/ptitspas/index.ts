import type { FastifyPluginAsync } from 'fastify';

/** The PtitsPas API, mounted under /api/v1: one child plugin per domain folder. */
const ptitspas: FastifyPluginAsync = async () => {};

export default ptitspas;
