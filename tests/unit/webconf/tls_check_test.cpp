// The shared post-reload TLS check against a real TLS peer on loopback: the right certificate,
// a wrong one, and peers that reset the connection at each stage of the handshake. A reset must
// come back as an error in a process whose SIGPIPE is at its default (fatal) disposition.
#include "plugins/webconf/tls_check.hpp"

#include "acmed/sys/fs.hpp"
#include "acmed/sys/process.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_peer.hpp"

#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

using namespace acmed;
using namespace acmed::plugins;
using test::TlsPeer;
namespace fs = std::filesystem;

namespace {

void make_cert(const fs::path& dir, const std::string& name) {
  REQUIRE(sys::make_dirs(dir));
  auto res = sys::run_process(
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-days", "2", "-subj", "/CN=" + name, "-addext", "subjectAltName=DNS:" + name,
       "-keyout", (dir / "privkey.pem").string(), "-out", (dir / "fullchain.pem").string()});
  REQUIRE(res.ok());
  REQUIRE_MESSAGE(res->exit_code == 0, res->err);
}

struct Certs {
  test::TempDir dir;
  Certs() {
    make_cert(dir / "ours", "example.test");
    make_cert(dir / "other", "example.test");
  }
  fs::path ours() const { return dir / "ours/fullchain.pem"; }
  fs::path ours_key() const { return dir / "ours/privkey.pem"; }
  fs::path other() const { return dir / "other/fullchain.pem"; }
  fs::path other_key() const { return dir / "other/privkey.pem"; }
};

webconf::TlsCheck check_on(int port, int wait_ms = 300) {
  return webconf::TlsCheck{"nginx", "127.0.0.1", port, std::chrono::milliseconds(wait_ms)};
}

}  // namespace

TEST_CASE("the TLS check passes when the peer serves the leaf of the new fullchain") {
  ::signal(SIGPIPE, SIG_IGN);  // the peer thread lives in this process
  Certs c;
  TlsPeer peer(TlsPeer::Behaviour::serve, c.ours(), c.ours_key());
  auto st = webconf::check_served(check_on(peer.port()), "example.test", c.ours());
  CHECK_MESSAGE(st, (st ? "" : st.error().describe()));
}

TEST_CASE(
    "the TLS check names the server, address, port and both fingerprints for another certificate") {
  ::signal(SIGPIPE, SIG_IGN);
  Certs c;
  TlsPeer peer(TlsPeer::Behaviour::serve, c.other(), c.other_key());
  auto st = webconf::check_served(check_on(peer.port()), "example.test", c.ours());
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Errc::server);
  const std::string& m = st.error().message;
  CHECK(m.find("nginx does not serve the new certificate for example.test on 127.0.0.1:" +
               std::to_string(peer.port())) != std::string::npos);
  CHECK(m.find("instead of") != std::string::npos);
  CHECK(peer.connections() >= 2);  // it asked again until the wait ran out
}

TEST_CASE("a peer that resets the connection at any stage is an error, not a fatal SIGPIPE") {
  Certs c;
  // SIGPIPE at its default, fatal disposition for the whole test process (the peer's thread
  // blocks it for itself): a SIGPIPE reaching the check would kill this test binary. No fork:
  // a child forked beside the peer's thread can deadlock on a lock that thread held.
  auto old_handler = ::signal(SIGPIPE, SIG_DFL);
  for (auto behaviour :
       {TlsPeer::Behaviour::reset_on_accept, TlsPeer::Behaviour::reset_after_client_hello,
        TlsPeer::Behaviour::reset_after_handshake}) {
    CAPTURE(static_cast<int>(behaviour));
    TlsPeer peer(behaviour, c.ours(), c.ours_key());
    auto st = webconf::check_served(check_on(peer.port()), "example.test", c.ours());
    if (behaviour == TlsPeer::Behaviour::reset_after_handshake) {
      // The certificate was served before the reset, so the check passes.
      CHECK_MESSAGE(st.ok(), (st ? "" : st.error().describe()));
      continue;
    }
    // A reset that lands before the socket's error is read fails the connect, one that lands
    // later fails the handshake: either way the error names the address and the reset.
    REQUIRE_FALSE(st);
    CHECK(st.error().code == Errc::server);
    CHECK(st.error().message.find("127.0.0.1:" + std::to_string(peer.port())) != std::string::npos);
    CHECK(st.error().message.find("reset by peer") != std::string::npos);
  }
  ::signal(SIGPIPE, old_handler);
}

TEST_CASE("the check address is the one numeric address a server listens on, else the fallback") {
  CHECK(webconf::check_address({"*"}, "127.0.0.1") == "127.0.0.1");
  CHECK(webconf::check_address({"[::]"}, "127.0.0.1") == "127.0.0.1");
  CHECK(webconf::check_address({"_default_"}, "127.0.0.1") == "127.0.0.1");
  CHECK(webconf::check_address({"127.0.0.2"}, "127.0.0.1") == "127.0.0.2");
  CHECK(webconf::check_address({"[::1]"}, "127.0.0.1") == "::1");
  CHECK(webconf::check_address({"example.test"}, "127.0.0.1") == "127.0.0.1");
  CHECK(webconf::check_address({}, "127.0.0.1") == "127.0.0.1");
}
