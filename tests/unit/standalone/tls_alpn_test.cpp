#include "plugins/standalone/tls_alpn.hpp"

#include <doctest/doctest.h>

#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

using namespace acmed;

namespace {

struct Handshake {
  bool ok = false;
  std::string alpn;
  X509* cert = nullptr;  // owned
  ~Handshake() { X509_free(cert); }
};

// A TLS client on 127.0.0.1:port with SNI `name` and, if `alpn`, ALPN acme-tls/1.
void handshake(int port, const char* name, bool alpn, Handshake& out) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(name));
  static const unsigned char proto[] = {10, 'a', 'c', 'm', 'e', '-', 't', 'l', 's', '/', '1'};
  if (alpn) SSL_set_alpn_protos(ssl, proto, sizeof proto);
  out.ok = SSL_connect(ssl) == 1;
  if (out.ok) {
    const unsigned char* sel = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(ssl, &sel, &len);
    out.alpn.assign(reinterpret_cast<const char*>(sel), len);
    out.cert = SSL_get1_peer_certificate(ssl);
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
}

}  // namespace

TEST_CASE("tls-alpn-01: acme-tls/1 and the expected name get the acmeIdentifier certificate") {
  plugins::standalone::TlsAlpnServer server;
  challenge::Task t{"a.example", "dns", "tls-alpn-01", "tok", "tok.thumb", ""};
  std::vector<challenge::Task> tasks{t};
  REQUIRE(server.start(tasks, "127.0.0.1", 0));
  const int port = server.bound_port();
  REQUIRE(port > 0);

  Handshake good;
  handshake(port, "a.example", true, good);
  REQUIRE(good.ok);
  CHECK(good.alpn == "acme-tls/1");
  REQUIRE(good.cert != nullptr);
  // SAN: exactly the name.
  auto* sans = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(good.cert, NID_subject_alt_name, nullptr, nullptr));
  REQUIRE(sans != nullptr);
  REQUIRE(sk_GENERAL_NAME_num(sans) == 1);
  const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, 0);
  REQUIRE(gn->type == GEN_DNS);
  CHECK(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName))) ==
        "a.example");
  GENERAL_NAMES_free(sans);
  // acmeIdentifier: critical, OCTET STRING of SHA-256("tok.thumb").
  ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
  int idx = X509_get_ext_by_OBJ(good.cert, oid, -1);
  ASN1_OBJECT_free(oid);
  REQUIRE(idx >= 0);
  X509_EXTENSION* ext = X509_get_ext(good.cert, idx);
  CHECK(X509_EXTENSION_get_critical(ext) == 1);
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(ext);
  const unsigned char* p = ASN1_STRING_get0_data(value);
  ASN1_OCTET_STRING* inner = d2i_ASN1_OCTET_STRING(nullptr, &p, ASN1_STRING_length(value));
  REQUIRE(inner != nullptr);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>("tok.thumb"), 9, digest);
  REQUIRE(ASN1_STRING_length(inner) == SHA256_DIGEST_LENGTH);
  CHECK(std::memcmp(ASN1_STRING_get0_data(inner), digest, sizeof digest) == 0);
  ASN1_OCTET_STRING_free(inner);

  Handshake no_alpn;
  handshake(port, "a.example", false, no_alpn);
  CHECK_FALSE(no_alpn.ok);
  Handshake other_name;
  handshake(port, "b.example", true, other_name);
  CHECK_FALSE(other_name.ok);

  server.stop();
  CHECK(server.bound_port() == 0);
}

TEST_CASE("tls-alpn-01: a taken port is Errc::conflict naming address and port") {
  plugins::standalone::TlsAlpnServer first, second;
  challenge::Task t{"a.example", "dns", "tls-alpn-01", "tok", "tok.thumb", ""};
  std::vector<challenge::Task> tasks{t};
  REQUIRE(first.start(tasks, "127.0.0.1", 0));
  auto r = second.start(tasks, "127.0.0.1", first.bound_port());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::conflict);
  CHECK(r.error().message.find("127.0.0.1:" + std::to_string(first.bound_port())) !=
        std::string::npos);
}
