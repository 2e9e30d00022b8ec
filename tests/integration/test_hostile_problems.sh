#!/usr/bin/env bash
# A hostile CA's problem documents: ESC/BEL/CR/NUL/C1/bidi and a forged hint line, an 879 KB detail, 5,000 subproblems, subproblems nested 8,000 deep.
# Every refusal: non-zero exit, one escaped line, within a bound of seconds, nothing written
# outside the acmed dirs (also through planted symlinks), no process left, lineage byte-identical
# (tests/integration/hostile_lib.sh; the server is tests/support/hostile_acme.cpp).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
hostile_setup

hostile_refused problem-escape "the CA refused: .*x1b\[2J.*\\\\x07.*\\\\x0d.*\\\\u\{202e\}.*\\\\x00.*\\\\x0ahint: curl"
hostile_refused problem-huge "the CA refused: .*\([0-9]+ more bytes\)"
[ "$(stat -c %s "$H/logs/letsencrypt.log")" -lt $((200 * 1024)) ] || fail "the log grew past 200 KB"
hostile_refused problem-many-subproblems "x.example: no .*and 4995 more"
hostile_refused problem-deep-subproblems "HTTP 403 .*nested more than 64 levels deep"
