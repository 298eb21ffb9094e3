#!/usr/bin/env bash
# Brings up the whole twitter-hashtags stack with Docker Compose, waits until every service is
# healthy, imports the Kibana saved objects and prints where everything is. Safe to run again:
# it keeps .env, rebuilds the app only when it changed, and re-imports the saved objects.
#
#   scripts/start.sh            start (or update) the stack
#   scripts/stop.sh             stop it, keeping the data;  scripts/stop.sh --purge  also deletes the data
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
  echo "error: $*" >&2
  exit 1
}

command -v docker >/dev/null 2>&1 || die "Docker is not installed (https://docs.docker.com/get-docker/)."
docker compose version >/dev/null 2>&1 || die "Docker Compose v2 is missing: 'docker compose' must work (https://docs.docker.com/compose/install/)."
docker info >/dev/null 2>&1 || die "the Docker engine does not answer: is it running, and may $(id -un) use it?"
command -v curl >/dev/null 2>&1 || die "curl is needed to import the Kibana saved objects."

# Credentials live in .env (ignored by git). Missing ones get random values, once.
random_secret() {
  if command -v openssl >/dev/null 2>&1; then openssl rand -hex 16; else head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; fi
}
touch .env
chmod 600 .env
for name in MYSQL_PASSWORD MYSQL_ROOT_PASSWORD GRAFANA_ADMIN_PASSWORD; do
  if ! grep -qE "^${name}=.+" .env; then
    sed -i.bak "/^${name}=/d" .env && rm -f .env.bak
    echo "${name}=$(random_secret)" >>.env
    echo "generated ${name} in .env"
  fi
done
if ! grep -qE '^TWITTER_BEARER_TOKEN=.+' .env; then
  echo "note: TWITTER_BEARER_TOKEN is not set in .env: the service will load its bundled sample data (synthetic tweets)."
fi

echo "building and starting the stack (the first run downloads the images; allow several minutes)"
docker compose up --detach --build --wait --wait-timeout "${START_TIMEOUT:-900}"

kibana=http://127.0.0.1:5601
echo "waiting for Kibana"
for _ in $(seq 1 120); do
  if curl -fs "$kibana/api/status" | grep -q '"level":"available"'; then break; fi
  sleep 5
done
curl -fs "$kibana/api/status" | grep -q '"level":"available"' || die "Kibana is not available at $kibana: see 'docker compose logs kibana'."

echo "importing the Kibana saved objects"
curl -fsS -X POST "$kibana/api/saved_objects/_import?overwrite=true" -H 'kbn-xsrf: true' \
  --form file=@provisioning/kibana/saved-objects.ndjson >/dev/null ||
  die "importing provisioning/kibana/saved-objects.ndjson into Kibana failed."

# A value from .env, or a default.
env_value() {
  local value
  value=$(grep -E "^$1=" .env | tail -n 1 | cut -d= -f2-)
  echo "${value:-$2}"
}
api_port=$(env_value API_PORT 5000)
mysql_port=$(env_value MYSQL_HOST_PORT 13306)
cat <<TEXT

twitter-hashtags is up.
  API          http://localhost:${api_port}/api/v1/resources/tweets/all
  Swagger UI   http://localhost:${api_port}/swagger
  Metrics      http://localhost:${api_port}/metrics
  Kibana       http://localhost:5601   (Discover: data view "twitter-hashtags-*"; dashboard "twitter-hashtags")
  Grafana      http://localhost:3000   (dashboard "Twitter hashtags API"; user admin, password: GRAFANA_ADMIN_PASSWORD in .env)
  Prometheus   http://localhost:9090   (alerts under /alerts)
  MySQL        127.0.0.1:${mysql_port}     (user twitter, password: MYSQL_PASSWORD in .env)
Credentials are in .env; the X API token goes there too (TWITTER_BEARER_TOKEN), then run this script again.
Stop: scripts/stop.sh (keeps the data) or scripts/stop.sh --purge (deletes it).
TEXT
