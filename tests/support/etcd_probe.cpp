// etcd_probe: drives the fleet module's etcd client (and sealed values) from shell scripts, for
// tests/integration/test_fleet_etcd.sh against a real etcd cluster.
//
//   etcd_probe --endpoints URL[,URL...] [--cacert F] [--cert F] [--key F] [--timeout-ms N]
//              [--stats 1] CMD...
//
//   put KEY VALUE               sets KEY
//   get KEY                     prints KEY's value as it is stored (raw bytes, no newline)
//   txn-create KEY VALUE        puts KEY only if it does not exist: prints "created" or "exists"
//   lease-put KEY VALUE TTL     grants a lease of TTL seconds, puts KEY bound to it, prints its ID
//   keepalive LEASE             renews the lease once, prints its TTL
//   revoke LEASE                revokes the lease (its keys are deleted)
//   copy FROM TO                puts FROM's stored value (a sealed box, say) under TO
//   gen-key FILE                writes a new fleet key file
//   seal-put KEYFILE KEY FILE   puts the bytes of FILE under KEY, sealed with the fleet key
//   open-get KEYFILE KEY        prints the opened value of KEY (raw bytes)
//
// Exit status: 0 done; 3 the key does not exist (get, copy, open-get); 75 a temporary failure
// (is_temporary: etcd unreachable, no leader); 2 bad arguments; 1 any other error. Errors are
// one line "etcd_probe: error: ..." on stderr (and a "hint: " line when there is one). With
// --stats 1, a last line on stderr: "etcd_probe: stats: calls=N requests=N failovers=N
// endpoint=URL" (the client's EtcdStats and the endpoint that answered last).
#include "acmed/crypto/aead.hpp"
#include "acmed/fleet/etcd.hpp"
#include "acmed/fleet/key_file.hpp"
#include "acmed/sys/fs.hpp"

#include <charconv>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

using namespace acmed;

