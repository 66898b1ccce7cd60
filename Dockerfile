# syntax=docker/dockerfile:1
#
# One recipe for the image of every Lattice service. APP names a directory of apps/:
#
#   docker build --build-arg APP=gateway -t lattice/gateway .
#
# The stages before `app` do not read APP, so building every service compiles once and reuses
# the layers. The runtime image holds Node.js 24 (no shell, no package manager), the production
# dependencies and the one service's compiled code; it runs as a non-root user, writes nothing
# outside /tmp (a read-only root filesystem is fine) and leaves health checks to Kubernetes'
# probes on /livez and /readyz.

ARG BUILD_IMAGE=node:24-trixie-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian13:nonroot

# Compiles every app and library, as `npm run build` does on a workstation.
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# The production dependencies alone: no development tools, no optional platform binaries
# (the embedded PostgreSQL and the Node.js the development scripts run on), no install scripts.
FROM ${BUILD_IMAGE} AS production-dependencies
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

# The service's own modules, traced from its main module, under a fixed entry point; fails
# naming the apps there are when APP names none, and when the service imports a package that
# is not a production dependency.
FROM build AS app
ARG APP
RUN node dist/tools/image/src/stage-app.js "${APP}" /image

FROM ${RUNTIME_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=production-dependencies /src/package.json ./package.json
COPY --from=production-dependencies /src/node_modules ./node_modules
COPY --from=app /image/dist ./dist
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "--enable-source-maps", "dist/main.js"]
