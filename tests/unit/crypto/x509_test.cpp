#include "acmed/crypto/x509.hpp"
#include "acmed/crypto/encoding.hpp"
#include "openssl_helpers.hpp"

#include <doctest/doctest.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <string>
#include <vector>

using namespace acmed;
using namespace acmed::crypto;
using test::CertOptions;
using test::make_test_cert;

namespace {

PrivateKey make_key(KeyType type = KeyType::ecdsa) {
  KeySpec spec;
  spec.type = type;
  auto key = PrivateKey::generate(spec);
  REQUIRE(key);
  return std::move(key).value();
}

struct ReqFree {
  void operator()(X509_REQ* r) const { X509_REQ_free(r); }
};
using Req = std::unique_ptr<X509_REQ, ReqFree>;

Req parse_req(const std::string& der) {
  const unsigned char* p = test::bytes(der);
  Req req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  REQUIRE(req);
  CHECK(p == test::bytes(der) + der.size());
  return req;
}

struct CsrContents {
  std::string cn;
  int subject_entries = 0;
  std::vector<int> extension_nids;
  bool san_critical = false;
  std::vector<std::string> dns;
  std::vector<std::string> ips;
  bool signature_ok = false;
  int signature_nid = 0;
  long version = -1;
};

// Everything a CA would look at in a CSR, read back with OpenSSL.
CsrContents inspect_csr(const std::string& der, const PrivateKey& key) {
  CsrContents c;
  Req req = parse_req(der);
  c.version = X509_REQ_get_version(req.get());
  EVP_PKEY* pub = X509_REQ_get0_pubkey(req.get());
  REQUIRE(pub);
  CHECK(EVP_PKEY_eq(pub, key.native()) == 1);
  c.signature_ok = X509_REQ_verify(req.get(), pub) == 1;
  c.signature_nid = X509_REQ_get_signature_nid(req.get());
  X509_NAME* subject = X509_REQ_get_subject_name(req.get());
  c.subject_entries = X509_NAME_entry_count(subject);
  int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (idx >= 0) {
    const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
    c.cn.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                static_cast<std::size_t>(ASN1_STRING_length(s)));
  }
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req.get());
  for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, i);
    int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
    c.extension_nids.push_back(nid);
    if (nid != NID_subject_alt_name) continue;
    c.san_critical = X509_EXTENSION_get_critical(ext) == 1;
    auto* names = static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext));
    REQUIRE(names);
    for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
      GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, j);
      if (gn->type == GEN_DNS) {
        c.dns.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                           static_cast<std::size_t>(ASN1_STRING_length(gn->d.dNSName)));
      } else if (gn->type == GEN_IPADD) {
        char buf[INET6_ADDRSTRLEN] = {};
        int len = ASN1_STRING_length(gn->d.iPAddress);
        inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(gn->d.iPAddress), buf,
                  sizeof buf);
        c.ips.emplace_back(buf);
      }
    }
    GENERAL_NAMES_free(names);
  }
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  return c;
}

std::chrono::system_clock::time_point utc(int y, unsigned m, unsigned d, int hh, int mm, int ss) {
  using namespace std::chrono;
  return sys_days(year{y} / month{m} / day{d}) + hours{hh} + minutes{mm} + seconds{ss};
}

// A three-level PKI: root -> intermediate -> leaf.
struct Pki {
  PrivateKey root_key = make_key();
  PrivateKey int_key = make_key();
  PrivateKey leaf_key = make_key();
  std::string root, intermediate, leaf;

  explicit Pki(const CertOptions& leaf_opts = test::leaf_options("leaf.test", "DNS:leaf.test")) {
    root = make_test_cert(test::ca_options("Test Root"), root_key);
    intermediate = make_test_cert(test::ca_options("Test Intermediate"), int_key, root, &root_key);
    leaf = make_test_cert(leaf_opts, leaf_key, intermediate, &int_key);
    REQUIRE_FALSE(root.empty());
    REQUIRE_FALSE(intermediate.empty());
    REQUIRE_FALSE(leaf.empty());
  }
};

void check_protocol_error(const Result<std::vector<std::string>>& r, const std::string& part) {
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::protocol);
  CHECK_MESSAGE(r.error().message.find(part) != std::string::npos, r.error().message);
}

}  // namespace

