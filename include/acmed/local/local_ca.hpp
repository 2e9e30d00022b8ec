// The development CA itself: a root certificate and key in the CA directory (mkcert's file names,
// so people who know mkcert find their way around).
#pragma once

#include "acmed/crypto/key.hpp"
#include "acmed/crypto/x509.hpp"
#include "acmed/util/result.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

namespace acmed::local {

namespace fs = std::filesystem;

inline constexpr const char* k_root_cert_file = "rootCA.pem";
inline constexpr const char* k_root_key_file = "rootCA-key.pem";
// The root lives as long as mkcert's (10 years): users install it once per machine.
inline constexpr std::chrono::days k_root_validity{3650};

class LocalCa {
 public:
  // Loads the CA in `dir`. Errc::not_found when neither file exists (hint: `acmed local
  // install`); Errc::config, naming the file, when one of the two is missing, either does not
  // parse, the key does not belong to the certificate, the certificate is not a CA or `now` is
  // outside its validity.
  static Result<LocalCa> load(const fs::path& dir, crypto::TimePoint now);

  // Creates a new CA in `dir` (made 0700 if missing): a P-384 key (0600) and a self-signed root
  // valid for k_root_validity, named "acmed development CA <user_at_host>". Both files are
  // written atomically, the key first. Errc::conflict when either file already exists.
  static Result<LocalCa> create(const fs::path& dir, std::string_view user_at_host,
                                crypto::TimePoint now);

  const fs::path& dir() const { return m_dir; }
  fs::path cert_path() const { return m_dir / k_root_cert_file; }
  fs::path key_path() const { return m_dir / k_root_key_file; }
  const std::string& cert_pem() const { return m_cert_pem; }
  const crypto::PrivateKey& key() const { return m_key; }
  const crypto::CertInfo& info() const { return m_info; }
  // Upper-case hex of the serial number: names the CA in trust stores (nickname, file name).
  std::string serial_hex() const;

 private:
  LocalCa(fs::path dir, std::string cert_pem, crypto::PrivateKey key, crypto::CertInfo info)
      : m_dir(std::move(dir)),
        m_cert_pem(std::move(cert_pem)),
        m_key(std::move(key)),
        m_info(std::move(info)) {}

  fs::path m_dir;
  std::string m_cert_pem;
  crypto::PrivateKey m_key;
  crypto::CertInfo m_info;
};

}  // namespace acmed::local