namespace {

constexpr int k_exit_failure = 1;
constexpr int k_exit_usage = 2;
constexpr int k_exit_no_key = 3;
constexpr int k_exit_temporary = 75;

int report(const Error& error) {
  std::fprintf(stderr, "etcd_probe: error: %s\n", error.describe().c_str());
  if (!error.hint.empty()) std::fprintf(stderr, "hint: %s\n", error.hint.c_str());
  return is_temporary(error.code) ? k_exit_temporary : k_exit_failure;
}

int usage(const std::string& why) {
  std::fprintf(stderr, "etcd_probe: %s (see the comment at the top of etcd_probe.cpp)\n",
               why.c_str());
  return k_exit_usage;
}

std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    out.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::optional<std::int64_t> number(std::string_view text) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

void print_raw(std::string_view bytes) {
  std::fwrite(bytes.data(), 1, bytes.size(), stdout);
  std::fflush(stdout);
}

// The stored value of `key`, or nullopt (after a message) when it does not exist.
Result<std::optional<std::string>> stored(fleet::EtcdClient& etcd, const std::string& key) {
  ACMED_TRY(fleet::RangeResponse r, etcd.range({key, "", 0}));
  if (r.kvs.empty()) {
    std::fprintf(stderr, "etcd_probe: no such key: %s\n", key.c_str());
    return std::optional<std::string>();
  }
  return std::optional<std::string>(std::move(r.kvs[0].value));
}

int run(fleet::EtcdClient& etcd, const std::vector<std::string>& args) {
  const std::string& cmd = args[0];
  auto want = [&](std::size_t n) { return args.size() == n + 1; };
  if (cmd == "put" && want(2)) {
    auto r = etcd.put({args[1], args[2], 0});
    return r ? 0 : report(r.error());
  }
  if (cmd == "get" && want(1)) {
    auto v = stored(etcd, args[1]);
    if (!v) return report(v.error());
    if (!*v) return k_exit_no_key;
    print_raw(**v);
    return 0;
  }
  if (cmd == "txn-create" && want(2)) {
    fleet::TxnRequest t;
    t.compare.push_back(
        {args[1], fleet::CompareTarget::create_revision, fleet::CompareOp::equal, 0, ""});
    t.success.push_back(fleet::PutRequest{args[1], args[2], 0});
    auto r = etcd.txn(t);
    if (!r) return report(r.error());
    std::puts(r->succeeded ? "created" : "exists");
    return 0;
  }
  if (cmd == "lease-put" && want(3)) {
    auto ttl = number(args[3]);
    if (!ttl) return usage("TTL is not a number: " + args[3]);
    auto lease = etcd.grant_lease(*ttl);
    if (!lease) return report(lease.error());
    auto r = etcd.put({args[1], args[2], lease->id});
    if (!r) return report(r.error());
    std::printf("%lld\n", static_cast<long long>(lease->id));
    return 0;
  }
  if (cmd == "keepalive" && want(1)) {
    auto id = number(args[1]);
    if (!id) return usage("LEASE is not a number: " + args[1]);
    auto ttl = etcd.keep_alive(*id);
    if (!ttl) return report(ttl.error());
    std::printf("%lld\n", static_cast<long long>(*ttl));
    return 0;
  }
  if (cmd == "revoke" && want(1)) {
    auto id = number(args[1]);
    if (!id) return usage("LEASE is not a number: " + args[1]);
    auto r = etcd.revoke_lease(*id);
    return r ? 0 : report(r.error());
  }
  if (cmd == "copy" && want(2)) {
    auto v = stored(etcd, args[1]);
    if (!v) return report(v.error());
    if (!*v) return k_exit_no_key;
    auto r = etcd.put({args[2], **v, 0});
    return r ? 0 : report(r.error());
  }
  if (cmd == "seal-put" && want(3)) {
    auto key = fleet::read_fleet_key(args[1]);
    if (!key) return report(key.error());
    auto plain = sys::read_file(args[3]);
    if (!plain) return report(plain.error());
    auto box = crypto::seal(*key, *plain, args[2]);
    if (!box) return report(box.error());
    auto r = etcd.put({args[2], *box, 0});
    return r ? 0 : report(r.error());
  }
  if (cmd == "open-get" && want(2)) {
    auto key = fleet::read_fleet_key(args[1]);
    if (!key) return report(key.error());
    auto v = stored(etcd, args[2]);
    if (!v) return report(v.error());
    if (!*v) return k_exit_no_key;
    auto plain = crypto::open(*key, **v, args[2]);
    if (!plain) return report(std::move(plain).error().with_context("while opening " + args[2]));
    print_raw(*plain);
    return 0;
  }
  return usage("unknown command or wrong number of arguments: " + cmd);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 2 && args[0] == "gen-key") {
    auto r = fleet::generate_fleet_key(args[1]);
    return r ? 0 : report(r.error());
  }
  fleet::EtcdOptions options;
  bool stats = false;
  std::size_t i = 0;
  for (; i + 1 < args.size() && args[i].rfind("--", 0) == 0; i += 2) {
    const std::string& flag = args[i];
    const std::string& value = args[i + 1];
    if (flag == "--endpoints") {
      options.endpoints = split_commas(value);
    } else if (flag == "--cacert") {
      options.ca_file = value;
    } else if (flag == "--cert") {
      options.client_cert = value;
    } else if (flag == "--key") {
      options.client_key = value;
    } else if (flag == "--stats") {
      stats = value == "1";
    } else if (flag == "--timeout-ms") {
      auto ms = number(value);
      if (!ms || *ms <= 0) return usage("--timeout-ms is not a positive number: " + value);
      options.request_timeout = std::chrono::milliseconds(*ms);
    } else {
      return usage("unknown option " + flag);
    }
  }
  args.erase(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(i));
  if (args.empty()) return usage("no command");
  auto etcd = fleet::EtcdClient::open(std::move(options));
  if (!etcd) return report(etcd.error());
  const int rc = run(*etcd, args);
  if (stats) {
    const fleet::EtcdStats& s = etcd->stats();
    std::fprintf(stderr, "etcd_probe: stats: calls=%zu requests=%zu failovers=%zu endpoint=%s\n",
                 s.calls, s.requests, s.failovers, etcd->current_endpoint().c_str());
  }
  return rc;
}