TEST_CASE("a CSR holds every name in subjectAltName, the first as CN, and nothing else") {
  for (KeyType type : {KeyType::ecdsa, KeyType::rsa}) {
    PrivateKey key = make_key(type);
    Identifiers ids{{"example.com", "www.example.com", "*.example.org"},
                    {"192.0.2.1", "2001:db8::1"}};
    auto der = make_csr_der(key, ids);
    REQUIRE(der);
    CsrContents c = inspect_csr(*der, key);
    CHECK(c.version == 0);
    CHECK(c.signature_ok);
    CHECK(c.signature_nid ==
          (type == KeyType::ecdsa ? NID_ecdsa_with_SHA256 : NID_sha256WithRSAEncryption));
    CHECK(c.cn == "example.com");
    CHECK(c.subject_entries == 1);
    CHECK(c.extension_nids == std::vector<int>{NID_subject_alt_name});  // no EKU, no TLS feature
    CHECK_FALSE(c.san_critical);
    CHECK(c.dns == ids.dns);
    CHECK(c.ips == ids.ip);
  }
}

TEST_CASE("an IP-only CSR has an empty subject and a critical subjectAltName") {
  PrivateKey key = make_key();
  auto der = make_csr_der(key, {{}, {"127.0.0.1", "::1"}});
  REQUIRE(der);
  CsrContents c = inspect_csr(*der, key);
  CHECK(c.signature_ok);
  CHECK(c.subject_entries == 0);
  CHECK(c.san_critical);
  CHECK(c.dns.empty());
  CHECK(c.ips == std::vector<std::string>{"127.0.0.1", "::1"});
}

TEST_CASE("a first name longer than 64 characters is left out of the CN but kept in the SAN") {
  PrivateKey key = make_key();
  std::string long_name = std::string(60, 'a') + ".example.com";  // 72 characters
  auto der = make_csr_der(key, {{long_name, "short.example.com"}, {}});
  REQUIRE(der);
  CsrContents c = inspect_csr(*der, key);
  CHECK(c.subject_entries == 0);
  CHECK(c.san_critical);
  CHECK(c.dns == std::vector<std::string>{long_name, "short.example.com"});

  auto exactly_64 = std::string(52, 'b') + ".example.com";
  REQUIRE(exactly_64.size() == 64);
  auto der64 = make_csr_der(key, {{exactly_64}, {}});
  REQUIRE(der64);
  CHECK(inspect_csr(*der64, key).cn == exactly_64);
}

TEST_CASE("make_csr_der rejects requests without names and malformed identifiers") {
  PrivateKey key = make_key();
  std::vector<Identifiers> bad = {
      {{}, {}},
      {{""}, {}},
      {{"has space.example"}, {}},
      {{"bad\xff.example"}, {}},
      {{"ok.example"}, {"1.2.3"}},
      {{}, {"1.2.3.4x"}},
      {{}, {"::g"}},
      {{}, {""}},
  };
  for (const Identifiers& ids : bad) {
    auto r = make_csr_der(key, ids);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_input);
  }
}

TEST_CASE("pem_to_der and der_to_pem convert a CSR and a certificate both ways") {
  PrivateKey key = make_key();
  auto csr = make_csr_der(key, {{"a.test"}, {}});
  REQUIRE(csr);
  std::string csr_pem = der_to_pem(*csr, "CERTIFICATE REQUEST");
  CHECK(csr_pem.rfind("-----BEGIN CERTIFICATE REQUEST-----\n", 0) == 0);
  auto back = pem_to_der(csr_pem);
  REQUIRE(back);
  CHECK(*back == *csr);

  std::string cert = make_test_cert(test::leaf_options("a.test", "DNS:a.test"), key);
  auto cert_der = pem_to_der(cert);
  REQUIRE(cert_der);
  CHECK(*cert_der == test::cert_der(cert));

  for (const std::string& bad : {cert + cert, std::string(""), key.to_pem(),
                                 der_to_pem("\x30\x03\x02\x01\x01", "CERTIFICATE REQUEST")}) {
    auto r = pem_to_der(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_input);
  }
}

