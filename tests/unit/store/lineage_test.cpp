#include "acmed/store/lineage.hpp"

#include "acmed/store/account.hpp"
#include "acmed/store/status.hpp"

#include "store_test_util.hpp"

#include <doctest/doctest.h>

#include <set>

#include <sys/stat.h>
#include <unistd.h>

using namespace acmed;
using namespace acmed::store;
using namespace acmed::store::testing;

namespace {

constexpr const char* k_kinds[] = {"cert", "chain", "fullchain", "privkey"};

// The live links of `name` are relative links to version `version`, and the lineage loads with
// the certificate `files.cert` and a key that belongs to it.
void check_consistent(const Paths& p, const std::string& name, int version,
                      const CertFiles& files) {
  for (const char* kind : k_kinds) {
    fs::path link = p.live_dir(name) / (std::string(kind) + ".pem");
    REQUIRE(fs::is_symlink(link));
    CHECK(fs::read_symlink(link) == fs::path("../../archive") / name /
                                        (std::string(kind) + std::to_string(version) + ".pem"));
  }
  CHECK(*sys::read_file(p.live_dir(name) / "cert.pem") == files.cert);
  CHECK(*sys::read_file(p.live_dir(name) / "privkey.pem") == files.privkey);
  CHECK(*sys::read_file(p.live_dir(name) / "fullchain.pem") == files.fullchain);
  CHECK(*sys::read_file(p.live_dir(name) / "chain.pem") == files.chain);
  auto lineage = load_lineage(p, name);
  REQUIRE_MESSAGE(lineage, lineage.error().describe());
  CHECK(lineage->version == version);
}

std::set<std::string> entries(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

const char* step_name(WriteStep s) {
  switch (s) {
    case WriteStep::archive_privkey:
      return "archive_privkey";
    case WriteStep::archive_cert:
      return "archive_cert";
    case WriteStep::archive_chain:
      return "archive_chain";
    case WriteStep::archive_fullchain:
      return "archive_fullchain";
    case WriteStep::renewal_conf:
      return "renewal_conf";
    case WriteStep::live_links:
      return "live_links";
    case WriteStep::done:
      return "done";
  }
  return "?";
}

// A hook that "crashes" when the write reaches `at`.
WriteHook crash_at(WriteStep at) {
  return [at](WriteStep step) -> Status {
    if (step == at)
      return Error(Errc::internal, std::string("simulated crash before ") + step_name(step));
    return {};
  };
}

}  // namespace

TEST_CASE("a new lineage gets archive files, relative live links, a README and a renewal conf") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  CertFiles v1 = make_cert(scratch.path(), "v1", {"DNS:a.example", "DNS:b.example"});
  auto version = create_lineage(p, "a.example", v1, webroot_conf());
  REQUIRE_MESSAGE(version, version.error().describe());
  CHECK(*version == 1);
  check_consistent(p, "a.example", 1, v1);
  CHECK(entries(p.archive_dir("a.example")) ==
        std::set<std::string>{"cert1.pem", "chain1.pem", "fullchain1.pem", "privkey1.pem"});
  CHECK(entries(p.live_dir("a.example")) ==
        std::set<std::string>{"README", "cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"});
  CHECK(entries(p.live_dir()) == std::set<std::string>{"a.example"});

  auto conf = read_renewal_conf(p, "a.example");
  REQUIRE(conf);
  fs::path etc = fs::absolute(p.config_dir);
  CHECK(conf->archive_dir == etc / "archive/a.example");
  CHECK(conf->cert == etc / "live/a.example/cert.pem");
  CHECK(conf->privkey == etc / "live/a.example/privkey.pem");
  CHECK(conf->chain == etc / "live/a.example/chain.pem");
  CHECK(conf->fullchain == etc / "live/a.example/fullchain.pem");
  CHECK(conf->version == ACMED_VERSION);
  CHECK(conf->params.authenticator == "webroot");
  CHECK(conf->params.settings.list("webroot_path") == std::vector<std::string>{"/var/www/html"});
}

