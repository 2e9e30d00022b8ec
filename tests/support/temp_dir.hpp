// A fresh directory per test, removed when the test passes and kept (its path printed) when it
// fails, so the evidence can be inspected.
#pragma once

#include <filesystem>
#include <string>

namespace acmed::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

 private:
  std::filesystem::path m_path;
};

// Path of a file under tests/data.
std::filesystem::path data_path(const std::string& relative);

}  // namespace acmed::test
