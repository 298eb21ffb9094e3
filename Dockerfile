# syntax=docker/dockerfile:1
# twitter-hashtags on the official Bun image: dependencies installed in one stage (production only,
# from the frozen lockfile), copied into a clean runtime stage that runs as the image's non-root user.
ARG BUN_VERSION=1.4.5

FROM oven/bun:${BUN_VERSION}-slim AS dependencies
WORKDIR /app
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile --production --ignore-scripts

FROM oven/bun:${BUN_VERSION}-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    SERVICE_ENVIRONMENT=production \
    PORT=5000
COPY --from=dependencies --chown=bun:bun /app/node_modules ./node_modules
COPY --chown=bun:bun package.json bun.lock tsconfig.json ./
COPY --chown=bun:bun sql ./sql
COPY --chown=bun:bun src ./src
USER bun
EXPOSE 5000
HEALTHCHECK --interval=10s --timeout=5s --start-period=90s --retries=3 CMD ["bun", "src/healthcheck.ts"]
CMD ["bun", "src/index.ts"]
