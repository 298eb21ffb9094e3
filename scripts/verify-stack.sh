#!/usr/bin/env bash
# Checks the running twitter-hashtags stack end to end (run it after scripts/start.sh): the API
# serves data, Prometheus scrapes the app and loaded every alert rule, Grafana's datasource is
# healthy and its dashboard provisioned, Logstash's pipeline runs and passes events, today's
# Elasticsearch index holds the access lines mapped as the index template says, and Kibana holds
# the data view and the saved objects. One line per check (ok / FAILED and why); exits 1 naming
# what failed. The checks are scripts/verify-stack.ts, run with Bun (no jq needed).
#
#   scripts/verify-stack.sh
#   VERIFY_TIMEOUT=120 VERIFY_REQUEST_TIMEOUT=10 scripts/verify-stack.sh     slower machines
#   GRAFANA_URL=http://grafana.internal:3000 scripts/verify-stack.sh        any URL can be overridden
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v bun >/dev/null 2>&1; then
  echo "error: verify-stack needs Bun (https://bun.sh) to read the answers (JSON); install it and run again." >&2
  exit 2
fi
exec bun scripts/verify-stack.ts "$@"
