#include "acmed/local/leaf.hpp"

#include "acmed/crypto/ca.hpp"
#include "acmed/sys/fs.hpp"

#include <system_error>

namespace acmed::local {

Result<LeafCert> make_leaf(const LocalCa& ca, std::span<const std::string> names,
                           crypto::KeyType key_type, Purpose purpose, std::string_view user_at_host,
                           crypto::TimePoint now) {
  ACMED_TRY(LeafNames parsed, parse_names(names));
  crypto::KeySpec key_spec;
  key_spec.type = key_type;
  key_spec.rsa_bits = 2048;
  key_spec.curve = "secp256r1";
  ACMED_TRY(auto key, crypto::PrivateKey::generate(key_spec));

  crypto::LeafSpec spec;
  spec.dns_names = parsed.dns;
  spec.ips = parsed.ips;
  spec.usage =
      purpose == Purpose::client ? crypto::LeafUsage::server_and_client : crypto::LeafUsage::server;
  spec.organization = "acmed development certificate";
  spec.organizational_unit = std::string(user_at_host).substr(0, 64);
  // Backdated an hour against small clock differences; the whole span stays k_leaf_validity.
  spec.not_before = now - std::chrono::hours(1);
  spec.not_after = spec.not_before + k_leaf_validity;
  if (spec.not_after > ca.info().not_after) spec.not_after = ca.info().not_after;
  ACMED_TRY(std::string cert_pem,
            crypto::sign_leaf_certificate(ca.key(), ca.cert_pem(), key, spec));
  return LeafCert{std::move(parsed), std::move(cert_pem), key.to_pem(), spec.not_after};
}

Result<IssuedFiles> issue_certificate(const LocalCa& ca, const CertRequest& request,
                                      crypto::TimePoint now) {
  if (request.format == OutputFormat::pkcs12 && !request.key_file.empty()) {
    return Error(Errc::usage, "--key-file cannot be used with --pkcs12",
                 "the key is inside the .p12 file; name it with --cert-file");
  }
  ACMED_TRY(LeafCert leaf, make_leaf(ca, request.names, request.key_type, request.purpose,
                                     request.user_at_host, now));
  std::string base = default_file_base(leaf.names, request.purpose);
  IssuedFiles out;

  if (request.format == OutputFormat::pkcs12) {
    out.cert_file =
        request.cert_file.empty() ? request.out_dir / (base + ".p12") : request.cert_file;
    ACMED_TRY(auto key, crypto::PrivateKey::from_pem(leaf.key_pem));
    ACMED_TRY(std::string p12, crypto::make_pkcs12(key, leaf.cert_pem, ca.cert_pem(),
                                                   k_pkcs12_password, leaf.names.all.front()));
    ACMED_CHECK(sys::write_file_atomic(out.cert_file, p12, 0600));
    out.leaf = std::move(leaf);
    return out;
  }

  out.cert_file = request.cert_file.empty() ? request.out_dir / (base + ".pem") : request.cert_file;
  out.key_file =
      request.key_file.empty() ? request.out_dir / (base + "-key.pem") : request.key_file;
  std::error_code abs_ec;
  if (fs::absolute(out.cert_file, abs_ec).lexically_normal() ==
      fs::absolute(out.key_file, abs_ec).lexically_normal()) {
    return Error(Errc::usage,
                 "the certificate and the key would go to the same file " + out.cert_file.string());
  }
  // Both files are staged before either is renamed into place, so a full disk or a missing
  // directory leaves nothing behind.
  sys::AtomicFile key_file(out.key_file, 0600);
  sys::AtomicFile cert_file(out.cert_file, 0644);
  ACMED_CHECK(key_file.write(leaf.key_pem));
  ACMED_CHECK(cert_file.write(leaf.cert_pem));
  std::error_code ec;
  bool key_existed = fs::exists(out.key_file, ec);
  ACMED_CHECK(key_file.commit());
  if (auto st = cert_file.commit(); !st) {
    if (!key_existed) (void)sys::remove_file(out.key_file);
    return std::move(st).error();
  }
  out.leaf = std::move(leaf);
  return out;
}

}  // namespace acmed::local
