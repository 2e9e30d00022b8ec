#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>

namespace acmed::test {

namespace {

// Set when any assertion of the running test case fails; TempDir keeps its folder then.
bool g_current_test_failed = false;

struct FailureListener : doctest::IReporter {
  explicit FailureListener(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData&) override { g_current_test_failed = false; }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override { g_current_test_failed = true; }
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData& data) override {
    if (data.m_failed) g_current_test_failed = true;
  }
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

DOCTEST_REGISTER_LISTENER("acmed-failure-listener", 1, FailureListener);

}  // namespace

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "acmed-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  m_path = tmpl;
}

TempDir::~TempDir() {
  if (g_current_test_failed || std::uncaught_exceptions() > 0) {
    std::cerr << "test failed; its files are kept in " << m_path.string() << "\n";
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(m_path, ec);
}

std::filesystem::path data_path(const std::string& relative) {
  return std::filesystem::path(ACMED_TEST_DATA) / relative;
}

}  // namespace acmed::test
