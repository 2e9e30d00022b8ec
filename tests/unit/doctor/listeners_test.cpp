// Who listens on a port: the /proc/net/tcp parser from sample lines, the matching of sockets to
// processes on a made-up /proc tree, and the real thing on sockets this test opens itself.
#include "acmed/doctor/listeners.hpp"

#include <doctest/doctest.h>

#include <bit>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace acmed;
using doctor::Listener;
namespace fs = std::filesystem;

namespace {

// The kernel writes each address word in host order, so the same socket reads differently on a
// big-endian host; the samples below are what x86 and arm (little-endian) print.
constexpr bool k_little = std::endian::native == std::endian::little;

// A test's own directory, removed at the end. tests/support/temp_dir.hpp is not used because this
// file is also built standalone, without the test support library.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "acmed-listeners-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
};

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

struct Socket {
  int fd = -1;
  explicit Socket(int domain) : fd(::socket(domain, SOCK_STREAM, 0)) { REQUIRE(fd >= 0); }
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
};

// Binds to `address` (IPv4 or IPv6 text) and `port` (0: any); returns the port bound.
int bind_to(const Socket& s, const char* address, int port) {
  sockaddr_storage storage{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (::inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof(*v4);
  } else {
    REQUIRE(::inet_pton(AF_INET6, address, &v6->sin6_addr) == 1);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof(*v6);
    const int on = 1;
    REQUIRE(::setsockopt(s.fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == 0);
  }
  REQUIRE(::bind(s.fd, reinterpret_cast<sockaddr*>(&storage), len) == 0);
  len = sizeof(storage);
  REQUIRE(::getsockname(s.fd, reinterpret_cast<sockaddr*>(&storage), &len) == 0);
  return ntohs(storage.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
}

}  // namespace

TEST_CASE("IPv4 table lines give the LISTEN sockets only, with address, port and inode") {
  const std::string text =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n"
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
      "0 12345 1 0000000000000000 100 0 0 10 0\n"
      "   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
      "0 222 1 0000000000000000 100 0 0 10 0\n"
      "   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        "
      "0 333 1 0000000000000000 20 4 30 10 -1\n";
  const auto entries = doctor::parse_proc_net_tcp(text, false);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].address == (k_little ? "127.0.0.1" : "1.0.0.127"));
  CHECK(entries[0].port == 8080);
  CHECK(entries[0].inode == 12345);
  CHECK(entries[1].address == "0.0.0.0");
  CHECK(entries[1].port == 80);
  CHECK(entries[1].inode == 222);
}

TEST_CASE("IPv6 table lines decode each address word in the kernel's order") {
  const std::string text =
      "  sl  local_address                         remote_address                        st "
      "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A "
      "00000000:00000000 00:00000000 00000000     0        0 4001 1 0000000000000000 100 0 0 10 "
      "0\n"
      "   1: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A "
      "00000000:00000000 00:00000000 00000000     0        0 4002 1 0000000000000000 100 0 0 10 "
      "0\n"
      "   2: 0000000000000000FFFF00000100007F:0050 00000000000000000000000000000000:0000 0A "
      "00000000:00000000 00:00000000 00000000     0        0 4003 1 0000000000000000 100 0 0 10 "
      "0\n"
      "   3: 00000000000000000000000001000000:0050 00000000000000000000000001000000:9C40 06 "
      "00000000:00000000 03:00000F2A 00000000     0        0 0 3 0000000000000000\n";
  const auto entries = doctor::parse_proc_net_tcp(text, true);
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].address == "::");
  CHECK(entries[0].port == 443);
  CHECK(entries[0].inode == 4001);
  if (k_little) {
    CHECK(entries[1].address == "::1");
    CHECK(entries[2].address == "::ffff:127.0.0.1");
  }
  CHECK(entries[1].port == 80);
  CHECK(entries[2].inode == 4003);
}

TEST_CASE("garbage and truncated lines are skipped without a crash") {
  const std::string text =
      "\n"
      "garbage\n"
      "   0: 0100007F:1F90\n"                                     // truncated
      "   0: 0100007G:1F90 00000000:0000 0A 0:0 00:0 0 0 0 1\n"   // bad hex
      "   0: 0100007F:1F9 00000000:0000 0A 0:0 00:0 0 0 0 1\n"    // short port
      "   0: 0100007F:1F90 00000000:0000 0A 0:0 00:0 0 0 0 1x\n"  // bad inode
      "   0: 0100007F1F90 00000000:0000 0A 0:0 00:0 0 0 0 1\n"    // no colon
      "   0: 00000000000000000000000000000000:0050 00000000:0000 0A 0:0 00:0 0 0 0 1\n"  // v6 in v4
      "   0: 0100007F:-1F9 00000000:0000 0A 0:0 00:0 0 0 0 1\n"                          // sign
      "   0: 0100007F:1F90 00000000:0000 0A 0:0 00:0 0 0 0 99999999999999999999999\n"    // overflow
      "   9: 00000000:0016 00000000:0000 0A 0:0 00:0 0 0 0 77";  // good, no final newline
  const auto entries = doctor::parse_proc_net_tcp(text, false);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].port == 22);
  CHECK(entries[0].inode == 77);
  CHECK(doctor::parse_proc_net_tcp("", false).empty());
  // Read as a tcp6 table, only the line with a 32-digit address is well formed.
  const auto as_v6 = doctor::parse_proc_net_tcp(text, true);
  REQUIRE(as_v6.size() == 1);
  CHECK(as_v6[0].address == "::");
  CHECK(as_v6[0].port == 80);
}

