import { rm } from 'node:fs/promises';
import { buildServer } from './server-build.js';

// `npm run build`: dist/src/server.js and dist/src/cli.js (scripts/server-build.ts).
await rm('dist', { recursive: true, force: true });
await buildServer(process.cwd(), 'dist');
