#include "plugins/webconf/tls_check.hpp"

#include "acmed/sys/fs.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <thread>

namespace acmed::plugins::webconf {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
struct AddrFree {
  void operator()(addrinfo* a) const { freeaddrinfo(a); }
};

class Fd {
 public:
  explicit Fd(int fd) : m_fd(fd) {}
  ~Fd() {
    if (m_fd >= 0) ::close(m_fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return m_fd; }

 private:
  int m_fd;
};

// Blocks SIGPIPE in this thread while it lives. OpenSSL writes to the socket with write(2), which
// raises SIGPIPE when the peer has reset the connection; a SIGPIPE raised meanwhile is taken
// from the pending set before the old mask comes back, so it is never delivered.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    m_was_pending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe, &m_old);
  }
  ~SigpipeBlock() {
    if (!m_was_pending) {
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      timespec zero{0, 0};
      while (sigtimedwait(&pipe, nullptr, &zero) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t m_old{};
  bool m_was_pending = false;
};

std::string openssl_reason() {
  unsigned long code = ERR_get_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

Result<std::string> to_der(X509* cert) {
  int len = i2d_X509(cert, nullptr);
  if (len <= 0) return Error(Errc::crypto, "cannot encode certificate: " + openssl_reason());
  std::string der(static_cast<std::size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(cert, &p);
  return der;
}

// A connected, blocking TCP socket to `address`:`port` with send/receive timeouts.
Result<std::unique_ptr<Fd>> connect_to(const std::string& address, int port,
                                       std::chrono::milliseconds timeout) {
  std::string where = address + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* raw = nullptr;
  if (::getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &raw) != 0 || !raw) {
    return Error(Errc::invalid_input, "not a numeric address: " + address);
  }
  std::unique_ptr<addrinfo, AddrFree> ai(raw);
  auto fd =
      std::make_unique<Fd>(::socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd->get() < 0) return Error(Errc::network, std::string("socket: ") + std::strerror(errno));
  if (::connect(fd->get(), ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
    return Error(Errc::network, "cannot connect to " + where + ": " + std::strerror(errno));
  }
  pollfd pfd{fd->get(), POLLOUT, 0};
  int ms = static_cast<int>(timeout.count());
  if (::poll(&pfd, 1, ms) != 1) return Error(Errc::network, "timeout connecting to " + where);
  int so_error = 0;
  socklen_t len = sizeof so_error;
  ::getsockopt(fd->get(), SOL_SOCKET, SO_ERROR, &so_error, &len);
  if (so_error != 0) {
    return Error(Errc::network, "cannot connect to " + where + ": " + std::strerror(so_error));
  }
  // Blocking from here on, bounded by socket timeouts.
  ::fcntl(fd->get(), F_SETFL, ::fcntl(fd->get(), F_GETFL) & ~O_NONBLOCK);
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
  ::setsockopt(fd->get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd->get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

}  // namespace

Result<std::string> leaf_der_from_pem_file(const std::filesystem::path& path) {
  ACMED_TRY(std::string pem, sys::read_file(path));
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Error(Errc::crypto, "out of memory");
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    return Error(Errc::crypto, path.string() + " holds no PEM certificate: " + openssl_reason());
  }
  return to_der(cert.get());
}

Result<TlsSession> tls_handshake(const TlsProbe& probe) {
  std::string where = probe.address + ":" + std::to_string(probe.port) + " (SNI " + probe.sni + ")";
  SigpipeBlock no_sigpipe;
  ACMED_TRY(auto fd, connect_to(probe.address, probe.port, probe.timeout));
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Error(Errc::crypto, "SSL_CTX_new: " + openssl_reason());
  // Verified, never required: the caller reports what was served whatever it is.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  if (probe.verify) SSL_CTX_set_default_verify_paths(ctx.get());
  if (probe.verify && !probe.extra_roots.empty() &&
      SSL_CTX_load_verify_locations(ctx.get(), probe.extra_roots.c_str(), nullptr) != 1) {
    return Error(Errc::config,
                 "cannot read roots from " + probe.extra_roots.string() + ": " + openssl_reason());
  }
  if (probe.allow_legacy) {
    SSL_CTX_set_security_level(ctx.get(), 0);
    SSL_CTX_set_cipher_list(ctx.get(), "DEFAULT:@SECLEVEL=0");
  }
  if (probe.min_version != 0) SSL_CTX_set_min_proto_version(ctx.get(), probe.min_version);
  if (probe.max_version != 0) SSL_CTX_set_max_proto_version(ctx.get(), probe.max_version);
  if (!probe.alpn.empty()) {
    std::string wire;
    for (const auto& p : probe.alpn) {
      wire += static_cast<char>(p.size());
      wire += p;
    }
    SSL_CTX_set_alpn_protos(ctx.get(), reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned>(wire.size()));
  }
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx.get()));
  if (!ssl) return Error(Errc::crypto, "SSL_new: " + openssl_reason());
  SSL_set_fd(ssl.get(), fd->get());
  // SSL_set_tlsext_host_name() is a macro with a C cast; this is its expansion.
  SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
           const_cast<char*>(probe.sni.c_str()));
  SSL_set1_host(ssl.get(), probe.sni.c_str());
  errno = 0;
  if (SSL_connect(ssl.get()) != 1) {
    std::string why = ERR_peek_error() != 0 ? openssl_reason()
                      : errno != 0          ? std::strerror(errno)
                                            : "the connection was closed";
    ERR_clear_error();
    return Error(Errc::network, "TLS handshake with " + where + " failed: " + why);
  }
  TlsSession out;
  out.protocol = SSL_get_version(ssl.get());
  const unsigned char* alpn = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(ssl.get(), &alpn, &alpn_len);
  if (alpn) out.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl.get())) {
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      ACMED_TRY(std::string der, to_der(sk_X509_value(chain, i)));
      out.chain_der.push_back(std::move(der));
    }
  }
  if (out.chain_der.empty()) return Error(Errc::network, where + " sent no certificate");
  long verify = SSL_get_verify_result(ssl.get());
  out.verified = probe.verify && verify == X509_V_OK;
  if (probe.verify && !out.verified) out.verify_error = X509_verify_cert_error_string(verify);
  if (!probe.http_path.empty()) {
    std::string request = "GET " + probe.http_path + " HTTP/1.1\r\nHost: " + probe.sni +
                          "\r\nUser-Agent: acmed-doctor\r\nConnection: close\r\n\r\n";
    if (SSL_write(ssl.get(), request.data(), static_cast<int>(request.size())) <= 0) {
      ERR_clear_error();
      return Error(Errc::network, "cannot send the request to " + where);
    }
    char buf[16384];
    while (out.response.size() < (1u << 20)) {
      int n = SSL_read(ssl.get(), buf, sizeof buf);
      if (n <= 0) break;
      out.response.append(buf, static_cast<std::size_t>(n));
    }
    ERR_clear_error();
  }
  SSL_shutdown(ssl.get());
  return out;
}

