#include "acmed/doctor/listeners.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <system_error>
#include <unordered_map>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

namespace acmed::doctor {

namespace fs = std::filesystem;

namespace {

// Bounds, so that a host with a huge socket table or millions of open files makes doctor slow
// and incomplete rather than hang or exhaust memory. A table line is ~150 bytes: 64 MiB is over
// 400,000 sockets. PID_MAX_LIMIT is 4,194,304, so the process cap never cuts a real /proc short.
constexpr std::size_t k_max_table_bytes = 64u << 20;
constexpr std::size_t k_max_processes = 4'194'304;
constexpr std::size_t k_max_fd_links = 4'000'000;
constexpr std::size_t k_max_small_file = 64 * 1024;

constexpr std::string_view k_state_listen = "0A";  // TCP_LISTEN in include/net/tcp_states.h
constexpr int k_cap_net_bind_service = 10;         // include/uapi/linux/capability.h

// At most `limit` bytes of a file; nullopt when it cannot be opened or read. Files under /proc
// report size 0, so this reads until end of file instead of trusting the size.
std::optional<std::string> read_bounded(const fs::path& path, std::size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string out;
  std::array<char, 16384> buf{};
  while (out.size() < limit) {
    const auto want = static_cast<std::streamsize>(std::min(buf.size(), limit - out.size()));
    in.read(buf.data(), want);
    out.append(buf.data(), static_cast<std::size_t>(in.gcount()));
    if (!in) break;
  }
  if (in.bad()) return std::nullopt;
  return out;
}

// A whole token of exactly `digits` hex digits (0 = any length) as a number, or nullopt.
template <typename T>
std::optional<T> parse_number(std::string_view token, int base, std::size_t digits = 0) {
  if (token.empty() || (digits != 0 && token.size() != digits)) return std::nullopt;
  T value{};
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value, base);
  if (ec != std::errc() || end != token.data() + token.size()) return std::nullopt;
  return value;
}

// The kernel prints each 32-bit word of the address as it sits in memory (%08X of the raw
// __be32 words), so putting the parsed word back into memory in host order restores the
// network-order bytes on any host, little- or big-endian.
std::optional<std::string> decode_address(std::string_view hex, bool ipv6) {
  const std::size_t words = ipv6 ? 4 : 1;
  if (hex.size() != words * 8) return std::nullopt;
  std::array<unsigned char, 16> bytes{};
  for (std::size_t i = 0; i < words; ++i) {
    const auto word = parse_number<std::uint32_t>(hex.substr(i * 8, 8), 16, 8);
    if (!word) return std::nullopt;
    std::memcpy(bytes.data() + i * 4, &*word, 4);
  }
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (::inet_ntop(ipv6 ? AF_INET6 : AF_INET, bytes.data(), text.data(), text.size()) == nullptr) {
    return std::nullopt;
  }
  return std::string(text.data());
}

// The first `N` whitespace-separated fields of a line; fewer when the line is shorter.
template <std::size_t N>
std::size_t split_fields(std::string_view line, std::array<std::string_view, N>& out) {
  std::size_t count = 0;
  std::size_t pos = 0;
  while (count < N) {
    pos = line.find_first_not_of(" \t", pos);
    if (pos == std::string_view::npos) break;
    const std::size_t end = std::min(line.find_first_of(" \t", pos), line.size());
    out[count++] = line.substr(pos, end - pos);
    pos = end;
  }
  return count;
}

std::optional<SocketEntry> parse_line(std::string_view line, bool ipv6) {
  // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
  std::array<std::string_view, 10> f;
  if (split_fields(line, f) != f.size()) return std::nullopt;
  if (f[3] != k_state_listen) return std::nullopt;
  const std::size_t colon = f[1].find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto address = decode_address(f[1].substr(0, colon), ipv6);
  const auto port = parse_number<unsigned>(f[1].substr(colon + 1), 16, 4);
  const auto inode = parse_number<unsigned long>(f[9], 10);
  if (!address || !port || !inode) return std::nullopt;
  return SocketEntry{std::move(*address), static_cast<int>(*port), *inode};
}

// The inode in a "socket:[12345]" fd link, or nullopt for anything else (files, pipes, ...).
std::optional<unsigned long> socket_inode(std::string_view link) {
  constexpr std::string_view prefix = "socket:[";
  if (link.size() < prefix.size() + 2 || link.substr(0, prefix.size()) != prefix ||
      link.back() != ']') {
    return std::nullopt;
  }
  return parse_number<unsigned long>(link.substr(prefix.size(), link.size() - prefix.size() - 1),
                                     10);
}

// Adds `pid` to owners[inode] for each wanted socket among its fds. Errors are expected and
// skipped: EACCES for another user's process when not root, ENOENT when it has just exited.
void scan_fds(const fs::path& fd_dir, long pid,
              std::unordered_map<unsigned long, std::vector<long>>& owners, std::size_t& budget) {
  std::error_code ec;
  fs::directory_iterator it(fd_dir, ec);
  for (; !ec && it != fs::directory_iterator() && budget > 0; it.increment(ec)) {
    --budget;
    std::error_code link_ec;
    const fs::path target = fs::read_symlink(it->path(), link_ec);
    if (link_ec) continue;
    const auto inode = socket_inode(target.native());
    if (!inode) continue;
    const auto owner = owners.find(*inode);
    if (owner != owners.end()) owner->second.push_back(pid);
  }
}

std::string process_name(const fs::path& proc_root, long pid) {
  std::string name =
      read_bounded(proc_root / std::to_string(pid) / "comm", k_max_small_file).value_or("");
  while (!name.empty() && name.back() == '\n') name.pop_back();
  return name;
}

}  // namespace

