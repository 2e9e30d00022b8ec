#include "acmed/local/local_ca.hpp"

#include "acmed/crypto/ca.hpp"
#include "acmed/crypto/encoding.hpp"
#include "acmed/sys/clock.hpp"
#include "acmed/sys/fs.hpp"

#include <algorithm>
#include <cctype>
#include <system_error>

namespace acmed::local {

namespace {

std::string reinstall_hint(const fs::path& dir) {
  return "if the CA is damaged, run `acmed local uninstall --delete-ca` (or remove " +
         dir.string() + ") and then `acmed local install`";
}

Error corrupt(const fs::path& file, const std::string& why, const fs::path& dir) {
  return Error(Errc::config, "the local CA is unusable: " + file.string() + " " + why,
               reinstall_hint(dir));
}

}  // namespace

std::string LocalCa::serial_hex() const {
  std::string hex = crypto::hex(m_info.serial);
  // DER adds a zero byte in front of a serial whose top bit is set; it is not part of the number.
  while (hex.size() > 2 && hex.compare(0, 2, "00") == 0) hex.erase(0, 2);
  std::transform(hex.begin(), hex.end(), hex.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return hex;
}

Result<LocalCa> LocalCa::load(const fs::path& dir, crypto::TimePoint now) {
  fs::path cert_file = dir / k_root_cert_file;
  fs::path key_file = dir / k_root_key_file;
  std::error_code ec;
  bool have_cert = fs::exists(cert_file, ec);
  bool have_key = fs::exists(key_file, ec);
  if (!have_cert && !have_key) {
    return Error(
        Errc::not_found, "there is no local CA in " + dir.string(),
        "run `acmed local install` first (or set ACMED_LOCAL_CAROOT to your CA directory)");
  }
  if (!have_cert) return corrupt(cert_file, "is missing (the key is there)", dir);
  if (!have_key) return corrupt(key_file, "is missing (the certificate is there)", dir);

  auto cert_pem = sys::read_file_limited(cert_file, 1 << 20);
  if (!cert_pem) return corrupt(cert_file, "cannot be read: " + cert_pem.error().message, dir);
  auto key_pem = sys::read_file_limited(key_file, 1 << 20);
  if (!key_pem) return corrupt(key_file, "cannot be read: " + key_pem.error().message, dir);

  auto info = crypto::parse_certificate(*cert_pem);
  if (!info) return corrupt(cert_file, "is not a PEM certificate", dir);
  auto key = crypto::PrivateKey::from_pem(*key_pem);
  if (!key) return corrupt(key_file, "is not a PEM private key", dir);
  if (!crypto::certificate_matches_key(*cert_pem, *key)) {
    return corrupt(key_file, "does not belong to " + cert_file.string(), dir);
  }
  auto usage = crypto::certificate_usage(*cert_pem);
  if (!usage || !usage->is_ca || !usage->key_cert_sign) {
    return corrupt(cert_file, "is not a CA certificate", dir);
  }
  if (now < info->not_before || now >= info->not_after) {
    return corrupt(cert_file,
                   "is outside its validity period (" + sys::format_rfc3339(info->not_before) +
                       " to " + sys::format_rfc3339(info->not_after) + ")",
                   dir);
  }
  return LocalCa(dir, std::move(*cert_pem), std::move(*key), std::move(*info));
}

Result<LocalCa> LocalCa::create(const fs::path& dir, std::string_view user_at_host,
                                crypto::TimePoint now) {
  fs::path cert_file = dir / k_root_cert_file;
  fs::path key_file = dir / k_root_key_file;
  std::error_code ec;
  if (fs::exists(cert_file, ec) || fs::exists(key_file, ec)) {
    return Error(Errc::conflict, "a local CA already exists in " + dir.string());
  }
  ACMED_CHECK(sys::make_dirs(dir, 0700));

  ACMED_TRY(auto key, crypto::PrivateKey::generate({crypto::KeyType::ecdsa, 0, "secp384r1"}));
  crypto::RootCaSpec spec;
  spec.organization = "acmed development CA";
  spec.organizational_unit = std::string(user_at_host).substr(0, 64);
  spec.common_name = ("acmed development CA " + std::string(user_at_host)).substr(0, 64);
  // Backdated a little so a machine whose clock is slightly behind still accepts it.
  spec.not_before = now - std::chrono::hours(1);
  spec.not_after = now + k_root_validity;
  ACMED_TRY(std::string cert_pem, crypto::make_root_certificate(key, spec));
  ACMED_TRY(auto info, crypto::parse_certificate(cert_pem));

  // The key is written first: a crash between the two writes leaves a key without certificate,
  // which load() reports, rather than a certificate whose key is lost.
  ACMED_CHECK(sys::write_file_atomic(key_file, key.to_pem(), 0600));
  if (auto st = sys::write_file_atomic(cert_file, cert_pem, 0644); !st) {
    (void)sys::remove_file(key_file);
    return std::move(st).error();
  }
  return LocalCa(dir, std::move(cert_pem), std::move(key), std::move(info));
}

}  // namespace acmed::local
