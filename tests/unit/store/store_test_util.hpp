// Helpers for the store tests: certificates made by the openssl CLI in a scratch dir, and a
// Paths whose three dirs live in a TempDir.
#pragma once

#include "acmed/store/lineage.hpp"
#include "acmed/store/paths.hpp"
#include "acmed/sys/fs.hpp"
#include "acmed/sys/process.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <string>
#include <vector>

namespace acmed::store::testing {

inline Paths paths_in(const test::TempDir& dir) {
  Paths p;
  p.config_dir = dir / "etc";
  p.work_dir = dir / "lib";
  p.logs_dir = dir / "log";
  return p;
}

inline mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

enum class Algo { ec_p256, rsa2048 };

// A self-signed certificate for `sans` ("DNS:a.example", "IP:127.0.0.1"), made by openssl in
// `scratch`, with an unrelated self-signed "intermediate" as its chain.
inline CertFiles make_cert(const fs::path& scratch, const std::string& tag,
                           const std::vector<std::string>& sans, Algo algo = Algo::ec_p256,
                           int days = 90) {
  auto openssl = [&](const std::string& out, const std::string& cn, const std::string& san) {
    std::vector<std::string> argv = {"openssl", "req", "-x509", "-nodes", "-newkey"};
    if (algo == Algo::ec_p256) {
      argv.insert(argv.end(), {"ec", "-pkeyopt", "ec_paramgen_curve:P-256"});
    } else {
      argv.insert(argv.end(), {"rsa:2048"});
    }
    argv.insert(argv.end(), {"-keyout", (scratch / (out + ".key")).string(), "-out",
                             (scratch / (out + ".crt")).string(), "-subj", "/CN=" + cn, "-days",
                             std::to_string(days)});
    if (!san.empty()) argv.insert(argv.end(), {"-addext", "subjectAltName=" + san});
    auto r = sys::run_process(argv);
    REQUIRE(r);
    INFO(r->err);
    REQUIRE(r->exit_code == 0);
  };
  std::string san;
  for (const auto& s : sans) san += (san.empty() ? "" : ",") + s;
  std::string cn = sans.empty() ? "x" : sans.front().substr(sans.front().find(':') + 1);
  openssl(tag, cn, san);
  openssl(tag + "-ca", "Test Intermediate " + tag, "");
  CertFiles f;
  f.cert = *sys::read_file(scratch / (tag + ".crt"));
  f.privkey = *sys::read_file(scratch / (tag + ".key"));
  f.chain = *sys::read_file(scratch / (tag + "-ca.crt"));
  f.fullchain = f.cert + f.chain;
  return f;
}

inline RenewalConf webroot_conf() {
  RenewalConf conf;
  conf.params.authenticator = "webroot";
  conf.params.server = "https://acme.example/directory";
  conf.params.account = "0123456789abcdef0123456789abcdef";
  conf.params.key_type = "ecdsa";
  conf.params.settings.lists["webroot_path"] = {"/var/www/html"};
  return conf;
}

}  // namespace acmed::store::testing
