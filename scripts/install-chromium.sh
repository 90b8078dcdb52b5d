#!/usr/bin/env bash
# Installs Debian's Chromium for the report tests (rendered headless through playwright-core).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "install-chromium: $(chromium --version 2>/dev/null | head -1)"
  exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium >/dev/null
echo "install-chromium: installed $(chromium --version 2>/dev/null | head -1)"
