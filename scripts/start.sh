#!/usr/bin/env bash
# Brings up the whole twitter-hashtags stack with Docker Compose, waits until every service is
# healthy, imports the Kibana saved objects and prints where everything is. Safe to run again:
# it keeps .env, rebuilds the app only when it changed, and re-imports the saved objects.
#
#   scripts/start.sh            start (or update) the stack
#   scripts/stop.sh             stop it, keeping the data;  scripts/stop.sh --purge  also deletes the data
#
# Settings come from .env (see stack.env.example); a variable set in the shell wins over .env, as it
# does for Docker Compose.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
  echo "error: $*" >&2
  exit 1
}

project=twitter-hashtags

command -v docker >/dev/null 2>&1 || die "Docker is not installed (https://docs.docker.com/get-docker/)."
docker compose version >/dev/null 2>&1 || die "Docker Compose v2 is missing: 'docker compose' must work (https://docs.docker.com/compose/install/)."
# --wait-timeout came with Compose 2.17; older versions stop at an unknown flag after building.
compose_version=$(docker compose version --short 2>/dev/null || true)
compose_version=${compose_version#v}
if [[ ! $compose_version =~ ^([0-9]+)\.([0-9]+) ]] ||
  ((BASH_REMATCH[1] < 2 || (BASH_REMATCH[1] == 2 && BASH_REMATCH[2] < 17))); then
  die "Docker Compose 2.17 or later is needed (found '${compose_version}'): https://docs.docker.com/compose/install/"
fi
docker info >/dev/null 2>&1 || die "the Docker engine does not answer: is it running, and may $(id -un) use it?"
command -v curl >/dev/null 2>&1 || die "curl is needed to import the Kibana saved objects."

touch .env
chmod 600 .env
# A .env written by hand may lack its final newline: without one, the next line appended would run
# into its last line.
if [[ -s .env && -n "$(tail -c 1 .env)" ]]; then echo >>.env; fi

# The value of a setting: from the shell when set there, else the last assignment in .env (quotes
# around it removed, as Compose does), else the default given.
setting() {
  local value
  if [[ -n "${!1-}" ]]; then
    echo "${!1}"
    return
  fi
  value=$(grep -E "^$1=" .env | tail -n 1 | cut -d= -f2-) || true
  value=${value%$'\r'}
  if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
  echo "${value:-$2}"
}

mysql_user=$(setting MYSQL_USER twitter)
[[ $mysql_user != root ]] ||
  die "MYSQL_USER=root in .env: the mysql image refuses it (root is the account of MYSQL_ROOT_PASSWORD). Remove the line or name another account; stack.env.example lists what the stack reads."
start_timeout=$(setting START_TIMEOUT 900)
[[ $start_timeout =~ ^[1-9][0-9]*$ ]] || die "START_TIMEOUT must be a number of seconds, got '${start_timeout}'."

# Variables of the bare service (.env.example) that the stack fixes or does not pass: say so rather
# than let them look as if they had an effect.
ignored=()
for name in PORT HOST MYSQL_URL MYSQL_HOST MYSQL_PORT LOGSTASH_HOST LOGSTASH_PORT TWITTER_API_CA_FILE; do
  if grep -qE "^${name}=" .env; then ignored+=("$name"); fi
done
if ((${#ignored[@]} > 0)); then
  echo "note: the stack ignores ${ignored[*]} from .env (fixed by docker-compose.yml or not passed to the app; see stack.env.example)."
fi

# Credentials live in .env (ignored by git). Missing ones get random values, once. MySQL and Grafana
# store the passwords of their first start in their volumes: generating new ones while those volumes
# exist would lock the app out of MySQL ("Access denied", and `up --wait` would wait for nothing).
random_secret() {
  if command -v openssl >/dev/null 2>&1; then openssl rand -hex 16; else head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; fi
}
missing=()
for name in MYSQL_PASSWORD MYSQL_ROOT_PASSWORD GRAFANA_ADMIN_PASSWORD; do
  if ! grep -qE "^${name}=.+" .env; then missing+=("$name"); fi
done
if ((${#missing[@]} > 0)); then
  volumes=$(docker volume ls --quiet --filter "label=com.docker.compose.project=${project}") ||
    die "could not list the Docker volumes of ${project}."
  kept=()
  for name in "${missing[@]}"; do
    case $name in
      MYSQL_*) volume=${project}_mysql-data ;;
      GRAFANA_*) volume=${project}_grafana-data ;;
    esac
    if grep -qxF "$volume" <<<"$volumes"; then kept+=("${name} (volume ${volume})"); fi
  done
  if ((${#kept[@]} > 0)); then
    die "$(printf '%s\n' \
      "${missing[*]} missing from .env, but the data of an earlier start is still there: ${kept[*]}." \
      "That volume keeps the password it was created with; a new one would be refused. Either restore the" \
      ".env of that start (or put its passwords back in), or delete the data and start from scratch:" \
      "scripts/stop.sh --purge && scripts/start.sh")"
  fi
  for name in "${missing[@]}"; do
    sed -i.bak "/^${name}=/d" .env && rm -f .env.bak
    echo "${name}=$(random_secret)" >>.env
    echo "generated ${name} in .env"
  done
fi
if [[ -z "$(setting TWITTER_BEARER_TOKEN '')" ]]; then
  echo "note: TWITTER_BEARER_TOKEN is not set in .env: the service will load its bundled sample data (synthetic tweets)."
fi

# The containers read the mounted files as their own users (mysql, logstash 1000, grafana 472,
# prometheus nobody), whatever the umask of the checkout made of them.
chmod -R a+rX provisioning sql ||
  die "could not make provisioning/ and sql/ readable for the containers (chmod -R a+rX provisioning sql)."

echo "building and starting the stack (the first run downloads the images; allow several minutes)"
docker compose up --detach --build --wait --wait-timeout "$start_timeout"

# Where Docker bound a service's port on the host (host:port), or the configured one if it does not say.
bound() {
  local address
  address=$(docker compose port "$1" "$2" 2>/dev/null | head -n 1) || true
  echo "${address:-127.0.0.1:$3}"
}
api=$(bound app 5000 "$(setting API_PORT 5000)")
kibana=$(bound kibana 5601 5601)
grafana=$(bound grafana 3000 3000)
prometheus=$(bound prometheus 9090 9090)
mysql=$(bound mysql 3306 "$(setting MYSQL_HOST_PORT 13306)")

echo "waiting for Kibana"
for _ in $(seq 1 120); do
  if curl -fs "http://$kibana/api/status" | grep -q '"level":"available"'; then break; fi
  sleep 5
done
curl -fs "http://$kibana/api/status" | grep -q '"level":"available"' || die "Kibana is not available at http://$kibana: see 'docker compose logs kibana'."

# The import API answers 200 even when objects fail: the body says "success": false and lists them
# under "errors" (https://www.elastic.co/guide/en/kibana/8.19/saved-objects-api-import.html).
echo "importing the Kibana saved objects"
objects=provisioning/kibana/saved-objects.ndjson
answer=$(curl -fsS -X POST "http://$kibana/api/saved_objects/_import?overwrite=true" -H 'kbn-xsrf: true' \
  --form "file=@$objects") ||
  die "importing $objects into Kibana failed."
if ! grep -qE '"success" *: *true' <<<"$answer"; then
  errors=$(sed -nE 's/.*"errors" *: *(\[.*\]).*/\1/p' <<<"$answer")
  die "Kibana did not import all of $objects: ${errors:-$answer}"
fi

data_view=$(grep -m 1 '"type": *"index-pattern"' "$objects" | sed -nE 's/.*"name": *"([^"]*)".*/\1/p')
grafana_user=$(setting GRAFANA_ADMIN_USER admin)
cat <<TEXT

twitter-hashtags is up.
  API          http://${api}/api/v1/resources/tweets/all
  Swagger UI   http://${api}/swagger
  Metrics      http://${api}/metrics
  Kibana       http://${kibana}   (Discover: data view "${data_view}"; dashboard "twitter-hashtags")
  Grafana      http://${grafana}   (dashboard "Twitter hashtags API"; user ${grafana_user}, password: GRAFANA_ADMIN_PASSWORD in .env)
  Prometheus   http://${prometheus}   (alerts under /alerts)
  MySQL        ${mysql}     (user ${mysql_user}, password: MYSQL_PASSWORD in .env)
Credentials are in .env; the X API token goes there too (TWITTER_BEARER_TOKEN), then run this script again.
Stop: scripts/stop.sh (keeps the data) or scripts/stop.sh --purge (deletes it).
TEXT