TEST_CASE("private keys are 0600 and archive/, live/ and the lineage dirs have certbot's modes") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  CertFiles v1 = make_cert(scratch.path(), "v1", {"DNS:a.example"});
  REQUIRE(create_lineage(p, "a.example", v1, webroot_conf()));
  CHECK(mode_of(p.archive_dir("a.example") / "privkey1.pem") == 0600);
  CHECK(mode_of(p.archive_dir("a.example") / "cert1.pem") == 0644);
  CHECK(mode_of(p.archive_dir("a.example") / "fullchain1.pem") == 0644);
  CHECK(mode_of(p.archive_dir()) == 0700);
  CHECK(mode_of(p.live_dir()) == 0700);
  CHECK(mode_of(p.renewal_conf("a.example")) == 0644);
  CertFiles v2 = make_cert(scratch.path(), "v2", {"DNS:a.example"});
  REQUIRE(add_version(p, "a.example", v2, *read_renewal_conf(p, "a.example")));
  CHECK(mode_of(p.archive_dir("a.example") / "privkey2.pem") == 0600);
}

TEST_CASE("a new key gets the previous key's group bits and others' read, never more") {
  CHECK(private_key_mode(0600) == 0600);
  CHECK(private_key_mode(0640) == 0640);
  CHECK(private_key_mode(0644) == 0644);
  CHECK(private_key_mode(0400) == 0600);  // the owner always reads and writes
  CHECK(private_key_mode(0666) == 0664);  // others never get write
  CHECK(private_key_mode(0777) == 0674);  // nor execute; the owner never gets execute
  CHECK(private_key_mode(04750) == 0650); // no set-id bits
}

TEST_CASE("a new version's key keeps a group-readable previous key's mode and group") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  REQUIRE(create_lineage(p, "a.example", make_cert(scratch.path(), "v1", {"DNS:a.example"}),
                         webroot_conf()));
  fs::path key1 = p.archive_dir("a.example") / "privkey1.pem";
  CHECK(mode_of(key1) == 0600);
  // A group this process may give files to: its own supplementary or primary group.
  gid_t group = ::getegid();
  std::vector<gid_t> groups(64);
  int n = ::getgroups(static_cast<int>(groups.size()), groups.data());
  if (n > 0 && groups[n - 1] != group) group = groups[n - 1];
  REQUIRE(::chown(key1.c_str(), static_cast<uid_t>(-1), group) == 0);
  REQUIRE(::chmod(key1.c_str(), 0640) == 0);
  REQUIRE(add_version(p, "a.example", make_cert(scratch.path(), "v2", {"DNS:a.example"}),
                      *read_renewal_conf(p, "a.example")));
  fs::path key2 = p.archive_dir("a.example") / "privkey2.pem";
  struct stat st {};
  REQUIRE(::stat(key2.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
  CHECK(st.st_gid == group);
  CHECK(st.st_uid == ::geteuid());
}

TEST_CASE("the first lineage creates renewal-hooks/{pre,deploy,post} as certbot does") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  REQUIRE(create_lineage(p, "a.example", make_cert(scratch.path(), "v1", {"DNS:a.example"}),
                         webroot_conf()));
  for (const char* kind : {"pre", "deploy", "post"}) {
    CHECK(fs::is_directory(p.config_dir / "renewal-hooks" / kind));
    CHECK(mode_of(p.config_dir / "renewal-hooks" / kind) == 0755);
  }
}

TEST_CASE("a lineage's names and key type come from its certificate") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  CertFiles f =
      make_cert(scratch.path(), "r", {"DNS:www.c.example", "DNS:c.example", "IP:127.0.0.1"},
                Algo::rsa2048, 30);
  RenewalConf conf = webroot_conf();
  conf.params.key_type = "ecdsa";  // what was asked for does not matter: the files are the truth
  REQUIRE(create_lineage(p, "c.example", f, conf));
  auto lineage = load_lineage(p, "c.example");
  REQUIRE_MESSAGE(lineage, lineage.error().describe());
  CHECK(lineage->names == std::vector<std::string>{"www.c.example", "c.example", "127.0.0.1"});
  CHECK(lineage->key.type == crypto::KeyType::rsa);
  CHECK(lineage->key.rsa_bits == 2048);
  CHECK(lineage->cert.subject_cn == "www.c.example");
  auto days = std::chrono::duration_cast<std::chrono::hours>(lineage->cert.not_after -
                                                             lineage->cert.not_before)
                  .count() /
              24;
  CHECK(days == 30);
  CHECK(lineage->name == "c.example");
  CHECK(lineage->conf_path == p.renewal_conf("c.example"));
}