TEST_CASE("split_pem_chain returns each certificate in order, tolerating whitespace and CRLF") {
  Pki pki;
  std::string crlf_leaf;
  for (char c : pki.leaf) {
    if (c == '\n') crlf_leaf += '\r';
    crlf_leaf += c;
  }
  std::string bundle = "\n  \n" + crlf_leaf + "\r\n\r\n\t" + pki.intermediate + "\n\n";
  auto blocks = split_pem_chain(bundle);
  REQUIRE(blocks);
  REQUIRE(blocks->size() == 2);
  CHECK((*blocks)[0] == pki.leaf);  // OpenSSL's PEM is already canonical
  CHECK((*blocks)[1] == pki.intermediate);
}

TEST_CASE("split_pem_chain refuses a private key in the bundle without echoing it") {
  Pki pki;
  std::string key_pem = pki.leaf_key.to_pem();
  std::string key_line = key_pem.substr(key_pem.find('\n') + 1, 30);
  auto r = split_pem_chain(pki.leaf + key_pem);
  check_protocol_error(r, "private key");
  CHECK(r.error().describe().find(key_line) == std::string::npos);
  check_protocol_error(split_pem_chain(key_pem + pki.leaf), "private key");
}

TEST_CASE("split_pem_chain refuses other block types, garbage, and empty input") {
  Pki pki;
  PrivateKey key = make_key();
  std::string csr_pem = der_to_pem(*make_csr_der(key, {{"a.test"}, {}}), "CERTIFICATE REQUEST");
  std::string leaf_body = pki.leaf.substr(pki.leaf.find('\n') + 1);
  leaf_body = leaf_body.substr(0, leaf_body.find("-----END"));

  check_protocol_error(split_pem_chain(pki.leaf + csr_pem), "\"CERTIFICATE REQUEST\"");
  check_protocol_error(split_pem_chain(pki.leaf + "garbage\n" + pki.intermediate),
                       "unexpected text at line");
  check_protocol_error(split_pem_chain("Subject: leaf\n" + pki.leaf), "unexpected text at line 1");
  check_protocol_error(split_pem_chain(pki.leaf + "trailing"), "unexpected text");
  check_protocol_error(split_pem_chain(""), "no certificate");
  check_protocol_error(split_pem_chain(" \r\n\t\n"), "no certificate");
  check_protocol_error(split_pem_chain("-----BEGIN CERTIFICATE-----\n" + leaf_body), "no END line");
  check_protocol_error(
      split_pem_chain("-----BEGIN CERTIFICATE-----\n!!notbase64!!\n-----END CERTIFICATE-----\n"),
      "not valid base64");
  check_protocol_error(split_pem_chain("-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\n" +
                                       leaf_body + "-----END CERTIFICATE-----\n"),
                       "not valid base64");
  check_protocol_error(split_pem_chain(der_to_pem("not a certificate", "CERTIFICATE")),
                       "does not parse");
  check_protocol_error(split_pem_chain("-----BEGIN CERTIFICATE\n"), "malformed PEM BEGIN line");
}

