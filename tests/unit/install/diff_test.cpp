#include "acmed/install/plan.hpp"

#include <doctest/doctest.h>

using namespace acmed::install;

TEST_CASE("equal texts give an empty diff") {
  CHECK(unified_diff("a\nb\n", "a\nb\n", "x", "x") == "");
}

TEST_CASE("an inserted line is shown with three lines of context and correct ranges") {
  std::string old_text = "1\n2\n3\n4\n5\n6\n7\n8\n";
  std::string new_text = "1\n2\n3\n4\nnew\n5\n6\n7\n8\n";
  CHECK(unified_diff(old_text, new_text, "a/f", "b/f") ==
        "--- a/f\n+++ b/f\n@@ -2,6 +2,7 @@\n 2\n 3\n 4\n+new\n 5\n 6\n 7\n");
}

TEST_CASE("distant changes make separate hunks, a new file diffs from /dev/null") {
  std::string old_text;
  for (int i = 1; i <= 20; ++i) old_text += std::to_string(i) + "\n";
  std::string new_text = old_text;
  new_text.replace(0, 2, "one\n");                         // line 1
  new_text.replace(new_text.find("20\n"), 3, "twenty\n");  // line 20
  auto d = unified_diff(old_text, new_text, "a", "b");
  CHECK(d ==
        "--- a\n+++ b\n@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n"
        "@@ -17,4 +17,4 @@\n 17\n 18\n 19\n-20\n+twenty\n");
  Plan plan;
  plan.changes.push_back(FileChange{"/x/opts.conf", std::nullopt, "a\nb", 0644});
  CHECK(diff(plan) ==
        "--- /dev/null\n+++ /x/opts.conf\n@@ -0,0 +1,2 @@\n+a\n+b\n\\ No newline at end of file\n");
}

TEST_CASE("plans know when they change nothing, and set() keeps one change per file") {
  Plan plan;
  CHECK(plan.empty());
  plan.set(FileChange{"/a", std::string("x"), "x", 0644});
  CHECK(plan.empty());
  plan.set(FileChange{"/a", std::string("ignored"), "y", 0644});
  REQUIRE(plan.changes.size() == 1);
  CHECK(*plan.changes[0].before == "x");
  CHECK(plan.changes[0].after == "y");
  CHECK_FALSE(plan.empty());
}
