#!/usr/bin/env bash
# The test scripts themselves: under pipefail, a pipeline whose reader stops early (`grep -q`,
# `head`) fails at random when the writer writes once more and dies of SIGPIPE. That made
# integration.reconfigure fail in CI once. Tests test with `seen` (lib.sh), which reads all of its
# input; `head` only inside $(...) in a failure message, where the status is not looked at.
. "$(dirname "$0")/lib.sh"

bad=$(cd "$ACMED_SOURCE_DIR/tests/integration" \
  && grep -nE '\|[[:space:]]*(grep[[:space:]]+(-[A-Za-z]*q|--quiet)|head\b)' -- *.sh \
  | grep -vE '^[^:]+:[0-9]+:[[:space:]]*#|^test_scripts_pipes\.sh:|\$\([^)]*\|[[:space:]]*head\b' || true)
[ -z "$bad" ] || fail "early-exit readers in pipelines (use seen, or sed -n 1p):
$bad"
echo "ok: no pipeline in tests/integration ends in grep -q or head"
