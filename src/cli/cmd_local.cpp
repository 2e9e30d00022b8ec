// `acmed local`: a trusted development CA on this machine (install, uninstall) and certificates
// signed by it (cert). CLI11 wiring only; the work is done by acmed::local.
#include "acmed/local/environment.hpp"
#include "acmed/local/leaf.hpp"
#include "acmed/local/lineage.hpp"
#include "acmed/local/trust_store.hpp"
#include "acmed/sys/clock.hpp"
#include "cli/context.hpp"

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

namespace acmed::cli {

namespace {

struct CertFlags {
  std::vector<std::string> names;
  std::string key_type = "ecdsa";
  std::string cert_file;
  std::string key_file;
  bool pkcs12 = false;
  bool client = false;
  bool save = false;
};

const char* action_word(local::StoreAction action) {
  switch (action) {
    case local::StoreAction::added:
      return "added to";
    case local::StoreAction::already_present:
      return "already in";
    case local::StoreAction::removed:
      return "removed from";
    case local::StoreAction::skipped:
      return "skipped";
    case local::StoreAction::failed:
      return "FAILED";
  }
  return "?";
}

void print_outcomes(const local::StoreReport& report) {
  for (const auto& o : report.stores) {
    std::string line = std::string(action_word(o.action)) + " " + o.store;
    if (!o.detail.empty()) line += ": " + o.detail;
    if (o.action == local::StoreAction::failed) {
      spdlog::error("{}", line);
    } else if (o.action == local::StoreAction::skipped) {
      spdlog::warn("{}", line);
    } else {
      spdlog::info("{}", line);
    }
  }
}

Result<local::Environment> environment() {
  return local::detect_environment(local::process_env);
}

Status run_install() {
  ACMED_TRY(auto env, environment());
  sys::RealProcessRunner runner;
  ACMED_TRY(auto report, local::install(env, runner, sys::SystemClock().now()));
  if (report.created_ca) {
    spdlog::info("Created a new local CA \"{}\" in {}", report.ca_name, report.ca_root.string());
  } else {
    spdlog::info("Using the local CA \"{}\" in {}", report.ca_name, report.ca_root.string());
  }
  print_outcomes(report);
  if (report.any_failed()) {
    return Error(Errc::io, "the local CA could not be added to every trust store (see above)",
                 "fix the problem and run `acmed local install` again");
  }
  spdlog::info("Browsers may need a restart to trust it. Now run `acmed local cert localhost`.");
  return ok_status();
}

Status run_uninstall(bool delete_ca) {
  ACMED_TRY(auto env, environment());
  sys::RealProcessRunner runner;
  ACMED_TRY(auto report,
            local::uninstall(env, runner, delete_ca ? local::DeleteCa::yes : local::DeleteCa::no));
  if (report.stores.empty()) spdlog::info("The local CA was not installed in any trust store.");
  print_outcomes(report);
  if (report.any_failed()) {
    return Error(Errc::io,
                 "the local CA could not be removed from every trust store (see above)" +
                     std::string(delete_ca ? "; the CA files were kept" : ""),
                 "fix the problem and run `acmed local uninstall` again");
  }
  if (report.deleted_ca) {
    spdlog::info("Deleted the local CA in {}", report.ca_root.string());
  } else {
    spdlog::info("The CA files stay in {} (use --delete-ca to delete them)",
                 report.ca_root.string());
  }
  return ok_status();
}

Status run_cert(const GlobalOptions& globals, const CertFlags& flags) {
  ACMED_TRY(auto env, environment());
  auto now = sys::SystemClock().now();
  ACMED_TRY(auto ca, local::LocalCa::load(env.ca_root, now));

  local::CertRequest request;
  request.names = flags.names;
  request.key_type = flags.key_type == "rsa" ? crypto::KeyType::rsa : crypto::KeyType::ecdsa;
  request.purpose = flags.client ? local::Purpose::client : local::Purpose::server;
  request.format = flags.pkcs12 ? local::OutputFormat::pkcs12 : local::OutputFormat::pem;
  request.cert_file = flags.cert_file;
  request.key_file = flags.key_file;
  request.user_at_host = env.user_at_host;

  store::Paths paths{globals.config_dir, globals.work_dir, globals.logs_dir};
  ACMED_TRY(auto issued, local::issue_certificate(ca, request, now));
  for (const auto& warning : issued.leaf.names.warnings) spdlog::warn("{}", warning);
  std::string names;
  for (const auto& n : issued.leaf.names.all) names += (names.empty() ? "\"" : ", \"") + n + "\"";
  spdlog::info("Created a certificate for {}", names);
  if (request.format == local::OutputFormat::pkcs12) {
    spdlog::info("  PKCS#12 file: {} (password \"{}\")", issued.cert_file.string(),
                 local::k_pkcs12_password);
  } else {
    spdlog::info("  certificate: {}", issued.cert_file.string());
    spdlog::info("  key:         {}", issued.key_file.string());
  }
  spdlog::info("It expires on {}.", sys::format_rfc3339(issued.leaf.not_after));

  if (flags.save) {
    ACMED_TRY(std::string lineage,
              local::save_lineage(paths, ca, issued.leaf, request.key_type, request.purpose));
    spdlog::info("Saved as lineage {} ({}); `acmed renew` renews it with the local CA.", lineage,
                 paths.live_dir(lineage).string());
  }
  std::error_code ec;
  if (!std::filesystem::exists(env.ca_root / local::k_install_record_file, ec)) {
    spdlog::warn(
        "The local CA is not installed in any trust store yet: run `acmed local install`.");
  }
  return ok_status();
}

}  // namespace

void add_local_commands(CLI::App& app, const GlobalOptions& globals) {
  auto* local_cmd = app.add_subcommand(
      "local",
      "A trusted local CA for development (like mkcert): HTTPS for localhost and\n"
      "test names. The CA lives in $ACMED_LOCAL_CAROOT (default\n"
      "$XDG_DATA_HOME/acmed or ~/.local/share/acmed).");
  local_cmd->require_subcommand(1);

  auto* install = local_cmd->add_subcommand(
      "install",
      "Create the local CA (once) and add it to the system store (needs root), the\n"
      "NSS databases of Chromium and Firefox, and the Java keystore in $JAVA_HOME.");
  set_body(install, [] { return run_install(); });

  auto delete_ca = std::make_shared<bool>(false);
  auto* uninstall = local_cmd->add_subcommand(
      "uninstall", "Remove the local CA from every trust store install added it to.");
  uninstall->add_flag("--delete-ca", *delete_ca, "Also delete the CA certificate and key");
  set_body(uninstall, [delete_ca] { return run_uninstall(*delete_ca); });

  auto flags = std::make_shared<CertFlags>();
  auto* cert = local_cmd->add_subcommand(
      "cert",
      "Issue a certificate signed by the local CA for host names, wildcards\n"
      "(*.app.test), IPv4 and IPv6 addresses; files go to the current directory\n"
      "(localhost+2.pem and localhost+2-key.pem for three names).");
  cert->add_option("NAME", flags->names, "Host names and IP addresses")->required();
  cert->add_option("--key-type", flags->key_type, "ecdsa (P-256, default) or rsa (2048 bits)")
      ->check(CLI::IsMember({"ecdsa", "rsa"}))
      ->capture_default_str();
  cert->add_option("--cert-file", flags->cert_file, "Where to write the certificate (or .p12)");
  cert->add_option("--key-file", flags->key_file, "Where to write the private key");
  cert->add_flag("--pkcs12", flags->pkcs12,
                 "Write one PKCS#12 (.p12) file with key and certificate, password \"changeit\"");
  cert->add_flag("--client", flags->client, "Also allow client authentication (clientAuth)");
  cert->add_flag("--save", flags->save,
                 "Also keep it as a lineage under --config-dir, renewed by `acmed renew`");
  set_body(cert, [&globals, flags] { return run_cert(globals, *flags); });
}

}  // namespace acmed::cli
