// `acmed certificates`: every lineage with its names, expiry, key and paths, and what the last
// renewal run found (Let's Encrypt no longer e-mails expiry warnings; this is where to look).
#include "acmed/crypto/encoding.hpp"
#include "acmed/store/lineage.hpp"
#include "acmed/store/status.hpp"
#include "acmed/sys/clock.hpp"
#include "acmed/util/json.hpp"
#include "cli/context.hpp"
#include "cli/issue_flags.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

namespace acmed::cli {

namespace {

std::string key_description(const crypto::KeySpec& key) {
  if (key.type == crypto::KeyType::rsa) return "RSA " + std::to_string(key.rsa_bits);
  return "ECDSA " + key.curve;
}

long days_left(const crypto::CertInfo& cert, sys::TimePoint now) {
  return static_cast<long>(std::chrono::floor<std::chrono::hours>(cert.not_after - now).count() / 24);
}

nlohmann::json lineage_json(const store::Paths& paths, const store::Lineage& l, sys::TimePoint now,
                            const store::CheckTimes& checked) {
  nlohmann::json j;
  j["name"] = l.name;
  j["domains"] = l.names;
  j["serial"] = crypto::hex(l.cert.serial);
  j["not_before"] = sys::format_rfc3339(l.cert.not_before);
  j["expires"] = sys::format_rfc3339(l.cert.not_after);
  j["days_left"] = days_left(l.cert, now);
  j["valid"] = l.cert.not_after > now;
  // certbot's test: the lineage's server is a staging one.
  j["test_cert"] = l.conf.params.server.find("staging") != std::string::npos;
  j["key_type"] = l.key.type == crypto::KeyType::rsa ? "rsa" : "ecdsa";
  if (l.key.type == crypto::KeyType::rsa) j["rsa_key_size"] = l.key.rsa_bits;
  else j["elliptic_curve"] = l.key.curve;
  j["key"] = key_description(l.key);
  j["version"] = l.version;
  j["server"] = l.conf.params.server;
  j["authenticator"] = l.conf.params.authenticator;
  j["installer"] = l.conf.params.installer;
  j["certificate_path"] = (paths.live_dir(l.name) / "fullchain.pem").string();
  j["private_key_path"] = (paths.live_dir(l.name) / "privkey.pem").string();
  if (auto status = store::load_status(paths, l.name, checked); status) {
    status->cert.reset();  // acmed's cache of the certificate: shown above already
    j["status"] = store::status_to_json(*status);
  }
  return j;
}

void print_human(const nlohmann::json& j) {
  std::printf("  Certificate Name: %s\n", j["name"].get<std::string>().c_str());
  if (j.contains("error")) {
    std::printf("    Error: %s\n", j["error"].get<std::string>().c_str());
    return;
  }
  std::printf("    Serial Number: %s\n", j["serial"].get<std::string>().c_str());
  std::printf("    Key Type: %s\n", j["key"].get<std::string>().c_str());
  std::string domains;
  for (const auto& d : j["domains"]) domains += (domains.empty() ? "" : " ") + d.get<std::string>();
  std::printf("    Domains: %s\n", domains.c_str());
  // certbot's status: "INVALID: TEST_CERT, EXPIRED" or "VALID: N days".
  std::string reasons;
  if (j["test_cert"].get<bool>()) reasons = "TEST_CERT";
  if (!j["valid"].get<bool>()) reasons += std::string(reasons.empty() ? "" : ", ") + "EXPIRED";
  std::string state = reasons.empty()
                          ? "VALID: " + std::to_string(j["days_left"].get<long>()) + " days"
                          : "INVALID: " + reasons;
  std::printf("    Expiry Date: %s (%s)\n", j["expires"].get<std::string>().c_str(), state.c_str());
  if (j.contains("status")) {
    const auto& s = j["status"];
    if (s.contains("last_checked")) {
      std::printf("    Last Renewal Check: %s\n", s["last_checked"].get<std::string>().c_str());
    }
    if (s.contains("next_due")) std::printf("    Renewal Due: %s\n", s["next_due"].get<std::string>().c_str());
    if (s.contains("last_error") && !s["last_error"].get<std::string>().empty()) {
      std::printf("    LAST RENEWAL FAILED (%d in a row): %s\n", s.value("failure_count", 0),
                  s["last_error"].get<std::string>().c_str());
    }
  }
  std::printf("    Certificate Path: %s\n", j["certificate_path"].get<std::string>().c_str());
  std::printf("    Private Key Path: %s\n", j["private_key_path"].get<std::string>().c_str());
}

// certbot's -d filter: lineages whose names include every one of `names`.
bool has_names(const store::Lineage& l, const std::vector<std::string>& names) {
  for (const auto& n : names) {
    if (std::find(l.names.begin(), l.names.end(), n) == l.names.end()) return false;
  }
  return true;
}

Status list_certificates(const GlobalOptions& globals, const std::string& only,
                         const std::vector<std::string>& names, bool as_json) {
  auto paths = store_paths(globals);
  ACMED_TRY(auto entries, store::list_lineages(paths));
  auto now = std::chrono::system_clock::now();
  // A broken check-times file only loses the "last checked" times; the rest is still worth showing.
  auto checked = store::load_check_times(paths).value_or(store::CheckTimes{});
  nlohmann::json all = nlohmann::json::array();
  for (auto& entry : entries) {
    if (!only.empty() && entry.name != only) continue;
    if (!names.empty() && (!entry.lineage || !has_names(*entry.lineage, names))) continue;
    if (entry.lineage) {
      all.push_back(lineage_json(paths, *entry.lineage, now, checked));
    } else {
      all.push_back({{"name", entry.name}, {"error", entry.lineage.error().describe()}});
    }
  }
  if (!only.empty() && all.empty()) {
    return Error(Errc::not_found, "no certificate named " + only + " in " + globals.config_dir,
                 "run 'acmed certificates' to see the names");
  }
  if (as_json) {
    std::printf("%s\n", util::dump_json_lossy(all, 2).c_str());
    return {};
  }
  if (all.empty()) {
    std::printf("No certificates found in %s.\n", globals.config_dir.c_str());
    return {};
  }
  std::printf("Found the following certificates:\n");
  for (const auto& j : all) print_human(j);
  return {};
}

}  // namespace

void add_certificates_command(CLI::App& app, const GlobalOptions& globals, IssueFlags& issue) {
  auto* sub = app.add_subcommand("certificates", "List the certificates acmed (or certbot) manages");
  sub->fallthrough();
  struct Flags {
    std::string only;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();  // owned by the callback, which the app keeps
  sub->add_option("--cert-name", flags->only, "Show only this lineage (-d NAME: only lineages with NAME)");
  sub->add_flag("--json", flags->json, "Print JSON instead of text");
  set_body(sub, [&globals, &issue, flags] {
    return list_certificates(globals, flags->only, issue.domains, flags->json);
  });
}

}  // namespace acmed::cli
