// The webroot authenticator: writes http-01 responses as files under a web server's document
// root (DIR/.well-known/acme-challenge/TOKEN) and removes them afterwards.
#pragma once

#include "acmed/challenge/authenticator.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace acmed::plugins::webroot {

// Which document root serves which name.
using WebrootMap = std::map<std::string, std::filesystem::path>;

// Builds the map from `-w DIR -d NAME` pairs given in command-line order, as certbot does: each
// name belongs to the last -w before it; names given before any -w belong to the first -w.
// Errc::usage when names were given but no -w at all.
Result<WebrootMap> map_from_arguments(const std::vector<std::pair<std::string, std::string>>& ordered);

class WebrootAuthenticator final : public challenge::Authenticator {
 public:
  explicit WebrootAuthenticator(WebrootMap map) : m_map(std::move(map)) {}

  std::string name() const override { return "webroot"; }
  std::vector<std::string> supported_types() const override { return {"http-01"}; }
  // Errc::config if a name has no webroot or a webroot does not exist; Errc::io if writing fails.
  Status perform(std::span<const challenge::Task> tasks) override;
  void cleanup(std::span<const challenge::Task> tasks) noexcept override;

 private:
  WebrootMap m_map;
  std::vector<std::filesystem::path> m_written;       // files to remove
  std::vector<std::filesystem::path> m_created_dirs;  // deepest last; removed if empty
};

}  // namespace acmed::plugins::webroot
