# syntax=docker/dockerfile:1
# Production image: compiled JavaScript, production dependencies only, non-root user.
# It expects DATABASE_URL (no embedded PostgreSQL in production), JWT_SECRET and PTITSPAS_NIR_KEYS.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY scripts/build.ts scripts/server-build.ts ./scripts/
COPY src ./src
COPY db ./db
COPY domain ./domain
COPY plugins ./plugins
COPY routes ./routes
COPY adapters ./adapters
RUN npm run build

FROM node:24-bookworm-slim AS deps
# argon2's install script tests its prebuilt binary and compiles from source when it does not load.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional drops the embedded PostgreSQL binaries, unused with DATABASE_URL.
RUN npm ci --omit=dev --omit=optional && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/var/lib/api
# Memory (docs/benchmarks.md, issue 28): argon2's 19 MiB blocks always mmapped, so a login burst's
# blocks go back to the system; 8 MB semi-spaces instead of node 24's 64 MB young generation; the
# old generation grows to 1.3 times what a collection left, not up to 4 times (docs/benchmarks.md).
ENV GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN mkdir -p /var/lib/api && chown node:node /var/lib/api
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=30", "dist/src/server.js"]