TEST_CASE("a new version goes to N+1 and the live links follow it") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  CertFiles v1 = make_cert(scratch.path(), "v1", {"DNS:a.example"});
  CertFiles v2 = make_cert(scratch.path(), "v2", {"DNS:a.example", "DNS:new.example"});
  REQUIRE(create_lineage(p, "a.example", v1, webroot_conf()));
  auto conf = read_renewal_conf(p, "a.example");
  REQUIRE(conf);
  conf->params.preferred_profile = "shortlived";
  auto v = add_version(p, "a.example", v2, *conf);
  REQUIRE_MESSAGE(v, v.error().describe());
  CHECK(*v == 2);
  check_consistent(p, "a.example", 2, v2);
  CHECK(load_lineage(p, "a.example")->names ==
        std::vector<std::string>{"a.example", "new.example"});
  CHECK(read_renewal_conf(p, "a.example")->params.preferred_profile == "shortlived");
  // version 1 stays in the archive; no temporary or staging entries are left anywhere
  CHECK(entries(p.archive_dir("a.example")).size() == 8);
  CHECK(entries(p.live_dir()) == std::set<std::string>{"a.example"});
  CHECK(entries(p.renewal_dir()) == std::set<std::string>{"a.example.conf"});
}

TEST_CASE("a crash at any step of adding a version keeps the previous version complete") {
  const WriteStep steps[] = {WriteStep::archive_privkey,
                             WriteStep::archive_cert,
                             WriteStep::archive_chain,
                             WriteStep::archive_fullchain,
                             WriteStep::renewal_conf,
                             WriteStep::live_links,
                             WriteStep::done};
  test::TempDir scratch;
  CertFiles v1 = make_cert(scratch.path(), "v1", {"DNS:a.example"});
  CertFiles v2 = make_cert(scratch.path(), "v2", {"DNS:a.example"});
  CertFiles v3 = make_cert(scratch.path(), "v3", {"DNS:a.example"});
  for (WriteStep step : steps) {
    CAPTURE(step_name(step));
    test::TempDir root;
    Paths p = paths_in(root);
    REQUIRE(create_lineage(p, "a.example", v1, webroot_conf()));
    auto conf = read_renewal_conf(p, "a.example");
    REQUIRE(conf);
    conf->params.authenticator = "nginx";
    auto crashed = add_version(p, "a.example", v2, *conf, crash_at(step));
    REQUIRE_FALSE(crashed);
    CHECK(crashed.error().message.find("simulated crash") != std::string::npos);
    bool switched = step == WriteStep::done;
    check_consistent(p, "a.example", switched ? 2 : 1, switched ? v2 : v1);
    // the renewal conf is either the old or the new one, never a mix
    auto after = read_renewal_conf(p, "a.example");
    REQUIRE(after);
    bool conf_written = step > WriteStep::renewal_conf;
    CHECK(after->params.authenticator == (conf_written ? "nginx" : "webroot"));

    // the next write skips whatever the crash left behind and completes
    auto next = add_version(p, "a.example", v3, *after);
    REQUIRE_MESSAGE(next, next.error().describe());
    int expected = step == WriteStep::archive_privkey ? 2 : 3;
    CHECK(*next == expected);
    check_consistent(p, "a.example", expected, v3);
  }
}

TEST_CASE("a crash while creating a lineage never leaves a half-made lineage in the listing") {
  const WriteStep steps[] = {WriteStep::archive_privkey, WriteStep::archive_fullchain,
                             WriteStep::live_links, WriteStep::renewal_conf};
  test::TempDir scratch;
  CertFiles v1 = make_cert(scratch.path(), "v1", {"DNS:a.example"});
  for (WriteStep step : steps) {
    CAPTURE(step_name(step));
    test::TempDir root;
    Paths p = paths_in(root);
    REQUIRE_FALSE(create_lineage(p, "a.example", v1, webroot_conf(), crash_at(step)));
    CHECK(lineage_names(p)->empty());
    // the name stays taken by the leftovers, so a retry gets the next one
    auto name = new_lineage_name(p, "a.example");
    REQUIRE(name);
    CHECK(*name == "a.example-0001");
    REQUIRE(create_lineage(p, *name, v1, webroot_conf()));
    check_consistent(p, *name, 1, v1);
  }
}

