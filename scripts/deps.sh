#!/usr/bin/env bash
# Installs everything acmed needs to build and test, from Debian 12's own packages.
# Needs root (apt-get). Safe to run again.
set -euo pipefail

packages=(
  # build
  g++ cmake ninja-build pkg-config
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libcli11-dev libspdlog-dev doctest-dev
  libldns-dev
  # tests: a real CA, real web servers, and the tools the scripts use
  pebble nginx apache2 curl openssl ca-certificates iproute2 procps libnss3-tools python3
  chromium systemd default-jre-headless nodejs
  # fuzzing (scripts/fuzz.sh): clang with libFuzzer and the sanitizer runtimes
  clang-14 libclang-rt-14-dev
  # dns-01: a real BIND 9 (named, nsupdate, dig); certbot's dns-rfc2136 for the renewal-conf
  # fixture and the benchmark only
  bind9 bind9-dnsutils bind9-utils certbot python3-certbot-dns-rfc2136
  # the .deb (cpack runs dpkg-shlibdeps and file) and its test: lintian, man, the shells
  dpkg-dev file lintian man-db bash-completion zsh
  # migrate --from lego: Debian's lego obtains the certificates that are imported
  lego
  # monitoring: promtool checks the metrics file and the example alert rules
  prometheus
  # fleet mode: a real etcd v3 cluster (etcd, etcdctl); faketime runs a node with a skewed clock
  etcd-server etcd-client faketime
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "acmed: missing packages: ${missing[*]}; run this script as root to install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The local-CA tests run update-ca-certificates on a scratch root with --sysroot, which Debian 12's
# ca-certificates has only from 20250419~deb12u2 (bookworm-security) on: take the newest one.
if [ "$(id -u)" -eq 0 ] && ! grep -q -- '--sysroot' "$(command -v update-ca-certificates)"; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends --only-upgrade ca-certificates >/dev/null
fi

# The distribution's own services must not hold ports during the tests (nginx/apache 80 and 443,
# named 53, prometheus 9090: only its promtool is used).
if [ "$(id -u)" -eq 0 ]; then
  for svc in nginx apache2 named prometheus; do
    service "$svc" stop >/dev/null 2>&1 || true
  done
fi
