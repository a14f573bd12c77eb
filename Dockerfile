# syntax=docker/dockerfile:1
# The gateway in a container: built with dev dependencies, run on a pruned production install as
# a non-root user, the gateway itself as PID 1. The install/build/prune steps are one script,
# scripts/build-image-tree.sh, which CI also runs and tests without a container engine
# (test/ops-image-tree.e2e-spec.ts: production start, a proxied call, SIGTERM, a second SIGTERM).
#
#   docker build -t oauth-gateway .
#   docker run --rm -p 3000:3000 --env-file gateway.env oauth-gateway
ARG NODE_IMAGE=node:20.20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.npm scripts/build-image-tree.sh /app

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# Owned by root, run as `node`: the gateway cannot change its own code.
COPY --from=build /app /app
USER node
EXPOSE 3000
# Exec form: node is PID 1 and receives SIGTERM itself. It handles SIGTERM / SIGINT explicitly
# (graceful drain, then exit 0; a second signal exits at once), which PID 1 needs: a signal
# without a handler is ignored there. It starts no child processes, so no init is needed to reap.
STOPSIGNAL SIGTERM
# It probes where the operator routes listen: ADMIN_HOST:ADMIN_PORT when ADMIN_PORT is set, else
# HOST:PORT, through loopback when that is every interface (the default).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "const v = (n) => process.env[n]?.trim(); const admin = v('ADMIN_PORT'); let host = (admin && v('ADMIN_HOST')) || v('HOST') || '0.0.0.0'; host = ['0.0.0.0', '::'].includes(host) ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host; fetch(`http://${host}:${admin || v('PORT') || 3000}/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/apps/gateway/src/main.js"]