TEST_CASE("leftover temporaries and a half-written version are ignored by the next write") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  CertFiles v1 = make_cert(scratch.path(), "v1", {"DNS:a.example"});
  CertFiles v3 = make_cert(scratch.path(), "v3", {"DNS:a.example"});
  REQUIRE(create_lineage(p, "a.example", v1, webroot_conf()));
  fs::path archive = p.archive_dir("a.example");
  // what a killed writer of version 2 leaves: some complete files, a temp file of another
  REQUIRE(sys::write_file_atomic(archive / "privkey2.pem", "garbage key", 0600));
  REQUIRE(sys::write_file_atomic(archive / "cert2.pem", "half a cert"));
  REQUIRE(sys::write_file_atomic(archive / ".chain2.pem.acmed-tmp-abcdef1234", "trunc"));
  REQUIRE(sys::write_file_atomic(p.renewal_dir() / ".a.example.conf.acmed-tmp-0123456789", "x"));
  // and a staging dir of the live switch
  REQUIRE(sys::make_dirs(p.live_dir() / ".a.example.acmed-new"));
  fs::create_symlink("../../archive/a.example/cert2.pem",
                     p.live_dir() / ".a.example.acmed-new/cert.pem");
  check_consistent(p, "a.example", 1, v1);
  REQUIRE(lineage_names(p)->size() == 1);

  auto v = add_version(p, "a.example", v3, *read_renewal_conf(p, "a.example"));
  REQUIRE_MESSAGE(v, v.error().describe());
  CHECK(*v == 3);
  check_consistent(p, "a.example", 3, v3);
  CHECK_FALSE(fs::exists(archive / ".chain2.pem.acmed-tmp-abcdef1234"));
  CHECK(entries(p.renewal_dir()) == std::set<std::string>{"a.example.conf"});
  CHECK(entries(p.live_dir()) == std::set<std::string>{"a.example"});
}

TEST_CASE("a write leaves other lineages' temporary files alone (renewals may run in parallel)") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  CertFiles f = make_cert(scratch.path(), "f", {"DNS:a.example"});
  REQUIRE(create_lineage(p, "a.example", f, webroot_conf()));
  const fs::path busy = p.renewal_dir() / ".b.example.conf.acmed-tmp-0123456789";
  REQUIRE(sys::write_file_atomic(busy, "being written by another worker"));
  REQUIRE(add_version(p, "a.example", f, *read_renewal_conf(p, "a.example")));
  CHECK(fs::exists(busy));
}

TEST_CASE("files a user put into the live dir survive the switch to a new version") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  CertFiles v1 = make_cert(scratch.path(), "v1", {"DNS:a.example"});
  CertFiles v2 = make_cert(scratch.path(), "v2", {"DNS:a.example"});
  REQUIRE(create_lineage(p, "a.example", v1, webroot_conf()));
  REQUIRE(sys::write_file_atomic(p.live_dir("a.example") / "dhparam.pem", "user data"));
  // and one stranded by a crash between the directory exchange and the cleanup
  REQUIRE(sys::make_dirs(p.live_dir() / ".a.example.acmed-new"));
  REQUIRE(sys::write_file_atomic(p.live_dir() / ".a.example.acmed-new/ocsp.der", "stranded"));
  REQUIRE(add_version(p, "a.example", v2, *read_renewal_conf(p, "a.example")));
  check_consistent(p, "a.example", 2, v2);
  CHECK(*sys::read_file(p.live_dir("a.example") / "dhparam.pem") == "user data");
  CHECK(*sys::read_file(p.live_dir("a.example") / "ocsp.der") == "stranded");
  CHECK(entries(p.live_dir()) == std::set<std::string>{"a.example"});
}

