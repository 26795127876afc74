# geofailover image, built from the packed package: exactly what `npm pack` ships, installed with the
# dependency versions of package-lock.json. glibc base: the Temporal SDK's native module does not support musl
# (Alpine). Node 22 LTS.
#
#   docker build --build-arg GEOFAILOVER_GIT_COMMIT=$(git rev-parse --short=12 HEAD) -t geofailover .

# Stage 1: compile and pack (prepack builds dist/: the compiled CLI, its command index, the workflow bundle).
FROM node:22-bookworm-slim AS pack
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json README.md geofailover.config.example.json ./
COPY bin ./bin
COPY schemas ./schemas
COPY scripts ./scripts
COPY src ./src
# No .git in the build context: the commit `geofailover --version` names comes from this argument.
ARG GEOFAILOVER_GIT_COMMIT=
RUN GEOFAILOVER_GIT_COMMIT="$GEOFAILOVER_GIT_COMMIT" npm pack --pack-destination /pack \
 && mv /pack/geofailover-*.tgz /pack/geofailover.tgz

# Stage 2: run time — the packed package and its production dependencies only: no sources, no compiler, no tsx.
FROM node:22-bookworm-slim
# redis-server is only needed by the emulator profile (drills without Azure).
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server ca-certificates \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/geofailover
COPY --from=pack /pack/geofailover.tgz /tmp/geofailover.tgz
COPY package-lock.json ./
RUN tar -xzf /tmp/geofailover.tgz --strip-components=1 \
 && npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && rm /tmp/geofailover.tgz \
 && ln -s /opt/geofailover/bin/geofailover.js /usr/local/bin/geofailover

# The drill writes its evidence package here (a bind mount in docker-compose).
WORKDIR /app
RUN mkdir -p /app/evidence && chown node:node /app/evidence

USER node
ENTRYPOINT ["geofailover"]
CMD ["worker"]
