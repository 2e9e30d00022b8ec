#!/usr/bin/env bash
# The .deb, as a sysadmin gets it: cpack builds it from this build tree with Depends computed by
# dpkg-shlibdeps, lintian finds nothing, `apt-get install ./acmed_*.deb` gives /usr/bin/acmed,
# acmed(1) (whose flags are exactly the program's), bash and zsh completions and units that
# systemd-analyze accepts. The timer is enabled on first install only when no other ACME client
# renews here, an upgrade keeps the admin's choice, and removal leaves /etc/letsencrypt alone.
# Installs into the system and changes certbot's timer for a moment: root only (CI), restored
# at exit; runs in the release build only (label package; an ASan binary is not a package).
. "$(dirname "$0")/lib.sh"
exclusive_system_resources

[ "$(id -u)" = 0 ] || skip "installs a package: needs root (CI runs as root)"
need cpack lintian dpkg-deb apt-get man systemd-analyze zsh certbot
if dpkg-query -W -f='${Status}' acmed 2>/dev/null | seen "install ok installed"; then
  fail "a package called acmed is installed already; this test installs and removes its own"
fi
BUILD=$(cd "$(dirname "$ACMED_BIN")/.." && pwd)

# Put back what the test changes: certbot's timer and cron file, a package left installed.
certbot_timer=$(systemctl is-enabled certbot.timer 2>/dev/null || true)
restore() {
  dpkg --purge acmed >/dev/null 2>&1 || true
  [ -f "$TEST_DIR/cron.certbot" ] && mv "$TEST_DIR/cron.certbot" /etc/cron.d/certbot
  if [ "$certbot_timer" = enabled ]; then
    systemctl enable --quiet certbot.timer 2>/dev/null || true
  else
    systemctl disable --quiet certbot.timer 2>/dev/null || true
  fi
}
on_exit restore
install_deb() {
  apt-get install -y -q --no-install-recommends "$@" "$DEB" >"$TEST_DIR/apt.log" 2>&1 \
    || { cat "$TEST_DIR/apt.log" >&2; fail "apt-get install $DEB"; }
}
timer_state() { systemctl is-enabled acmed.timer 2>/dev/null || true; }

log "acmed completion: an unknown shell is a usage error"
expect_fail "$ACMED_BIN" completion fish
[ "$LAST_RC" = 2 ] || fail "completion fish: exit $LAST_RC"

log "cpack builds acmed_<version>_<arch>.deb, Depends from dpkg-shlibdeps"
cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$TEST_DIR/pkg" >"$TEST_DIR/cpack.log" 2>&1 \
  || { cat "$TEST_DIR/cpack.log" >&2; fail "cpack"; }
DEB=$(ls "$TEST_DIR"/pkg/acmed_*.deb)
version=$("$ACMED_BIN" --version | awk '{print $2}')
[ "$(basename "$DEB")" = "acmed_${version}_$(dpkg --print-architecture).deb" ] || fail "file name $(basename "$DEB")"
depends=$(dpkg-deb -f "$DEB" Depends)
for lib in libc6 libcurl4 libssl3 libldns3 libstdc++6; do
  echo "$depends" | seen "$lib" || fail "Depends lacks $lib: $depends"
done

log "lintian: no error, no warning"
lintian --fail-on error,warning "$DEB" >"$TEST_DIR/lintian.log" 2>&1 \
  || { cat "$TEST_DIR/lintian.log" >&2; fail "lintian"; }

# /etc/letsencrypt must come out of install and removal byte for byte.
mkdir -p /etc/letsencrypt
before=$(tree_digest /etc/letsencrypt)

log "certbot's timer is enabled: installing does not enable acmed.timer, and says why"
systemctl enable --quiet certbot.timer
install_deb
grep -q "another ACME client renews here (certbot.timer)" "$TEST_DIR/apt.log" \
  || { cat "$TEST_DIR/apt.log" >&2; fail "no word about certbot's timer"; }
[ "$(timer_state)" = disabled ] || fail "acmed.timer is $(timer_state) next to certbot's"

log "what the package installed"
[ "$(/usr/bin/acmed --version)" = "acmed $version" ] || fail "/usr/bin/acmed --version"
[ "$(man -w acmed)" = /usr/share/man/man1/acmed.1.gz ] || fail "man -w acmed: $(man -w acmed)"
out=$(cd /lib/systemd/system && systemd-analyze verify --man=no acmed.service acmed.timer acmed-fleet-agent.service 2>&1) \
  || { echo "$out" >&2; fail "systemd-analyze verify on the installed units"; }
grep -qx "ExecStart=/usr/bin/acmed renew -q" /lib/systemd/system/acmed.service || fail "ExecStart"