TEST_CASE("a lineage written by certbot loads, and renewing it keeps its conf's other keys") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  const std::string name = "example.org";
  CertFiles v1 = make_cert(scratch.path(), "v1", {"DNS:example.org", "DNS:www.example.org"});
  CertFiles v2 = make_cert(scratch.path(), "v2", {"DNS:example.org", "DNS:www.example.org"});
  CertFiles v3 = make_cert(scratch.path(), "v3", {"DNS:example.org"});
  // Lay out the files the way certbot does after one renewal.
  fs::path etc = fs::absolute(p.config_dir);
  REQUIRE(sys::make_dirs(p.archive_dir(name)));
  REQUIRE(sys::make_dirs(p.live_dir(name)));
  REQUIRE(sys::make_dirs(p.renewal_dir()));
  int n = 1;
  for (const CertFiles* f : {&v1, &v2}) {
    REQUIRE(sys::write_file_atomic(p.archive_dir(name) / ("cert" + std::to_string(n) + ".pem"),
                                   f->cert));
    REQUIRE(sys::write_file_atomic(p.archive_dir(name) / ("chain" + std::to_string(n) + ".pem"),
                                   f->chain));
    REQUIRE(sys::write_file_atomic(p.archive_dir(name) / ("fullchain" + std::to_string(n) + ".pem"),
                                   f->fullchain));
    REQUIRE(sys::write_file_atomic(p.archive_dir(name) / ("privkey" + std::to_string(n) + ".pem"),
                                   f->privkey, 0600));
    ++n;
  }
  for (const char* kind : k_kinds) {
    fs::create_symlink(fs::path("../../archive") / name / (std::string(kind) + "2.pem"),
                       p.live_dir(name) / (std::string(kind) + ".pem"));
  }
  const std::string conf_text =
      "# renew_before_expiry = 30 days\n"
      "version = 2.11.0\n"
      "archive_dir = " +
      (etc / "archive" / name).string() +
      "\n"
      "cert = " +
      (etc / "live" / name / "cert.pem").string() +
      "\n"
      "privkey = " +
      (etc / "live" / name / "privkey.pem").string() +
      "\n"
      "chain = " +
      (etc / "live" / name / "chain.pem").string() +
      "\n"
      "fullchain = " +
      (etc / "live" / name / "fullchain.pem").string() +
      "\n"
      "\n"
      "# Options used in the renewal process\n"
      "[renewalparams]\n"
      "account = 3f9b2c0d8e7a41f5b6c2d9e8a7b6c5d4\n"
      "authenticator = nginx\n"
      "installer = nginx\n"
      "server = https://acme-v02.api.letsencrypt.org/directory\n"
      "key_type = ecdsa\n"
      "nginx_ctl = nginx\n";
  REQUIRE(sys::write_file_atomic(p.renewal_conf(name), conf_text));

  auto lineage = load_lineage(p, name);
  REQUIRE_MESSAGE(lineage, lineage.error().describe());
  CHECK(lineage->version == 2);
  CHECK(lineage->names == std::vector<std::string>{"example.org", "www.example.org"});
  CHECK(lineage->conf.params.installer == "nginx");
  CHECK(lineage->key.type == crypto::KeyType::ecdsa);
  auto key = read_current_key(p, name);
  REQUIRE(key);
  CHECK(key->to_pem() == crypto::PrivateKey::from_pem(v2.privkey)->to_pem());

  auto v = add_version(p, name, v3, lineage->conf);
  REQUIRE_MESSAGE(v, v.error().describe());
  CHECK(*v == 3);
  check_consistent(p, name, 3, v3);
  std::string text = *sys::read_file(p.renewal_conf(name));
  CHECK(text.find("nginx_ctl = nginx\n") != std::string::npos);
  CHECK(text.rfind("# renew_before_expiry = 30 days\nversion = " ACMED_VERSION "\n", 0) == 0);
}

