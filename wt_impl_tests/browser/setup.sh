#!/usr/bin/env bash
# Installs what the browser tests need: Debian's chromium and firefox-esr,
# Node.js with npm, and the drivers playwright-core and puppeteer-core
# (pinned in package-lock.json). Quiet when all is there.
set -euo pipefail
cd "$(dirname "$0")"
# by command: some images' nodejs package brings npm itself
need=""
command -v chromium >/dev/null 2>&1 || need="$need chromium"
command -v firefox-esr >/dev/null 2>&1 || need="$need firefox-esr"
command -v node >/dev/null 2>&1 || need="$need nodejs"
command -v npm >/dev/null 2>&1 || need="$need npm"
# (waits for another apt or dpkg run instead of failing)
[ -z "$need" ] || bash ../../tools/apt-install.sh $need
if [ ! -f node_modules/playwright-core/package.json ] || [ ! -f node_modules/puppeteer-core/package.json ] ||
   [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "browser tests: npm ci (playwright-core, puppeteer-core)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
