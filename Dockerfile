# geofailover worker image. glibc base: the Temporal SDK's native module does not support musl (Alpine).
FROM node:20-bookworm-slim

# redis-server is only needed by the emulator profile (drills without Azure).
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server ca-certificates \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY schemas ./schemas
COPY tsconfig.json geofailover.config.example.json ./
# The drill writes its evidence package here (a bind mount in docker-compose).
RUN mkdir -p /app/evidence && chown node:node /app/evidence

USER node
ENTRYPOINT ["node", "bin/geofailover.js"]
CMD ["worker"]