TEST_CASE("listing reports a broken lineage without hiding the others") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  CertFiles f = make_cert(scratch.path(), "f", {"DNS:a.example"});
  for (const char* n : {"a.example", "b.example", "c.example", "d.example", "e.example"}) {
    REQUIRE(create_lineage(p, n, f, webroot_conf()));
  }
  // b: its current certificate is garbage; c: malformed conf; d: links at two versions;
  // e: a live link is gone
  REQUIRE(sys::write_file_atomic(p.archive_dir("b.example") / "cert1.pem", "not a cert"));
  REQUIRE(sys::write_file_atomic(p.renewal_conf("c.example"), "version = 1\nthis is not ini\n"));
  REQUIRE(add_version(p, "d.example", f, *read_renewal_conf(p, "d.example")));
  REQUIRE(sys::replace_symlink(p.live_dir("d.example") / "privkey.pem",
                               "../../archive/d.example/privkey1.pem"));
  REQUIRE(sys::remove_file(p.live_dir("e.example") / "chain.pem"));
  REQUIRE(sys::write_file_atomic(p.renewal_dir() / "notes.txt", "ignored"));

  auto list = list_lineages(p);
  REQUIRE(list);
  REQUIRE(list->size() == 5);
  const auto& l = *list;
  CHECK(l[0].name == "a.example");
  CHECK(l[0].lineage.ok());
  CHECK(l[1].name == "b.example");
  REQUIRE_FALSE(l[1].lineage.ok());
  CHECK(l[2].name == "c.example");
  REQUIRE_FALSE(l[2].lineage.ok());
  CHECK(l[2].lineage.error().code == Errc::config);
  CHECK(l[2].lineage.error().message.find("c.example.conf:2:") != std::string::npos);
  REQUIRE_FALSE(l[3].lineage.ok());
  CHECK(l[3].lineage.error().code == Errc::config);
  CHECK(l[3].lineage.error().message.find("different versions") != std::string::npos);
  REQUIRE_FALSE(l[4].lineage.ok());
  CHECK(l[4].lineage.error().code == Errc::config);
  CHECK(l[4].lineage.error().describe().find("e.example") != std::string::npos);
}

TEST_CASE("a fullchain spelled differently from the certificate is accepted") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  CertFiles f = make_cert(scratch.path(), "f", {"DNS:a.example"});
  std::string crlf;
  for (char c : f.fullchain) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  f.fullchain = crlf;
  auto created = create_lineage(p, "a.example", f, webroot_conf());
  REQUIRE_MESSAGE(created, created.error().describe());
  CHECK(*sys::read_file(p.live_dir("a.example") / "fullchain.pem") == crlf);
}

TEST_CASE("a certificate that does not belong to the key is refused or reported") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  CertFiles f = make_cert(scratch.path(), "f", {"DNS:a.example"});
  CertFiles g = make_cert(scratch.path(), "g", {"DNS:a.example"});
  CertFiles mixed = f;
  mixed.privkey = g.privkey;
  auto refused = create_lineage(p, "a.example", mixed, webroot_conf());
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::crypto);
  CHECK_FALSE(lineage_exists(p, "a.example"));
  CertFiles garbage = f;
  garbage.cert = "not a certificate";
  CHECK_FALSE(create_lineage(p, "a.example", garbage, webroot_conf()));
  CertFiles wrong_fullchain = f;
  wrong_fullchain.fullchain = g.cert + f.chain;
  CHECK(create_lineage(p, "a.example", wrong_fullchain, webroot_conf()).error().code ==
        Errc::crypto);
  CHECK_FALSE(lineage_exists(p, "a.example"));

  REQUIRE(create_lineage(p, "a.example", f, webroot_conf()));
  auto bad_version = add_version(p, "a.example", mixed, *read_renewal_conf(p, "a.example"));
  REQUIRE_FALSE(bad_version);
  CHECK(bad_version.error().code == Errc::crypto);
  CHECK_FALSE(fs::exists(p.archive_dir("a.example") / "cert2.pem"));
  // a lineage whose files were mixed up behind acmed's back is reported, not trusted
  REQUIRE(sys::write_file_atomic(p.archive_dir("a.example") / "privkey1.pem", g.privkey, 0600));
  auto lineage = load_lineage(p, "a.example");
  REQUIRE_FALSE(lineage);
  CHECK(lineage.error().code == Errc::crypto);
}

