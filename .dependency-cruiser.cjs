/**
 * The layers (docs/architecture.md): imports go down only, src → routes → domain → db/adapters, plugins
 * serve routes, and one API never imports the other. `npm run lint` checks them on every CI run.
 */
const HTTP = '^(fastify|fastify-plugin|@fastify/)';
module.exports = {
  forbidden: [
    {
      name: 'domain-knows-no-http',
      comment: 'domain/ holds the rules: no Fastify, no routes, no plugins, no process entry points',
      severity: 'error',
      from: { path: '^domain/' },
      to: { path: ['^routes/', '^plugins/', '^src/', HTTP] },
    },
    {
      name: 'db-is-the-bottom',
      comment: 'db/ (connections, schema, migrations, tenancy machinery) imports nothing above it',
      severity: 'error',
      from: { path: '^db/' },
      to: { path: ['^domain/', '^routes/', '^plugins/', '^src/', HTTP] },
    },
    {
      name: 'adapters-know-only-the-outside',
      comment: 'adapters/ wrap the outside world (storage backends): nothing of the app above them',
      severity: 'error',
      from: { path: '^adapters/' },
      to: { path: ['^domain/', '^routes/', '^plugins/', '^src/', '^db/', HTTP] },
    },
    {
      name: 'plugins-serve-routes',
      comment: 'cross-cutting plugins never reach into a route tree',
      severity: 'error',
      from: { path: '^plugins/' },
      to: { path: ['^routes/', '^src/'] },
    },
    {
      name: 'routes-below-src',
      severity: 'error',
      from: { path: '^(routes|domain|plugins|db|adapters)/' },
      to: { path: '^src/' },
    },
    {
      name: 'medreport-apart-from-ptitspas',
      comment: 'one API never imports the other (routes, domain and plugins alike)',
      severity: 'error',
      from: { path: '^(routes|domain|plugins)/medreport/' },
      to: { path: '^(routes|domain|plugins)/ptitspas/' },
    },
    {
      name: 'ptitspas-apart-from-medreport',
      severity: 'error',
      from: { path: '^(routes|domain|plugins)/ptitspas/' },
      to: { path: '^(routes|domain|plugins)/medreport/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
