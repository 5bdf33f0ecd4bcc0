#!/usr/bin/env bash
# The end-to-end test drives Debian's Chromium through Playwright (no browser download:
# Playwright's own browsers are not reachable here). Install it once if it is missing.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null
  else
    echo "chromium is missing and this user cannot apt-get; the browser test will be skipped" >&2
  fi
fi