TEST_CASE("creating over an existing lineage or with a bad name is refused") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  CertFiles f = make_cert(scratch.path(), "f", {"DNS:a.example"});
  REQUIRE(create_lineage(p, "a.example", f, webroot_conf()));
  auto again = create_lineage(p, "a.example", f, webroot_conf());
  REQUIRE_FALSE(again);
  CHECK(again.error().code == Errc::conflict);
  for (const char* bad : {"../evil", "", ".x", "a/b"}) {
    auto r = create_lineage(p, bad, f, webroot_conf());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_input);
  }
  CHECK(entries(p.live_dir()) == std::set<std::string>{"a.example"});
}

TEST_CASE("adding a version to an unknown lineage is not_found") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  CertFiles f = make_cert(scratch.path(), "f", {"DNS:a.example"});
  auto r = add_version(p, "missing.example", f, webroot_conf());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::not_found);
  CHECK(load_lineage(p, "missing.example").error().code == Errc::not_found);
  CHECK(read_current_key(p, "missing.example").error().code == Errc::not_found);
  CHECK_FALSE(fs::exists(p.archive_dir("missing.example")));
}

TEST_CASE("a renewal conf pointing outside the config dir is never written through") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  CertFiles f = make_cert(scratch.path(), "f", {"DNS:a.example"});
  REQUIRE(create_lineage(p, "a.example", f, webroot_conf()));
  auto conf = read_renewal_conf(p, "a.example");
  REQUIRE(conf);
  conf->archive_dir = root / "elsewhere";
  REQUIRE(sys::write_file_atomic(p.renewal_conf("a.example"), render_renewal_conf(*conf)));
  auto r = add_version(p, "a.example", f, *conf);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::conflict);
  CHECK_FALSE(fs::exists(root / "elsewhere"));
  CHECK_FALSE(fs::exists(p.archive_dir("a.example") / "cert2.pem"));
}

TEST_CASE("reuse_key reads the key the live links point at") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  CertFiles v1 = make_cert(scratch.path(), "v1", {"DNS:a.example"});
  CertFiles v2 = make_cert(scratch.path(), "v2", {"DNS:a.example"});
  REQUIRE(create_lineage(p, "a.example", v1, webroot_conf()));
  REQUIRE(add_version(p, "a.example", v2, *read_renewal_conf(p, "a.example")));
  auto key = read_current_key(p, "a.example");
  REQUIRE(key);
  CHECK(key->public_jwk() == crypto::PrivateKey::from_pem(v2.privkey)->public_jwk());
  REQUIRE(sys::write_file_atomic(p.archive_dir("a.example") / "privkey2.pem", "junk", 0600));
  auto bad = read_current_key(p, "a.example");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().describe().find("privkey.pem") != std::string::npos);
}

TEST_CASE("save_renewal_conf rewrites only the conf and keeps its paths") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  CertFiles f = make_cert(scratch.path(), "f", {"DNS:a.example"});
  REQUIRE(create_lineage(p, "a.example", f, webroot_conf()));
  RenewalConf fresh = webroot_conf();
  fresh.params.authenticator = "standalone";
  REQUIRE(save_renewal_conf(p, "a.example", fresh));
  auto lineage = load_lineage(p, "a.example");
  REQUIRE(lineage);
  CHECK(lineage->conf.params.authenticator == "standalone");
  CHECK(lineage->version == 1);
  CHECK(save_renewal_conf(p, "none.example", fresh).error().code == Errc::not_found);
}

TEST_CASE("the store writes nothing outside its config, work and logs dirs") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  CertFiles f = make_cert(scratch.path(), "f", {"DNS:a.example"});
  REQUIRE(create_lineage(p, "a.example", f, webroot_conf()));
  REQUIRE(add_version(p, "a.example", f, *read_renewal_conf(p, "a.example")));
  REQUIRE(save_status(p, "a.example", LineageStatus{}));
  auto key = crypto::PrivateKey::generate(crypto::KeySpec{});
  REQUIRE(key);
  REQUIRE(save_account(p, "https://acme.example/directory", *key, "https://acme.example/acct/1",
                       nlohmann::json::object(), std::chrono::system_clock::now()));
  CHECK(entries(root.path()) == std::set<std::string>{"etc", "lib"});
  // The store's write lock sits beside the lineages, where certbot keeps .certbot.lock, and is
  // not one of them.
  CHECK(entries(p.config_dir) ==
        std::set<std::string>{".acmed.lock", "accounts", "archive", "live", "renewal",
                              "renewal-hooks"});
  CHECK(entries(p.work_dir) == std::set<std::string>{"acmed"});
  CHECK(*lineage_names(p) == std::vector<std::string>{"a.example"});
  auto listed = list_lineages(p);
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().name == "a.example");
}