std::vector<SocketEntry> parse_proc_net_tcp(std::string_view text, bool ipv6) {
  std::vector<SocketEntry> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    if (auto entry = parse_line(text.substr(pos, end - pos), ipv6)) out.push_back(*entry);
    pos = end + 1;
  }
  return out;
}

Result<std::vector<Listener>> listeners(int port, const fs::path& proc_root) {
  std::vector<SocketEntry> sockets;
  bool any_table = false;
  for (const auto& [name, ipv6] : {std::pair{"tcp", false}, std::pair{"tcp6", true}}) {
    const auto text = read_bounded(proc_root / "net" / name, k_max_table_bytes);
    if (!text) continue;  // no IPv6 in this kernel, for instance: the other table still counts
    any_table = true;
    for (auto& entry : parse_proc_net_tcp(*text, ipv6)) {
      if (entry.port == port) sockets.push_back(std::move(entry));
    }
  }
  if (!any_table) {
    return Error(Errc::io,
                 "cannot read the kernel's TCP socket tables " +
                     (proc_root / "net" / "tcp").string() + " and tcp6",
                 "acmed doctor needs Linux with /proc mounted");
  }
  if (sockets.empty()) return std::vector<Listener>{};

  std::unordered_map<unsigned long, std::vector<long>> owners;
  for (const auto& s : sockets) owners[s.inode];
  std::error_code ec;
  fs::directory_iterator procs(proc_root, ec);
  std::size_t processes = 0;
  std::size_t budget = k_max_fd_links;
  for (; !ec && procs != fs::directory_iterator() && processes < k_max_processes && budget > 0;
       procs.increment(ec)) {
    const auto pid = parse_number<long>(procs->path().filename().native(), 10);
    if (!pid || *pid <= 0) continue;  // self, net, sys, ...: not processes
    ++processes;
    scan_fds(procs->path() / "fd", *pid, owners, budget);
  }

  std::vector<Listener> out;
  std::map<long, std::string> names;
  for (const auto& s : sockets) {
    const auto& pids = owners[s.inode];
    if (pids.empty()) out.push_back(Listener{s.address, s.port, 0, ""});
    for (long pid : pids) {
      auto name = names.find(pid);
      if (name == names.end()) name = names.emplace(pid, process_name(proc_root, pid)).first;
      out.push_back(Listener{s.address, s.port, pid, name->second});
    }
  }
  std::sort(out.begin(), out.end(), [](const Listener& a, const Listener& b) {
    return a.address != b.address ? a.address < b.address : a.pid < b.pid;
  });
  // A process holding one socket in several fds, or several SO_REUSEPORT sockets on one address,
  // is still one (address, pid) answer.
  out.erase(std::unique(out.begin(), out.end(),
                        [](const Listener& a, const Listener& b) {
                          return a.address == b.address && a.pid == b.pid;
                        }),
            out.end());
  return out;
}

bool can_bind_port(int port) {
  if (::geteuid() == 0) return true;
  // Ports from ip_unprivileged_port_start on (1024 unless changed; containers often lower it)
  // are anyone's.
  std::uint64_t first_free = 1024;
  if (const auto start = read_bounded("/proc/sys/net/ipv4/ip_unprivileged_port_start", 64)) {
    std::string_view text = *start;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    if (const auto n = parse_number<std::uint64_t>(text, 10)) first_free = *n;
  }
  if (port >= 0 && static_cast<std::uint64_t>(port) >= first_free) return true;
  const auto status = read_bounded("/proc/self/status", k_max_small_file);
  if (!status) return false;
  constexpr std::string_view key = "\nCapEff:";
  const std::size_t at = status->find(key);
  if (at == std::string::npos) return false;
  const std::size_t begin = status->find_first_not_of(" \t", at + key.size());
  if (begin == std::string::npos) return false;
  const std::size_t end = std::min(status->find('\n', begin), status->size());
  const auto caps =
      parse_number<std::uint64_t>(std::string_view(*status).substr(begin, end - begin), 16);
  return caps && ((*caps >> k_cap_net_bind_service) & 1u) != 0;
}

}  // namespace acmed::doctor
