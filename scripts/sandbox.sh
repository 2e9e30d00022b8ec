#!/usr/bin/env bash
# The local sandbox: builds acmed, starts a real ACME CA (Pebble, Let's Encrypt's test server)
# with its DNS stand-in, and an nginx serving a demo site for demo.acmed.test on 127.0.0.1:80;
# then runs `acmed --nginx -d demo.acmed.test` against them and shows the site answering over
# HTTPS with the issued certificate and the redirect on port 80. Everything it starts is stopped
# at the end; nothing outside a temporary directory is touched. Needs root (ports 80/443).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
cmake -S . -B build -G Ninja -DACMED_TESTS=OFF >/dev/null
cmake --build build -j "$(nproc)" --target acmed

export ACMED_BIN="$PWD/build/src/acmed"
. tests/integration/lib.sh
exec bash tests/integration/sandbox_demo.sh
