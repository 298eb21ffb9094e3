#!/usr/bin/env bash
# Stops the twitter-hashtags stack.
#   scripts/stop.sh           stop and remove the containers; the data volumes stay
#   scripts/stop.sh --purge   also delete the data: MySQL, Elasticsearch, Prometheus and Grafana volumes
set -euo pipefail
cd "$(dirname "$0")/.."
command -v docker >/dev/null 2>&1 || { echo "error: Docker is not installed." >&2; exit 1; }
case "${1:-}" in
  --purge) docker compose down --volumes --remove-orphans ;;
  "") docker compose down --remove-orphans ;;
  *) echo "usage: scripts/stop.sh [--purge]" >&2; exit 2 ;;
esac
