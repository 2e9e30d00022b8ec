#include "plugins/standalone/tls_alpn.hpp"
#include "plugins/standalone/listen.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace acmed::plugins::standalone {

namespace {

// RFC 8737 section 6.2: the ALPN protocol "acme-tls/1", in wire form (length-prefixed).
constexpr unsigned char k_alpn_wire[] = {10, 'a', 'c', 'm', 'e', '-', 't', 'l', 's', '/', '1'};
constexpr int k_handshake_timeout_s = 5;

struct CtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;

Error ssl_error(const std::string& what) {
  return Error(Errc::crypto, what + " failed (OpenSSL)");
}

// Only "acme-tls/1" is spoken: a client that does not offer it gets no certificate at all.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, k_alpn_wire, sizeof k_alpn_wire, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

// RFC 8737 section 3: a client that does not offer ALPN at all is refused before any
// certificate is sent (the ALPN callback only runs when the extension is present).
int require_alpn(SSL* ssl, int* alert, void*) {
  const unsigned char* ext = nullptr;
  size_t len = 0;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &ext,
                                &len) != 1) {
    *alert = SSL_AD_NO_APPLICATION_PROTOCOL;
    return SSL_CLIENT_HELLO_ERROR;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

// RFC 8737 section 3: SAN with exactly the name; the acmeIdentifier extension
// (id-pe-acmeIdentifier, 1.3.6.1.5.5.7.1.31), critical, an OCTET STRING of SHA-256(keyAuthz).
Result<CtxPtr> challenge_context(const challenge::Task& task) {
  std::unique_ptr<EVP_PKEY, KeyFree> key(EVP_EC_gen("P-256"));
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!key || !cert) return ssl_error("making the tls-alpn-01 key");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), static_cast<long>(::time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 7 * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("acmed tls-alpn-01"), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);

  const std::string san = "DNS:" + task.identifier;
  X509_EXTENSION* san_ext =
      X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str());
  if (!san_ext) return ssl_error("building the subjectAltName for " + task.identifier);
  X509_add_ext(cert.get(), san_ext, -1);
  X509_EXTENSION_free(san_ext);

  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(task.key_authorization.data()),
         task.key_authorization.size(), digest);
  ASN1_OCTET_STRING* inner = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(inner, digest, sizeof digest);
  unsigned char* der = nullptr;
  const int der_len = i2d_ASN1_OCTET_STRING(inner, &der);
  ASN1_OCTET_STRING_free(inner);
  if (der_len <= 0) return ssl_error("encoding the acmeIdentifier");
  ASN1_OCTET_STRING* value = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(value, der, der_len);
  OPENSSL_free(der);
  ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
  X509_EXTENSION* acme_ext = X509_EXTENSION_create_by_OBJ(nullptr, oid, 1, value);
  ASN1_OBJECT_free(oid);
  ASN1_OCTET_STRING_free(value);
  if (!acme_ext) return ssl_error("building the acmeIdentifier extension");
  X509_add_ext(cert.get(), acme_ext, -1);
  X509_EXTENSION_free(acme_ext);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0)
    return ssl_error("signing the tls-alpn-01 certificate");

  CtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return ssl_error("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  if (SSL_CTX_use_certificate(ctx.get(), cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1)
    return ssl_error("loading the tls-alpn-01 certificate");
  SSL_CTX_set_alpn_select_cb(ctx.get(), select_alpn, nullptr);
  return ctx;
}

}  // namespace

struct TlsAlpnServer::Impl {
  std::mutex mutex;
  CtxPtr base;                            // chooses a context by SNI
  std::map<std::string, CtxPtr> by_name;  // identifier -> its challenge context
  int listen_fd = -1;
  int wake[2] = {-1, -1};
  std::thread thread;

  // SNI must name one of the expected identifiers (RFC 8737 section 3); otherwise refuse.
  static int on_servername(SSL* ssl, int* alert, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    std::lock_guard lock(self->mutex);
    auto it = sni ? self->by_name.find(sni) : self->by_name.end();
    if (it == self->by_name.end()) {
      *alert = SSL_AD_UNRECOGNIZED_NAME;
      return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    SSL_set_SSL_CTX(ssl, it->second.get());
    return SSL_TLSEXT_ERR_OK;
  }

  void handle(int fd) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    timeval tv{k_handshake_timeout_s, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::unique_ptr<SSL, SslFree> ssl(SSL_new(base.get()));
    if (ssl && SSL_set_fd(ssl.get(), fd) == 1 && SSL_accept(ssl.get()) == 1)
      SSL_shutdown(ssl.get());
    ::close(fd);
  }

  void serve() {
    // A validator that hangs up mid-handshake must not kill acmed with SIGPIPE: blocked in this
    // thread, OpenSSL's writes get EPIPE instead.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    for (;;) {
      pollfd fds[2] = {{wake[0], POLLIN, 0}, {listen_fd, POLLIN, 0}};
      int rc = ::poll(fds, 2, 500);
      if (rc < 0 && errno != EINTR) break;
      if (fds[0].revents) break;
      if (fds[1].revents & POLLIN) {
        int cfd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (cfd >= 0) handle(cfd);
      }
    }
  }
};

TlsAlpnServer::TlsAlpnServer() : m(std::make_unique<Impl>()) {}
TlsAlpnServer::~TlsAlpnServer() {
  stop();
}

Status TlsAlpnServer::start(std::span<const challenge::Task> tasks, const std::string& address,
                            int port) {
  {
    std::lock_guard lock(m->mutex);
    for (const challenge::Task& t : tasks) {
      if (t.identifier_type != "dns")
        return Error(
            Errc::usage,
            "tls-alpn-01 for the IP address " + t.identifier + " is not supported by acmed",
            "use http-01 for IP addresses");
      ACMED_TRY(CtxPtr ctx, challenge_context(t));
      m->by_name[t.identifier] = std::move(ctx);
    }
  }
  if (m->listen_fd >= 0) return ok_status();
  m->base.reset(SSL_CTX_new(TLS_server_method()));
  if (!m->base) return ssl_error("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(m->base.get(), TLS1_2_VERSION);
  // The macro SSL_CTX_set_tlsext_servername_callback hides a C cast; spell out the same call.
  SSL_CTX_callback_ctrl(m->base.get(), SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                        reinterpret_cast<void (*)()>(&Impl::on_servername));
  SSL_CTX_set_tlsext_servername_arg(m->base.get(), m.get());
  SSL_CTX_set_alpn_select_cb(m->base.get(), select_alpn, nullptr);
  SSL_CTX_set_client_hello_cb(m->base.get(), require_alpn, nullptr);
  ACMED_TRY(m->listen_fd, listen_socket(address, port, "--tls-alpn-01-address"));
  if (::pipe2(m->wake, O_CLOEXEC) != 0) {
    ::close(m->listen_fd);
    m->listen_fd = -1;
    return Error(Errc::io, std::string("cannot create pipe: ") + std::strerror(errno));
  }
  m->thread = std::thread([impl = m.get()] { impl->serve(); });
  return ok_status();
}

void TlsAlpnServer::stop() noexcept {
  if (m->thread.joinable()) {
    char c = 'x';
    [[maybe_unused]] auto n = ::write(m->wake[1], &c, 1);
    m->thread.join();
  }
  for (int* fd : {&m->listen_fd, &m->wake[0], &m->wake[1]}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  std::lock_guard lock(m->mutex);
  m->by_name.clear();
  m->base.reset();
}

int TlsAlpnServer::bound_port() const {
  if (m->listen_fd < 0) return 0;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(m->listen_fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

}  // namespace acmed::plugins::standalone