TEST_CASE("parse_certificate reads names, validity, serial, AKI, fingerprint and CA flag") {
  PrivateKey ca_key = make_key();
  PrivateKey leaf_key = make_key(KeyType::rsa);
  std::string ca =
      make_test_cert(test::ca_options("Example CA", "01:02:03:04:05:06:07:08:09:0A"), ca_key);
  CertOptions o;
  o.cn = "www.example.com";
  o.san = "DNS:www.example.com,DNS:example.com,IP:192.0.2.7,IP:2001:db8::7";
  o.serial_hex = "87654321";
  o.not_before = "20250102030405Z";
  o.not_after = "20500607080910Z";  // GeneralizedTime range too
  std::string leaf = make_test_cert(o, leaf_key, ca, &ca_key);
  {
    // RFC 5280's 99991231235959Z is past what a TimePoint holds: clamped (found by
    // fuzz_pem_chain as a UBSan overflow), as is a time before 1950.
    CertOptions forever = o;
    forever.not_before = "16000101000000Z";
    forever.not_after = "99991231235959Z";
    auto far = parse_certificate(make_test_cert(forever, leaf_key, ca, &ca_key));
    REQUIRE(far);
    CHECK(far->not_after == utc(2200, 12, 31, 23, 59, 59));
    CHECK(far->not_before == utc(1950, 1, 1, 0, 0, 0));
    CHECK(far->not_after - far->not_before > std::chrono::hours(24 * 365 * 250));
  }

  auto info = parse_certificate(leaf + ca);  // a chain: the leaf is what is parsed
  REQUIRE(info);
  CHECK(info->subject_cn == "www.example.com");
  CHECK(info->issuer_cn == "Example CA");
  CHECK(info->dns_names == std::vector<std::string>{"www.example.com", "example.com"});
  CHECK(info->ips == std::vector<std::string>{"192.0.2.7", "2001:db8::7"});
  CHECK(info->not_before == utc(2025, 1, 2, 3, 4, 5));
  CHECK(info->not_after == utc(2050, 6, 7, 8, 9, 10));
  CHECK(info->serial == std::string("\x00\x87\x65\x43\x21", 5));  // DER keeps the sign byte
  CHECK(info->authority_key_id == "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a");
  CHECK_FALSE(info->is_ca);

  // The fingerprint as the openssl CLI prints it ("sha256 Fingerprint=AB:CD:...").
  std::string cli = test::openssl_cli({"x509", "-noout", "-fingerprint", "-sha256"}, leaf);
  std::string expected;
  for (char c : cli.substr(cli.find('=') + 1)) {
    if (std::isxdigit(static_cast<unsigned char>(c))) {
      expected += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  CHECK(expected.size() == 64);
  CHECK(info->sha256_fingerprint == expected);

  auto ca_info = parse_certificate(ca);
  REQUIRE(ca_info);
  CHECK(ca_info->is_ca);
  CHECK(ca_info->subject_cn == "Example CA");
  CHECK(ca_info->issuer_cn == "Example CA");
  CHECK(ca_info->authority_key_id.empty());
  CHECK(ca_info->dns_names.empty());
  CHECK(ca_info->serial == "\x01");
}

TEST_CASE("parse_certificate_der rejects truncated, padded and garbage DER") {
  PrivateKey key = make_key();
  std::string der = test::cert_der(make_test_cert(test::leaf_options("a.test", "DNS:a.test"), key));
  REQUIRE(parse_certificate_der(der));
  for (const std::string& bad :
       {der.substr(0, der.size() - 1), der.substr(0, 10), der + std::string(1, '\0'), std::string(),
        std::string("\x30\x82\xff\xff", 4), std::string("garbage")}) {
    auto r = parse_certificate_der(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::protocol);
  }
}

TEST_CASE("the ARI certificate identifier matches the RFC 9773 section 4.1 example") {
  CertInfo info;
  info.authority_key_id = std::string(
      "\x69\x88\x5B\x6B\x87\x46\x40\x41\xE1\xB3\x7B\x84\x7B\xA0\xAE\x2C\xDE\x01\xC8\xD4", 20);
  info.serial = std::string("\x00\x87\x65\x43\x21", 5);
  auto id = ari_cert_id(info);
  REQUIRE(id);
  CHECK(*id == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
}

TEST_CASE("a real certificate with the RFC 9773 AKI and serial gives the RFC's ARI identifier") {
  PrivateKey ca_key = make_key();
  PrivateKey leaf_key = make_key();
  std::string ca = make_test_cert(
      test::ca_options("ARI CA", "69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4"),
      ca_key);
  std::string leaf =
      make_test_cert(test::leaf_options("a.test", "DNS:a.test", "87654321"), leaf_key, ca, &ca_key);
  auto info = parse_certificate(leaf);
  REQUIRE(info);
  auto id = ari_cert_id(*info);
  REQUIRE(id);
  CHECK(*id == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
}

TEST_CASE("a certificate without an authority key identifier has no ARI identifier") {
  PrivateKey key = make_key();
  auto info =
      parse_certificate(make_test_cert(test::leaf_options("self.test", "DNS:self.test"), key));
  REQUIRE(info);
  auto id = ari_cert_id(*info);
  REQUIRE_FALSE(id);
  CHECK(id.error().code == Errc::invalid_input);
}

TEST_CASE("certificate_matches_key tells the certificate's own key from any other") {
  Pki pki;
  CHECK(certificate_matches_key(pki.leaf, pki.leaf_key));
  CHECK(certificate_matches_key(pki.leaf + pki.intermediate, pki.leaf_key));
  CHECK_FALSE(certificate_matches_key(pki.leaf, pki.int_key));
  CHECK_FALSE(certificate_matches_key(pki.leaf, make_key(KeyType::rsa)));
  CHECK_FALSE(certificate_matches_key("garbage", pki.leaf_key));
  CHECK_FALSE(certificate_matches_key("", pki.leaf_key));
}

TEST_CASE("certificate_has_public_key tells the certificate's own public key from any other") {
  Pki pki;
  CHECK(certificate_has_public_key(pki.leaf, pki.leaf_key.public_key_der()));
  CHECK(certificate_has_public_key(pki.leaf + pki.intermediate, pki.leaf_key.public_key_der()));
  CHECK_FALSE(certificate_has_public_key(pki.leaf, pki.int_key.public_key_der()));
  CHECK_FALSE(certificate_has_public_key(pki.leaf, ""));
  CHECK_FALSE(certificate_has_public_key("garbage", pki.leaf_key.public_key_der()));
}

TEST_CASE("verify_chain accepts a complete chain to a given root, without needing serverAuth") {
  Pki pki;  // the leaf has no extendedKeyUsage at all
  CHECK(verify_chain(pki.leaf + pki.intermediate, pki.root));
  // Several roots, the right one among them.
  PrivateKey other_key = make_key();
  std::string other_root = make_test_cert(test::ca_options("Other Root"), other_key);
  CHECK(verify_chain(pki.leaf + pki.intermediate, other_root + pki.root));
}

TEST_CASE("verify_chain names the reason when a chain does not verify") {
  Pki pki;
  PrivateKey other_key = make_key();
  std::string other_root = make_test_cert(test::ca_options("Other Root"), other_key);

  auto missing = verify_chain(pki.leaf, pki.root);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::crypto);
  CHECK(missing.error().message.find("leaf.test") != std::string::npos);
  CHECK(missing.error().message.find("local issuer") != std::string::npos);

  auto wrong_root = verify_chain(pki.leaf + pki.intermediate, other_root);
  REQUIRE_FALSE(wrong_root);
  CHECK(wrong_root.error().code == Errc::crypto);

  CertOptions expired = test::leaf_options("old.test", "DNS:old.test");
  expired.not_before = "20200101000000Z";
  expired.not_after = "20210101000000Z";
  Pki old(expired);
  auto r = verify_chain(old.leaf + old.intermediate, old.root);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::crypto);
  CHECK(r.error().message.find("expired") != std::string::npos);
}

TEST_CASE("verify_chain refuses input that is not a list of certificates") {
  Pki pki;
  auto bad_chain = verify_chain("garbage", pki.root);
  REQUIRE_FALSE(bad_chain);
  CHECK(bad_chain.error().code == Errc::protocol);
  CHECK(bad_chain.error().describe().find("certificate chain") != std::string::npos);
  auto bad_roots = verify_chain(pki.leaf + pki.intermediate, pki.root_key.to_pem());
  REQUIRE_FALSE(bad_roots);
  CHECK(bad_roots.error().code == Errc::protocol);
  CHECK(bad_roots.error().describe().find("trusted roots") != std::string::npos);
  CHECK_FALSE(verify_chain(pki.leaf, ""));
}

TEST_CASE("corrupting any single byte of a certificate never crashes the parsers") {
  PrivateKey key = make_key();
  std::string pem = make_test_cert(test::leaf_options("a.test", "DNS:a.test,IP:10.0.0.1"), key);
  std::string der = test::cert_der(pem);
  REQUIRE_FALSE(der.empty());
  int rejected = 0;
  for (std::size_t i = 0; i < der.size(); ++i) {  // bounded: one pass over a ~400-byte DER
    std::string bad = der;
    bad[i] = static_cast<char>(bad[i] ^ 0xa5);
    auto info = parse_certificate_der(bad);
    if (!info) {
      CHECK(info.error().code == Errc::protocol);
      ++rejected;
    }
    auto chain = split_pem_chain(der_to_pem(bad, "CERTIFICATE"));
    // split_pem_chain checks only the DER structure; parse_certificate also needs readable
    // extensions and times, so it may refuse more but never less.
    CHECK((chain.ok() || !info.ok()));
    if (!chain) CHECK(chain.error().code == Errc::protocol);
    (void)certificate_matches_key(der_to_pem(bad, "CERTIFICATE"), key);
  }
  CHECK(rejected > 0);
}

namespace {

// A CSR made by `openssl req` (PEM), as a user would make one for --csr.
std::string openssl_csr(const std::string& newkey, const std::string& subj,
                        const std::string& san) {
  std::vector<std::string> args = {"req",     "-new",      "-newkey", newkey, "-nodes",
                                   "-keyout", "/dev/null", "-subj",   subj};
  if (!san.empty()) args.insert(args.end(), {"-addext", "subjectAltName=" + san});
  std::string pem = test::openssl_cli(args, "");
  REQUIRE_MESSAGE(!pem.empty(), "openssl req failed");
  return pem;
}

}  // namespace

TEST_CASE(
    "parse_csr takes a CSR's SAN names and CN (PEM or DER), lower-cased, and its public key") {
  std::string pem = openssl_csr("rsa:2048", "/CN=Cn.example.test",
                                "DNS:A.example.test,DNS:b.example.test,IP:::1");
  auto csr = parse_csr(pem);
  REQUIRE_MESSAGE(csr, csr.error().message);
  CHECK(csr->identifiers.dns ==
        std::vector<std::string>{"cn.example.test", "a.example.test", "b.example.test"});
  CHECK(csr->identifiers.ip == std::vector<std::string>{"::1"});
  auto again = parse_csr(csr->der);  // the DER form
  REQUIRE(again);
  CHECK(again->identifiers.dns == csr->identifiers.dns);
  CHECK(again->public_key_der == csr->public_key_der);

  PrivateKey key = make_key();
  auto der = make_csr_der(key, {{"x.example.test"}, {}});
  REQUIRE(der);
  auto own = parse_csr(*der);
  REQUIRE(own);
  CHECK(own->der == *der);
  CHECK(own->public_key_der == key.public_key_der());
}

TEST_CASE("parse_csr counts a CN that a subjectAltName also holds once") {
  auto csr = parse_csr(
      openssl_csr("rsa:2048", "/CN=B.example.test", "DNS:a.example.test,DNS:b.example.test"));
  REQUIRE_MESSAGE(csr, csr.error().message);
  CHECK(csr->identifiers.dns == std::vector<std::string>{"a.example.test", "b.example.test"});
}

TEST_CASE("parse_csr uses the CN when the CSR has no subjectAltName") {
  auto csr = parse_csr(openssl_csr("rsa:2048", "/CN=Only.example.test", ""));
  REQUIRE_MESSAGE(csr, csr.error().message);
  CHECK(csr->identifiers.dns == std::vector<std::string>{"only.example.test"});
  CHECK(csr->identifiers.ip.empty());
}

TEST_CASE("parse_csr refuses garbage, a bad signature, a CSR with no names and a weak key") {
  auto refused = [](std::string_view input, std::string_view part) {
    auto r = parse_csr(input);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_input);
    CHECK_MESSAGE(r.error().message.find(part) != std::string::npos, r.error().message);
  };
  refused("not a csr at all", "not a CSR");
  refused("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
          "not a CSR");
  PrivateKey key = make_key(KeyType::rsa);
  auto der = make_csr_der(key, {{"x.example.test"}, {}});
  REQUIRE(der);
  std::string tampered = *der;
  tampered.back() = static_cast<char>(tampered.back() ^ 0x01);  // inside the signature
  refused(tampered, "signature does not verify");
  refused(*der + "x", "not a CSR");
  refused(openssl_csr("rsa:2048", "/O=Nobody", ""), "names nothing");
  refused(openssl_csr("rsa:1024", "/CN=weak.example.test", "DNS:weak.example.test"), "1024 bits");
}
