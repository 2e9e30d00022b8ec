// Who holds a TCP port: the part of `acmed doctor` that explains why a standalone or tls-alpn-01
// server could not bind (another server already listens there, or low ports need privileges).
//
// Read from the kernel's own tables rather than by running ss/netstat/lsof, so that it works on
// minimal hosts and gives the same answer there. The tables are those of this process's network
// namespace, which is the one acmed would bind in.
#pragma once

#include "acmed/util/result.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::doctor {

struct Listener {
  std::string address;  // "0.0.0.0", "127.0.0.1", "::", "::1" (text form, inet_ntop)
  int port = 0;
  long pid = 0;         // 0 when no process could be found (another user's process while not root)
  std::string process;  // /proc/PID/comm, empty when unknown
  bool operator==(const Listener&) const = default;
};

// TCP sockets in LISTEN state on `port`, from <proc_root>/net/tcp and net/tcp6, each matched to
// the processes holding it (a forked server shares one socket) through <proc_root>/*/fd/*. Sorted
// by address, then pid; one entry per (address, pid). Errc::io only when neither table can be
// read; processes that vanish or cannot be inspected are left out silently. Read-only.
Result<std::vector<Listener>> listeners(int port, const std::filesystem::path& proc_root = "/proc");

struct SocketEntry {
  std::string address;
  int port = 0;
  unsigned long inode = 0;
};

// The LISTEN sockets (state 0A) in the text of a /proc/net/tcp (ipv6 false) or tcp6 (ipv6 true)
// file, in file order. The header line and malformed lines are skipped, never an error.
std::vector<SocketEntry> parse_proc_net_tcp(std::string_view text, bool ipv6);

// Whether this process may bind `port`: euid 0, a port at or above
// net.ipv4.ip_unprivileged_port_start (1024 unless lowered, as containers do), or
// CAP_NET_BIND_SERVICE in the effective set (CapEff in /proc/self/status).
bool can_bind_port(int port);

}  // namespace acmed::doctor