Result<std::string> served_leaf_der(const std::string& address, int port, const std::string& name,
                                    std::chrono::milliseconds timeout) {
  TlsProbe probe;
  probe.address = address;
  probe.port = port;
  probe.sni = name;
  probe.timeout = timeout;
  probe.verify = false;  // the caller compares the bytes
  ACMED_TRY(TlsSession session, tls_handshake(probe));
  return std::move(session.chain_der.front());
}

std::string der_fingerprint(std::string_view der) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(der.data(), der.size(), md, &n, EVP_sha256(), nullptr) != 1) return "?";
  static const char k_hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    if (i) out += ':';
    out += k_hex[md[i] >> 4];
    out += k_hex[md[i] & 15];
  }
  return out;
}

Result<std::string> probe_http(const std::string& address, int port, const std::string& host,
                               const std::string& path, std::chrono::milliseconds timeout) {
  ACMED_TRY(auto fd, connect_to(address, port, timeout));
  std::string request =
      "GET " + path + " HTTP/1.0\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  std::string_view pending = request;
  while (!pending.empty()) {
    ssize_t n = ::send(fd->get(), pending.data(), pending.size(), MSG_NOSIGNAL);
    if (n <= 0) return Error(Errc::network, std::string("send: ") + std::strerror(errno));
    pending.remove_prefix(static_cast<std::size_t>(n));
  }
  std::string response;
  char buf[4096];
  while (response.size() < 65536) {
    ssize_t n = ::recv(fd->get(), buf, sizeof buf, 0);
    if (n < 0) return Error(Errc::network, std::string("recv: ") + std::strerror(errno));
    if (n == 0) break;
    response.append(buf, static_cast<std::size_t>(n));
  }
  return response;
}

std::string check_address(const std::vector<std::string>& listen_hosts,
                          const std::string& fallback) {
  for (const std::string& host : listen_hosts) {
    if (host == "*" || host == "[::]" || host == "::" || host == "0.0.0.0" || host == "_default_")
      return fallback;
  }
  for (std::string host : listen_hosts) {
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    if (!host.empty() && host.find_first_not_of("0123456789.:abcdefABCDEF") == std::string::npos &&
        host.find_first_of(".:") != std::string::npos)
      return host;
  }
  return fallback;
}

Status check_served(const TlsCheck& check, const std::string& name,
                    const std::filesystem::path& fullchain) {
  ACMED_TRY(std::string ours, leaf_der_from_pem_file(fullchain));
  auto deadline = std::chrono::steady_clock::now() + check.wait;
  std::string last;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    auto served = served_leaf_der(check.address, check.port, name, std::chrono::milliseconds(3000));
    if (served && *served == ours) return {};
    last = served ? "it serves the certificate " + der_fingerprint(*served) + " instead of " +
                        der_fingerprint(ours)
                  : served.error().message;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Error(Errc::server,
               check.server + " does not serve the new certificate for " + name + " on " +
                   check.address + ":" + std::to_string(check.port) + ": " + last,
               "another site or program may answer " + name +
                   " on that port; acmed restores "
                   "the previous configuration");
}

}  // namespace acmed::plugins::webconf