TEST_CASE("a live dir that is itself a symlink is updated link by link") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  CertFiles v1 = make_cert(scratch.path(), "v1", {"DNS:a.example"});
  CertFiles v2 = make_cert(scratch.path(), "v2", {"DNS:a.example"});
  REQUIRE(create_lineage(p, "a.example", v1, webroot_conf()));
  // Someone moved the live dir to a sibling tree of the same depth and left a symlink behind.
  REQUIRE(sys::make_dirs(p.config_dir / "live-moved"));
  fs::rename(p.live_dir("a.example"), p.config_dir / "live-moved" / "a.example");
  fs::create_directory_symlink("../live-moved/a.example", p.live_dir("a.example"));
  check_consistent(p, "a.example", 1, v1);
  REQUIRE(add_version(p, "a.example", v2, *read_renewal_conf(p, "a.example")));
  CHECK(fs::is_symlink(p.live_dir("a.example")));
  check_consistent(p, "a.example", 2, v2);
  CHECK(entries(p.live_dir()) == std::set<std::string>{"a.example"});
}

TEST_CASE("update_symlinks repairs missing, absolute and mismatched live links from the archive") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  CertFiles v1 = make_cert(scratch.path(), "v1", {"DNS:a.example"});
  CertFiles v2 = make_cert(scratch.path(), "v2", {"DNS:a.example"});
  REQUIRE(create_lineage(p, "a.example", v1, webroot_conf()));
  REQUIRE(*add_version(p, "a.example", v2, *read_renewal_conf(p, "a.example")) == 2);
  fs::path live = p.live_dir("a.example");

  SUBCASE("links that agree on a complete version are rewritten as they were") {
    REQUIRE(*update_symlinks(p, "a.example") == 2);
    check_consistent(p, "a.example", 2, v2);
  }
  SUBCASE("an absolute link to version 1 and the others at 2: the highest complete version") {
    fs::remove(live / "cert.pem");
    fs::create_symlink(p.archive_dir("a.example") / "cert1.pem", live / "cert.pem");
    REQUIRE_FALSE(load_lineage(p, "a.example"));
    REQUIRE(*update_symlinks(p, "a.example") == 2);
    check_consistent(p, "a.example", 2, v2);
  }
  SUBCASE("all links at version 1, one of them absolute: kept at 1, made relative") {
    for (const char* kind : k_kinds) {
      fs::remove(live / (std::string(kind) + ".pem"));
      fs::create_symlink(p.archive_dir("a.example") / (std::string(kind) + "1.pem"),
                         live / (std::string(kind) + ".pem"));
    }
    REQUIRE(*update_symlinks(p, "a.example") == 1);
    check_consistent(p, "a.example", 1, v1);
  }
  SUBCASE("the live dir is gone and version 2 lost its key: version 1") {
    fs::remove_all(live);
    fs::remove(p.archive_dir("a.example") / "privkey2.pem");
    REQUIRE(*update_symlinks(p, "a.example") == 1);
    check_consistent(p, "a.example", 1, v1);
  }
  SUBCASE("no complete version: Errc::config, links untouched") {
    fs::remove(p.archive_dir("a.example") / "privkey1.pem");
    fs::remove(p.archive_dir("a.example") / "privkey2.pem");
    auto before = fs::read_symlink(live / "cert.pem");
    auto r = update_symlinks(p, "a.example");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::config);
    CHECK(fs::read_symlink(live / "cert.pem") == before);
  }
  SUBCASE("an unknown lineage: Errc::not_found") {
    auto r = update_symlinks(p, "b.example");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::not_found);
  }
}