log "the man page lists exactly the commands and flags acmed accepts"
# Every command's --help (CLI11's own rendering of the definition), recursively (at most three
# levels; a command listed with aliases, "certonly, auth", is followed by its first name).
help_of() {
  local help
  help=$(/usr/bin/acmed "$@" --help)
  echo "$help"
  [ $# -lt 3 ] || return 0
  local sub
  for sub in $(echo "$help" | awk '/^Subcommands:/{on=1; next}
      on && /^  [a-z]/{n=$1; sub(/,$/, "", n); print n} on && /^$/{on=0}'); do
    echo "COMMAND $* $sub"
    help_of "$@" "$sub"
  done
}
help_of >"$TEST_DIR/help.txt"
grep -o -- '--[a-z0-9][a-z0-9-]*' "$TEST_DIR/help.txt" | sort -u >"$TEST_DIR/help.flags"
zcat /usr/share/man/man1/acmed.1.gz | sed 's/\\-/-/g' >"$TEST_DIR/acmed.1"
# Flags in the generated part (after .SH COMMANDS, before .SH FILES).
sed -n '/^\.SH COMMANDS/,/^\.SH FILES/p' "$TEST_DIR/acmed.1" | grep -o -- '--[a-z0-9][a-z0-9-]*' \
  | sort -u >"$TEST_DIR/man.flags"
diff "$TEST_DIR/help.flags" "$TEST_DIR/man.flags" >&2 || fail "man page and --help differ in flags (< --help, > man)"
[ "$(wc -l <"$TEST_DIR/help.flags")" -gt 50 ] || fail "too few flags found: $(wc -l <"$TEST_DIR/help.flags")"
grep -o '^COMMAND .*' "$TEST_DIR/help.txt" | sed 's/^COMMAND  *//' | while read -r cmd; do
  grep -qx "\.SS \"acmed $cmd\"" "$TEST_DIR/acmed.1" || fail "the man page has no section for 'acmed $cmd'"
done

log "bash completion: commands, flags, lineage names, choices"
conf="$TEST_DIR/conf"
mkdir -p "$conf/renewal" && touch "$conf/renewal/site.example.conf" "$conf/renewal/other.test.conf"
complete_words() {  # WORD... (the last is the one being completed)
  bash -c 'source /usr/share/bash-completion/completions/acmed
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _acmed; printf "%s\n" "${COMPREPLY[@]}"' _ "$@"
}
# (Output into a variable first: grep -q would close the pipe early, and pipefail would see it.)
has_completion() {  # EXPECTED WORD...
  local expected=$1 out
  shift
  out=$(complete_words "$@")
  grep -qx -- "$expected" <<<"$out" || fail "'$*' does not complete to $expected (got: $out)"
}
has_completion certonly acmed cert
has_completion --cert-name acmed certonly --cert-na
has_completion cert acmed local ce
[ "$(complete_words acmed --config-dir "$conf" renew --cert-name s)" = site.example ] \
  || fail "lineage names: $(complete_words acmed --config-dir "$conf" renew --cert-name s)"
[ "$(complete_words acmed certonly --key-type "" | sort | tr '\n' ' ')" = "ecdsa rsa " ] \
  || fail "key types: $(complete_words acmed certonly --key-type "")"
zsh -n /usr/share/zsh/vendor-completions/_acmed || fail "the zsh completion does not parse"
grep -q "'\*--cert-name\[.*:_acmed_lineages'" /usr/share/zsh/vendor-completions/_acmed \
  || fail "zsh: --cert-name does not complete lineages"

log "an upgrade keeps the admin's choice; removal leaves /etc/letsencrypt alone"
install_deb --reinstall
[ "$(timer_state)" = disabled ] || fail "a reinstall enabled the timer"
apt-get remove -y -q acmed >"$TEST_DIR/apt.log" 2>&1 || { cat "$TEST_DIR/apt.log" >&2; fail "remove"; }
[ ! -e /usr/bin/acmed ] || fail "/usr/bin/acmed is still there"
[ "$(tree_digest /etc/letsencrypt)" = "$before" ] || fail "/etc/letsencrypt changed"
dpkg --purge acmed >/dev/null

log "no other ACME client: installing enables acmed.timer; purge removes the link"
systemctl disable --quiet certbot.timer
[ -f /etc/cron.d/certbot ] && mv /etc/cron.d/certbot "$TEST_DIR/cron.certbot"
install_deb
[ "$(timer_state)" = enabled ] || { cat "$TEST_DIR/apt.log" >&2; fail "acmed.timer is $(timer_state) with no other client"; }
systemctl disable --quiet acmed.timer
install_deb --reinstall
[ "$(timer_state)" = disabled ] || fail "a reinstall re-enabled a timer the admin disabled"
dpkg --purge acmed >"$TEST_DIR/apt.log" 2>&1 || { cat "$TEST_DIR/apt.log" >&2; fail "purge"; }
[ ! -e /etc/systemd/system/timers.target.wants/acmed.timer ] || fail "the timer link outlived purge"
[ "$(tree_digest /etc/letsencrypt)" = "$before" ] || fail "/etc/letsencrypt changed"
echo "PASS"
