#!/usr/bin/env bash
# Installs everything the tests need (Mesa lavapipe where no Vulkan driver exists, Chromium for the
# report tests, npm packages),
# then builds, type-checks and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-lavapipe.sh
bash scripts/install-chromium.sh
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/roofcast-xdg}"
mkdir -p "$XDG_RUNTIME_DIR"
npm ci --no-audit --no-fund
npm run typecheck
npm test
