#!/usr/bin/env bash
# Runs the test suite on a fresh machine. It installs what the tests need when it can (Bun from the
# npm registry; openssl, Prometheus, Chromium, ShellCheck, wrk and the MariaDB server from Debian's
# packages, as root), starts a local MariaDB when none answers on the default address, then runs
# `bun run test`. The tests never skip: without a tool they fail and say which.
#
#   scripts/test.sh [bun test arguments]      e.g. scripts/test.sh src/collector
set -euo pipefail
cd "$(dirname "$0")/.."

# The Bun version package.json pins (packageManager), not whatever was released today.
[[ $(<package.json) =~ \"packageManager\":\ *\"bun@([0-9]+\.[0-9]+\.[0-9]+)\" ]] ||
  { echo "error: package.json does not pin Bun in packageManager" >&2; exit 1; }
bun_version=${BASH_REMATCH[1]}
if ! command -v bun >/dev/null 2>&1; then
  command -v npm >/dev/null 2>&1 || { echo "error: install Bun ${bun_version} (https://bun.sh) or Node.js with npm" >&2; exit 1; }
  npm install -g "bun@${bun_version}"
elif [ "$(bun --version)" != "${bun_version}" ]; then
  echo "warning: Bun $(bun --version) is installed; the project pins ${bun_version} (npm install -g bun@${bun_version})" >&2
fi

# command → Debian package providing it
declare -A packages=([openssl]=openssl [prometheus]=prometheus [promtool]=prometheus [chromium]=chromium [shellcheck]=shellcheck [node]=nodejs [wrk]=wrk [mariadbd]=mariadb-server [mariadb-install-db]=mariadb-server)
missing=()
for tool in "${!packages[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${packages[$tool]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${missing[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  else
    echo "error: the tests need these packages: ${missing[*]} (Debian/Ubuntu: apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

# The tests need a MySQL-compatible server on MYSQL_URL (default root@127.0.0.1:3306, no password).
if [ -z "${MYSQL_URL:-}" ] && ! mysqladmin --host=127.0.0.1 --user=root ping >/dev/null 2>&1; then
  if command -v mariadbd >/dev/null 2>&1; then
    echo "starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec "$(command -v mariadbd)"
    for _ in $(seq 1 60); do
      mysqladmin --host=127.0.0.1 --user=root ping >/dev/null 2>&1 && break
      sleep 1
    done
  fi
  mysqladmin --host=127.0.0.1 --user=root ping >/dev/null 2>&1 ||
    { echo "error: no MySQL/MariaDB answers on 127.0.0.1:3306 as root; start one or set MYSQL_URL" >&2; exit 1; }
fi

bun install --frozen-lockfile
bun run test "$@"
