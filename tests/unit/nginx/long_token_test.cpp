// nginx refuses a word, string or comment that fills its 4096-byte read buffer; acmed's lexer
// must give the same verdict. Each input goes to the real `nginx -t` and to acmed's parser.
#include "plugins/nginx/syntax.hpp"

#include "acmed/sys/fs.hpp"
#include "acmed/sys/process.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace acmed;
using namespace acmed::plugins::nginx;
namespace fs = std::filesystem;

namespace {

enum class Shape { bare, double_quoted, single_quoted, comment };

// A config whose token (or comment) has `size` bytes as written, quotes included.
std::string config_with(Shape shape, std::size_t size) {
  std::string token;
  switch (shape) {
    case Shape::bare:
      token = std::string(size, 'a');
      break;
    case Shape::double_quoted:
      token = "\"" + std::string(size - 2, 'a') + "\"";
      break;
    case Shape::single_quoted:
      token = "'" + std::string(size - 2, 'a') + "'";
      break;
    case Shape::comment:
      token = "#" + std::string(size - 1, 'c');
      break;
  }
  if (shape == Shape::comment) {
    return "events {}\n" + token + "\nhttp {\n}\n";
  }
  return "events {}\nhttp {\n    server {\n        listen 127.0.0.1:18998;\n"
         "        location / { return 200 " +
         token + "; }\n    }\n}\n";
}

bool nginx_accepts(const test::TempDir& dir, const std::string& text, std::string& out) {
  REQUIRE(sys::make_dirs(dir / "logs"));
  REQUIRE(sys::write_file_atomic(dir / "t.conf", text));
  auto res =
      sys::run_process({"nginx", "-t", "-p", dir.path().string(), "-c", (dir / "t.conf").string()});
  REQUIRE_MESSAGE(res.ok(), "nginx must be installed for this test");
  out = res->err + res->out;
  return res->exit_code == 0;
}

}  // namespace

TEST_CASE(
    "nginx agreement: words, strings and comments of 4096 bytes or more are refused as nginx "
    "does") {
  test::TempDir dir;
  struct Case {
    Shape shape;
    std::size_t size;
    bool ok;
  };
  // Sizes as written. nginx counts a quoted string from after its opening quote.
  const Case cases[] = {
      {Shape::bare, 4095, true},           {Shape::bare, 4096, false},
      {Shape::bare, 10000, false},         {Shape::double_quoted, 4096, true},
      {Shape::double_quoted, 4097, false}, {Shape::single_quoted, 4096, true},
      {Shape::single_quoted, 4097, false}, {Shape::comment, 4095, true},
      {Shape::comment, 4096, false},
  };
  for (const Case& c : cases) {
    CAPTURE(static_cast<int>(c.shape));
    CAPTURE(c.size);
    std::string text = config_with(c.shape, c.size);
    std::string out;
    bool nginx_ok = nginx_accepts(dir, text, out);
    CHECK_MESSAGE(nginx_ok == c.ok, out);
    auto tree = parse(text, "t.conf");
    CHECK(tree.ok() == c.ok);
    if (tree) {
      CHECK(print(*tree) == text);
    } else {
      CHECK(tree.error().code == Errc::config);
      CHECK(tree.error().message.find("too long parameter") != std::string::npos);
      CHECK(tree.error().message.rfind("t.conf:", 0) == 0);
    }
  }
}

TEST_CASE("a long comment after a directive on the same line is refused too") {
  std::string text = "events {} #" + std::string(4100, 'c') + "\n";
  auto tree = parse(text, "t.conf");
  REQUIRE_FALSE(tree);
  CHECK(tree.error().message.find("t.conf:1: too long parameter") == 0);
}