TEST_CASE("sockets are matched to every process holding them, once per address and pid") {
  ScratchDir dir;
  const fs::path proc = dir.path;
  // Port 80 on 0.0.0.0 (inode 555, shared by a forked master and worker) and on 127.0.0.1
  // (inode 777, owner unknown); port 8080 (inode 888) is someone else's business.
  write_file(proc / "net" / "tcp",
             "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
             "   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 "
             "555 1\n"
             "   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 "
             "777 1\n"
             "   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 "
             "888 1\n");
  fs::create_directories(proc / "200" / "fd");
  fs::create_directories(proc / "100" / "fd");
  fs::create_symlink("socket:[555]", proc / "200" / "fd" / "0");
  fs::create_symlink("socket:[555]", proc / "100" / "fd" / "3");
  fs::create_symlink("socket:[555]", proc / "100" / "fd" / "4");  // dup()ed: still one entry
  fs::create_symlink("/dev/null", proc / "100" / "fd" / "5");
  fs::create_symlink("socket:[888]", proc / "100" / "fd" / "6");
  write_file(proc / "100" / "comm", "nginx\n");
  write_file(proc / "200" / "comm", "nginx\n");
  fs::create_directories(proc / "self" / "fd");  // not a pid: never counted as one
  fs::create_symlink("socket:[777]", proc / "self" / "fd" / "1");

  const auto found = doctor::listeners(80, proc);
  REQUIRE(found.ok());
  const std::string loopback = k_little ? "127.0.0.1" : "1.0.0.127";
  CHECK(*found == std::vector<Listener>{{"0.0.0.0", 80, 100, "nginx"},
                                        {"0.0.0.0", 80, 200, "nginx"},
                                        {loopback, 80, 0, ""}});
}

TEST_CASE("no socket tables at all is an io error, a missing tcp6 is not") {
  ScratchDir dir;
  const auto none = doctor::listeners(80, dir.path);
  REQUIRE(!none.ok());
  CHECK(none.error().code == Errc::io);

  write_file(dir.path / "net" / "tcp", "  sl  local_address\n");
  const auto empty = doctor::listeners(80, dir.path);
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

TEST_CASE("this process's own listening sockets on 127.0.0.1 and ::1 are found with its pid") {
  Socket v4(AF_INET);
  const int port = bind_to(v4, "127.0.0.1", 0);
  REQUIRE(::listen(v4.fd, 1) == 0);
  Socket v6(AF_INET6);
  bind_to(v6, "::1", port);
  REQUIRE(::listen(v6.fd, 1) == 0);

  const auto found = doctor::listeners(port);
  REQUIRE(found.ok());
  // comm is the executable's name cut to TASK_COMM_LEN - 1 bytes.
  const std::string comm = std::string(program_invocation_short_name).substr(0, 15);
  const long pid = ::getpid();
  CHECK(*found == std::vector<Listener>{{"127.0.0.1", port, pid, comm}, {"::1", port, pid, comm}});
}

TEST_CASE("a port that is bound but not listening has no listeners") {
  // Holding the port bound on 0.0.0.0 keeps anyone else from listening on it over IPv4 while the
  // test runs, and puts a non-LISTEN entry for it in the real table.
  Socket held(AF_INET);
  const int port = bind_to(held, "0.0.0.0", 0);
  const auto found = doctor::listeners(port);
  REQUIRE(found.ok());
  CHECK(found->empty());
}

TEST_CASE("can_bind_port agrees with what the kernel lets this process do") {
  // Try a port below 1024 that nobody holds: EACCES means no privilege, success means we have it.
  bool bound = false;
  bool denied = false;
  int port = 1;
  for (; port < 1024; ++port) {
    Socket s(AF_INET);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      bound = true;
    } else {
      denied = errno == EACCES;
    }
    if (bound || denied) break;
  }
  REQUIRE(bound != denied);
  CHECK(doctor::can_bind_port(port) == bound);
  CHECK(doctor::can_bind_port(40000));
  if (::geteuid() == 0) CHECK(doctor::can_bind_port(80));
}
