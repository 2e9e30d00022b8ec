// The webroot authenticator: writes http-01 responses as files under a web server's document
// root (DIR/.well-known/acme-challenge/TOKEN) and removes them afterwards.
//
// acmed usually runs as root and the webroot usually belongs to someone else, so the challenge
// directory is reached by openat() walks from the webroot that do not follow symlinks, and the
// files are created inside it with O_EXCL|O_NOFOLLOW and renamed into place. A symlinked
// `.well-known` or `acme-challenge` (a `.well-known` shared by several sites is a common setup)
// is followed only when the link and the directory it points to are owned by root or by the user
// running acmed, and that directory is not writable by others; any other link is refused, named
// in the error, and nothing is written through it.
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
Result<WebrootMap> map_from_arguments(
    const std::vector<std::pair<std::string, std::string>>& ordered);

class WebrootAuthenticator final : public challenge::Authenticator {
 public:
  explicit WebrootAuthenticator(WebrootMap map) : m_map(std::move(map)) {}
  ~WebrootAuthenticator() override;
  WebrootAuthenticator(const WebrootAuthenticator&) = delete;
  WebrootAuthenticator& operator=(const WebrootAuthenticator&) = delete;

  std::string name() const override { return "webroot"; }
  std::vector<std::string> supported_types() const override { return {"http-01"}; }
  // Errc::config if a name has no webroot, a webroot does not exist, or a symlink on the way to
  // the challenge directory is not trusted (named in the message); Errc::io if writing fails.
  Status perform(std::span<const challenge::Task> tasks) override;
  void cleanup(std::span<const challenge::Task> tasks) noexcept override;

 private:
  struct Written {
    int dir;  // descriptor of the challenge directory the file is in
    std::string name;
  };
  struct CreatedDir {
    int parent;  // descriptor of the directory it was created in
    std::string name;
  };

  // Descriptor of <webroot>/.well-known/acme-challenge, opened (and created) once per webroot.
  Result<int> challenge_dir(const std::filesystem::path& webroot);
  int keep(int fd);

  WebrootMap m_map;
  std::map<std::filesystem::path, int> m_dirs;  // webroot -> challenge directory descriptor
  std::vector<int> m_fds;                       // every descriptor held, closed by cleanup()
  std::vector<Written> m_written;               // files to remove
  std::vector<CreatedDir> m_created;            // in creation order; removed if empty
};

}  // namespace acmed::plugins::webroot
