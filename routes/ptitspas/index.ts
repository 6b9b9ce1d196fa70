import type { FastifyPluginAsync } from 'fastify';
import { installApiBoundary } from '../../plugins/boundary.js';

/** The PtitsPas API, mounted under /api/v1: one child plugin per domain folder. */
const ptitspas: FastifyPluginAsync = async (app) => {
  installApiBoundary(app, 'ptitspas');
};

export default ptitspas;
