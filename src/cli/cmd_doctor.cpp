// `acmed doctor [-d NAME ... | --cert-name NAME] [--json] [--resolver IP[:PORT]]
// [--connect-to IP]`: flags -> doctor::run_doctor() -> one line per finding, or JSON.
#include "acmed/app/plugins.hpp"
#include "acmed/doctor/doctor.hpp"
#include "acmed/local/environment.hpp"
#include "acmed/util/json.hpp"
#include "cli/context.hpp"
#include "cli/issue_flags.hpp"

#include <cstdio>
#include <memory>

namespace acmed::cli {

namespace {

struct DoctorFlags {
  bool json = false;
  bool local = false;
  std::string resolver;
  std::string connect_to;
  int timeout = 5;
  int jobs = 16;
};

std::string text_flag(const IssueFlags& f, const std::string& key) {
  std::string value;
  for (const auto& [k, v] : f.plugin_flags) {
    if (k == key) value = v;
  }
  return value;
}

// The last value given (CLI11 has checked the range), as for every single-valued option.
int port_flag(const IssueFlags& f, const std::string& key, int fallback) {
  std::string value = text_flag(f, key);
  return value.empty() ? fallback : std::atoi(value.c_str());
}

Status run_doctor_command(const GlobalOptions& g, const IssueFlags& f, const DoctorFlags& df) {
  sys::SystemClock clock;
  doctor::Options o;
  o.paths = store_paths(g);
  o.names = f.domains;
  o.cert_name = f.cert_name;
  if (!o.names.empty() && !o.cert_name.empty()) {
    return Error(Errc::usage, "doctor takes -d NAME or --cert-name NAME, not both",
                 "-d checks those names; --cert-name checks every name of that certificate");
  }
  if (!df.resolver.empty()) {
    ACMED_TRY(auto server, dns::parse_server(df.resolver));
    o.resolver = server;
  }
  if (!df.connect_to.empty()) {
    ACMED_TRY(auto server, dns::parse_server(df.connect_to));  // validates the address
    if (df.connect_to.find(']') != std::string::npos ||
        (df.connect_to.find(':') != std::string::npos &&
         df.connect_to.find('.') != std::string::npos)) {
      return Error(Errc::usage, "--connect-to takes an address without a port: " + df.connect_to,
                   "the ports are --http-01-port and --https-port");
    }
    o.connect_to = server.address;
  }
  o.http_port = port_flag(f, "http01_port", 80);
  o.https_port = port_flag(f, "https_port", 443);
  o.ca_bundle = f.ca_bundle;
  o.nginx_server_root = text_flag(f, "nginx_server_root");
  o.apache_server_root = text_flag(f, "apache_server_root");
  o.server = f.server;
  o.timeout = std::chrono::seconds(df.timeout);
  o.jobs = df.jobs;
  if (df.local) {
    if (!o.names.empty() || !o.cert_name.empty()) {
      return Error(Errc::usage, "doctor --local checks the development CA and takes no names",
                   "drop -d/--cert-name, or drop --local");
    }
    ACMED_TRY(auto env, local::detect_environment(local::process_env));
    o.local = std::move(env);
  }
  o.clock = &clock;
  o.processes = &process_runner();
  o.authenticator = [env = plugin_environment(g)](const store::Lineage& l) {
    return app::lineage_authenticator(l, l.conf.params, env);
  };
  ACMED_TRY(auto findings, doctor::run_doctor(o));
  bool failed = false;
  for (const auto& x : findings) failed = failed || x.status == doctor::Level::fail;
  if (df.json) {
    std::printf("%s\n", util::dump_json_lossy(doctor::findings_json(findings), 2).c_str());
  } else {
    for (const auto& x : findings) {
      std::printf("%-5s %-19s %s%s%s\n", doctor::to_string(x.status), x.id.c_str(),
                  x.name.empty() ? "" : (x.name + ": ").c_str(), x.detail.c_str(),
                  x.fix.empty() ? "" : ("\n      fix: " + x.fix).c_str());
    }
  }
  if (failed) {
    return Error(Errc::conflict, "doctor found problems", "each `fail` line says what to do");
  }
  return {};
}

}  // namespace

void add_doctor_command(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags) {
  auto df = std::make_shared<DoctorFlags>();
  auto* sub = app.add_subcommand(
      "doctor",
      "Check what HTTPS needs for each name (-d, --cert-name, default every certificate's):\n"
      "DNS and CAA, listeners on ports 80/443, the redirect, the served certificate and chain,\n"
      "protocols, HTTP/2, HSTS, mixed content, renewal state. Read-only; exit 1 on a failure.");
  sub->fallthrough();
  sub->add_flag("--json", df->json, "Print {\"version\":1,\"checks\":[...]} instead of text");
  sub->add_flag("--local", df->local,
                "Check where the development CA of `acmed local` is trusted (system store, NSS\n"
                "for Chromium and Firefox, Java) instead of any name");
  sub->add_option("--resolver", df->resolver, "Send every DNS query to this server (IP or IP:PORT)")
      ->type_name("IP[:PORT]");
  sub->add_option("--connect-to", df->connect_to,
                  "Send the HTTP and TLS checks to this address instead of the name's")
      ->type_name("IP");
  sub->add_option("--timeout", df->timeout, "Seconds each network check may take")
      ->capture_default_str()
      ->check(CLI::Range(1, 60));
  set_body(sub, [&globals, &flags, df] { return run_doctor_command(globals, flags, *df); });
}

}  // namespace acmed::cli
