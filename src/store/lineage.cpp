#include "acmed/store/lineage.hpp"

#include "acmed/store/lock.hpp"

#include "acmed/sys/fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace acmed::store {

namespace {

struct Kind {
  const char* name;  // "cert", ... as in certN.pem and cert.pem
  mode_t mode;       // of the archive file
};

// The order in which archive files are written; the live links come from the same list.
constexpr std::array<Kind, 4> k_kinds{{
    {"privkey", 0600},
    {"cert", 0644},
    {"chain", 0644},
    {"fullchain", 0644},
}};
constexpr std::array<WriteStep, 4> k_archive_steps{
    WriteStep::archive_privkey, WriteStep::archive_cert, WriteStep::archive_chain,
    WriteStep::archive_fullchain};

constexpr const char* k_readme =
    "This directory holds the current certificate of this lineage, written by acmed in the\n"
    "layout certbot uses.\n"
    "\n"
    "  privkey.pem    the certificate's private key (keep it secret)\n"
    "  fullchain.pem  the certificate followed by the intermediates: what most servers want\n"
    "  cert.pem       the certificate alone\n"
    "  chain.pem      the intermediates alone\n"
    "\n"
    "Each file is a relative symlink to the newest version in ../../archive/<name>/. Point your\n"
    "server at the files here, never at archive/: renewal adds a new version and switches these\n"
    "links. Do not move or rename these files.\n";

constexpr const char* k_staging_suffix = ".acmed-new";
constexpr std::string_view k_tmp_marker = ".acmed-tmp-";

const fs::path& link_of(const RenewalConf& conf, const Kind& kind) {
  std::string_view k = kind.name;
  if (k == "cert") return conf.cert;
  if (k == "chain") return conf.chain;
  if (k == "fullchain") return conf.fullchain;
  return conf.privkey;
}

const std::string& content_of(const CertFiles& files, const Kind& kind) {
  std::string_view k = kind.name;
  if (k == "cert") return files.cert;
  if (k == "chain") return files.chain;
  if (k == "fullchain") return files.fullchain;
  return files.privkey;
}

Status run_hook(const WriteHook& hook, WriteStep step) {
  if (!hook) return {};
  return hook(step);
}

// `p` made absolute and normal; `p` as given (normalised) when the working directory is gone.
fs::path absolute_normal(const fs::path& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  return (ec ? p : abs).lexically_normal();
}

fs::path config_root(const Paths& paths) { return absolute_normal(paths.config_dir); }

// The renewal conf paths certbot writes for lineage `name`: absolute, under the config dir.
void set_standard_paths(const Paths& paths, std::string_view name, RenewalConf& conf) {
  Paths abs = paths;
  abs.config_dir = config_root(paths);
  conf.archive_dir = abs.archive_dir(name);
  conf.cert = abs.live_dir(name) / "cert.pem";
  conf.privkey = abs.live_dir(name) / "privkey.pem";
  conf.chain = abs.live_dir(name) / "chain.pem";
  conf.fullchain = abs.live_dir(name) / "fullchain.pem";
}

Status check_standard_paths(const Paths& paths, std::string_view name, const RenewalConf& conf) {
  RenewalConf expected;
  set_standard_paths(paths, name, expected);
  auto same = [](const fs::path& a, const fs::path& b) {
    return a.lexically_normal() == b.lexically_normal();
  };
  if (same(conf.archive_dir, expected.archive_dir) && same(conf.cert, expected.cert) &&
      same(conf.privkey, expected.privkey) && same(conf.chain, expected.chain) &&
      same(conf.fullchain, expected.fullchain)) {
    return {};
  }
  return Error(Errc::conflict,
               conf.file_name + " points at files outside " + expected.archive_dir.string() +
                   " and " + expected.cert.parent_path().string(),
               "acmed only writes inside its config dir; fix the paths in the renewal conf or "
               "pass the matching --config-dir");
}

// Version number of "<kind>N.pem", or 0 when `file` is not such a name.
int version_of(std::string_view file, std::string_view kind) {
  if (!file.starts_with(kind) || !file.ends_with(".pem")) return 0;
  std::string_view digits = file.substr(kind.size(), file.size() - kind.size() - 4);
  if (digits.empty() || digits.front() == '0') return 0;
  int n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size()) return 0;
  return n;
}

// 1 + the highest N of any archive file, so that a half-written version is never reused.
Result<int> next_version(const fs::path& archive) {
  std::error_code ec;
  int highest = 0;
  fs::directory_iterator it(archive, ec);
  if (ec == std::errc::no_such_file_or_directory) return 1;
  if (ec) return Error(Errc::io, "cannot list " + archive.string() + ": " + ec.message());
  for (const auto& entry : it) {
    std::string file = entry.path().filename().string();
    for (const auto& kind : k_kinds) highest = std::max(highest, version_of(file, kind.name));
  }
  return highest + 1;
}

// Removes temp files of interrupted atomic writes (".x.acmed-tmp-..."), best effort.
// `only_file` limits the cleanup to temporaries of that one file: the renewal dir is shared by
// lineages that `acmed renew --jobs N` writes at the same time.
void remove_temporaries(const fs::path& dir, const std::string& only_file = {}) {
  std::error_code ec;
  std::string own = "." + only_file + std::string(k_tmp_marker);
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string file = it->path().filename().string();
    if (!only_file.empty() && !file.starts_with(own)) continue;
    if (file.starts_with(".") && file.find(k_tmp_marker) != std::string::npos) {
      fs::remove(it->path(), ec);
    }
  }
}

bool is_our_live_entry(std::string_view file) {
  if (file == "README") return true;
  return std::any_of(k_kinds.begin(), k_kinds.end(),
                     [&](const Kind& k) { return file == std::string(k.name) + ".pem"; });
}

// Removes a staging dir left by this or an earlier write. When it is the previous live dir (after
// an exchange), files a user put there are moved back into the live dir first.
Status retire_staging(const fs::path& staging, const fs::path& live) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(staging, ec))) return {};
  bool live_is_dir = fs::is_directory(fs::symlink_status(live, ec));
  for (fs::directory_iterator it(staging, ec), end; !ec && it != end; it.increment(ec)) {
    std::string file = it->path().filename().string();
    if (is_our_live_entry(file) || file.find(k_tmp_marker) != std::string::npos) continue;
    if (live_is_dir && !fs::exists(fs::symlink_status(live / file, ec))) {
      if (::rename(it->path().c_str(), (live / file).c_str()) != 0) {
        return Error(Errc::io, "cannot move " + it->path().string() + " back into " +
                                   live.string() + ": " + std::strerror(errno));
      }
    }
  }
  fs::remove_all(staging, ec);
  if (ec) return Error(Errc::io, "cannot remove " + staging.string() + ": " + ec.message());
  return {};
}

fs::path link_target(std::string_view name, const Kind& kind, int version) {
  return fs::path("..") / ".." / "archive" / std::string(name) /
         (std::string(kind.name) + std::to_string(version) + ".pem");
}

// Points the live links of `name` at `version`, all four at once (see lineage.hpp).
Status publish_live(const Paths& paths, std::string_view name, int version) {
  fs::path live = paths.live_dir(name);
  fs::path staging = paths.live_dir() / ("." + std::string(name) + k_staging_suffix);
  ACMED_CHECK(retire_staging(staging, live));
  ACMED_CHECK(sys::make_dirs(staging, 0755));
  for (const auto& kind : k_kinds) {
    fs::path link = staging / (std::string(kind.name) + ".pem");
    if (::symlink(link_target(name, kind, version).c_str(), link.c_str()) != 0) {
      return Error(Errc::io,
                   "cannot create symlink " + link.string() + ": " + std::strerror(errno));
    }
  }
  ACMED_CHECK(sys::write_file_atomic(staging / "README", k_readme, 0644));
  ACMED_CHECK(sys::sync_dir(staging));

  std::error_code ec;
  auto live_status = fs::symlink_status(live, ec);
  if (!fs::exists(live_status)) {
    if (::rename(staging.c_str(), live.c_str()) != 0) {
      return Error(Errc::io, "cannot rename " + staging.string() + " to " + live.string() + ": " +
                                 std::strerror(errno));
    }
    return sys::sync_dir(paths.live_dir());
  }
  if (fs::is_directory(live_status)) {
    if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, live.c_str(), RENAME_EXCHANGE) == 0) {
      ACMED_CHECK(sys::sync_dir(paths.live_dir()));
      // The new version is live: failing to tidy the previous dir (now at `staging`) must not
      // report the write as failed. Whatever is left is retired by the next write.
      static_cast<void>(retire_staging(staging, live));
      return {};
    }
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
      return Error(Errc::io, "cannot exchange " + staging.string() + " with " + live.string() +
                                 ": " + std::strerror(errno));
    }
  }
  // The file system cannot exchange directories (or live is not a plain directory): replace each
  // link atomically on its own, as certbot does. A crash in this loop can leave links at two
  // versions; load_lineage then reports the lineage as inconsistent.
  for (const auto& kind : k_kinds) {
    ACMED_CHECK(sys::replace_symlink(live / (std::string(kind.name) + ".pem"),
                                     link_target(name, kind, version)));
  }
  if (!fs::exists(live / "README", ec)) {
    ACMED_CHECK(sys::write_file_atomic(live / "README", k_readme, 0644));
  }
  return retire_staging(staging, live);
}

// The previous key's mode and group (certbot carries them over so services that read the key
// through a group keep working); nullopt when it cannot be read (then 0600, as a first key).
std::optional<struct stat> previous_key(const fs::path& live_privkey) {
  struct stat st {};
  if (live_privkey.empty() || ::stat(live_privkey.c_str(), &st) != 0) return std::nullopt;
  return st;
}

// The new key is written 0600 first; only then does it get the previous key's group and, after
// that, that group's bits, so it is never readable by more than the previous key was.
Status carry_over_key_access(const fs::path& file, const struct stat& previous) {
  if (::chown(file.c_str(), static_cast<uid_t>(-1), previous.st_gid) != 0) {
    return Error(Errc::io, "cannot give " + file.string() + " the group of the previous key: " +
                               std::strerror(errno));
  }
  if (::chmod(file.c_str(), private_key_mode(previous.st_mode)) != 0) {
    return Error(Errc::io, "cannot set the mode of " + file.string() + ": " + std::strerror(errno));
  }
  return {};
}

Status write_archive(const Paths& paths, std::string_view name, int version, const CertFiles& files,
                     const WriteHook& hook, const std::optional<struct stat>& old_key = {}) {
  fs::path archive = paths.archive_dir(name);
  for (std::size_t i = 0; i < k_kinds.size(); ++i) {
    ACMED_CHECK(run_hook(hook, k_archive_steps[i]));
    const Kind& kind = k_kinds[i];
    fs::path file = archive / (std::string(kind.name) + std::to_string(version) + ".pem");
    ACMED_CHECK(sys::write_file_atomic(file, content_of(files, kind), kind.mode));
    if (old_key && std::string_view(kind.name) == "privkey") {
      ACMED_CHECK(carry_over_key_access(file, *old_key));
    }
  }
  return {};
}

Status write_conf(const Paths& paths, std::string_view name, RenewalConf& conf) {
  conf.version = ACMED_VERSION;
  ACMED_CHECK(sys::make_dirs(paths.renewal_dir(), 0755));
  return sys::write_file_atomic(paths.renewal_conf(name), render_renewal_conf(conf), 0644);
}

Status make_lineage_dirs(const Paths& paths, std::string_view name) {
  ACMED_CHECK(sys::make_dirs(paths.config_dir, 0755));
  // certbot creates the directory hooks' homes with the first lineage; users expect them there.
  for (const char* kind : {"pre", "deploy", "post"}) {
    ACMED_CHECK(sys::make_dirs(paths.config_dir / "renewal-hooks" / kind, 0755));
  }
  ACMED_CHECK(sys::make_dirs(paths.archive_dir(), 0700));
  ACMED_CHECK(sys::make_dirs(paths.live_dir(), 0700));
  return sys::make_dirs(paths.archive_dir(name), 0755);
}

// Refuses files that would make an inconsistent lineage: a certificate that does not parse or
// does not belong to the key, or a fullchain that does not start with that certificate (compared
// by fingerprint, so PEM line ends and spacing do not matter).
Status check_files(const CertFiles& files) {
  ACMED_TRY(crypto::CertInfo cert, crypto::parse_certificate(files.cert));
  ACMED_TRY(crypto::PrivateKey key, crypto::PrivateKey::from_pem(files.privkey));
  if (!crypto::certificate_matches_key(files.cert, key)) {
    return Error(Errc::crypto, "the new certificate does not belong to its private key");
  }
  auto leaf = crypto::parse_certificate(files.fullchain);
  if (!leaf || leaf->sha256_fingerprint != cert.sha256_fingerprint) {
    return Error(Errc::crypto, "the new fullchain does not start with the new certificate");
  }
  return {};
}

std::string where(std::string_view name) {
  return "while writing lineage " + std::string(name);
}

// Where a live link points, as an absolute normal path; Errc::config when it is not a symlink.
Result<fs::path> resolve_link(const fs::path& link) {
  std::error_code ec;
  fs::path target = fs::read_symlink(link, ec);
  if (ec) {
    return Error(Errc::config,
                 link.string() + " is not a symlink into the archive: " + ec.message(),
                 "recreate the links (certbot update_symlinks) or renew the certificate");
  }
  if (target.is_relative()) target = link.parent_path() / target;
  return absolute_normal(target);
}

Result<Lineage> load_lineage_impl(const Paths& paths, std::string_view name) {
  ACMED_CHECK(validate_lineage_name(name));
  Lineage lineage;
  lineage.name = std::string(name);
  lineage.conf_path = paths.renewal_conf(name);
  ACMED_TRY(lineage.conf, read_renewal_conf(paths, name));
  const RenewalConf& conf = lineage.conf;
  if (conf.archive_dir.empty()) {
    return Error(Errc::config, conf.file_name + " has no archive_dir");
  }
  fs::path archive = absolute_normal(conf.archive_dir);
  fs::path cert_file, key_file;
  for (const auto& kind : k_kinds) {
    const fs::path& link = link_of(conf, kind);
    if (link.empty()) {
      return Error(Errc::config, conf.file_name + " has no '" + kind.name + "' path");
    }
    ACMED_TRY(fs::path target, resolve_link(link));
    int version = version_of(target.filename().string(), kind.name);
    if (target.parent_path() != archive || version == 0) {
      return Error(Errc::config,
                   link.string() + " points at " + target.string() + ", not at a " + kind.name +
                       "N.pem in " + archive.string(),
                   "recreate the links (certbot update_symlinks) or renew the certificate");
    }
    if (lineage.version != 0 && version != lineage.version) {
      return Error(Errc::config,
                   "the live links of " + lineage.name + " point at different versions (" +
                       std::to_string(lineage.version) + " and " + std::to_string(version) + ")",
                   "point them all at one complete version (certbot update_symlinks)");
    }
    lineage.version = version;
    if (std::string_view(kind.name) == "cert") cert_file = target;
    if (std::string_view(kind.name) == "privkey") key_file = target;
  }
  ACMED_TRY(std::string cert_pem, sys::read_file(cert_file));
  ACMED_TRY(lineage.cert, crypto::parse_certificate(cert_pem));
  ACMED_TRY(std::string key_pem, sys::read_file(key_file));
  ACMED_TRY(crypto::PrivateKey key, crypto::PrivateKey::from_pem(key_pem));
  if (!crypto::certificate_matches_key(cert_pem, key)) {
    return Error(Errc::crypto, cert_file.string() + " does not belong to " + key_file.string(),
                 "the lineage is inconsistent; renew it with a new key");
  }
  lineage.key = key.spec();
  lineage.names = lineage.cert.dns_names;
  lineage.names.insert(lineage.names.end(), lineage.cert.ips.begin(), lineage.cert.ips.end());
  return lineage;
}

}  // namespace

Result<RenewalConf> read_renewal_conf(const Paths& paths, std::string_view name) {
  ACMED_CHECK(validate_lineage_name(name));
  fs::path file = paths.renewal_conf(name);
  auto text = sys::read_file_limited(file, 1 << 20);
  if (!text) {
    if (text.error().code == Errc::not_found) {
      return Error(
          Errc::not_found,
          "no certificate named '" + std::string(name) + "' (" + file.string() + " does not exist)",
          "list the certificates acmed knows with 'acmed certificates'");
    }
    return std::move(text).error();
  }
  return parse_renewal_conf(*text, file.string());
}

mode_t private_key_mode(mode_t previous) {
  // Group read/write/execute and others' read, never more (certbot's rule).
  return 0600 | (previous & (S_IRWXG | S_IROTH));
}

Result<int> create_lineage(const Paths& paths, std::string_view name, const CertFiles& files,
                           RenewalConf conf, const WriteHook& hook) {
  ACMED_CHECK(validate_lineage_name(name));
  ACMED_TRY(auto lock, StoreLock::acquire(paths));
  if (lineage_exists(paths, name)) {
    return Error(Errc::conflict, "a certificate named '" + std::string(name) + "' already exists",
                 "renew it, or choose another name with --cert-name");
  }
  auto result = [&]() -> Status {
    ACMED_CHECK(check_files(files));
    ACMED_CHECK(make_lineage_dirs(paths, name));
    ACMED_CHECK(write_archive(paths, name, 1, files, hook));
    ACMED_CHECK(run_hook(hook, WriteStep::live_links));
    ACMED_CHECK(publish_live(paths, name, 1));
    ACMED_CHECK(run_hook(hook, WriteStep::renewal_conf));
    set_standard_paths(paths, name, conf);
    ACMED_CHECK(write_conf(paths, name, conf));
    return run_hook(hook, WriteStep::done);
  }();
  if (!result) return std::move(result).error().with_context(where(name));
  return 1;
}

Result<int> add_version(const Paths& paths, std::string_view name, const CertFiles& files,
                        RenewalConf conf, const WriteHook& hook) {
  ACMED_TRY(auto lock, StoreLock::acquire(paths));
  ACMED_TRY(RenewalConf on_disk, read_renewal_conf(paths, name));
  ACMED_CHECK(check_standard_paths(paths, name, on_disk));
  int version = 0;
  auto result = [&]() -> Status {
    ACMED_CHECK(check_files(files));
    ACMED_CHECK(make_lineage_dirs(paths, name));
    remove_temporaries(paths.archive_dir(name));
    remove_temporaries(paths.renewal_dir(), std::string(name) + ".conf");
    ACMED_TRY(version, next_version(paths.archive_dir(name)));
    ACMED_CHECK(write_archive(paths, name, version, files, hook, previous_key(on_disk.privkey)));
    ACMED_CHECK(run_hook(hook, WriteStep::renewal_conf));
    set_standard_paths(paths, name, conf);
    ACMED_CHECK(write_conf(paths, name, conf));
    ACMED_CHECK(run_hook(hook, WriteStep::live_links));
    ACMED_CHECK(publish_live(paths, name, version));
    return run_hook(hook, WriteStep::done);
  }();
  if (!result) return std::move(result).error().with_context(where(name));
  return version;
}

namespace {

// The four archive files of `version` if all exist and the certificate belongs to the key.
bool complete_version(const Paths& paths, std::string_view name, int version) {
  auto read = [&](const char* kind) {
    return sys::read_file(paths.archive_dir(name) /
                          (std::string(kind) + std::to_string(version) + ".pem"));
  };
  auto cert = read("cert"), chain = read("chain"), fullchain = read("fullchain"),
       privkey = read("privkey");
  if (!cert || !chain || !fullchain || !privkey) return false;
  return bool(check_files(CertFiles{*cert, *chain, *fullchain, *privkey}));
}

// The version all four live links name ("cert3.pem" ... in any dir), or 0.
int linked_version(const Paths& paths, std::string_view name) {
  int version = 0;
  for (const auto& kind : k_kinds) {
    std::error_code ec;
    fs::path target = fs::read_symlink(paths.live_dir(name) / (std::string(kind.name) + ".pem"), ec);
    int v = ec ? 0 : version_of(target.filename().string(), kind.name);
    if (v == 0 || (version != 0 && v != version)) return 0;
    version = v;
  }
  return version;
}

}  // namespace

Result<int> update_symlinks(const Paths& paths, std::string_view name) {
  ACMED_TRY(auto lock, StoreLock::acquire(paths));
  ACMED_TRY(RenewalConf conf, read_renewal_conf(paths, name));
  ACMED_CHECK(check_standard_paths(paths, name, conf));
  int version = linked_version(paths, name);
  if (version == 0 || !complete_version(paths, name, version)) {
    ACMED_TRY(int next, next_version(paths.archive_dir(name)));
    version = next - 1;
    while (version > 0 && !complete_version(paths, name, version)) --version;
  }
  if (version == 0) {
    return Error(Errc::config,
                 paths.archive_dir(name).string() +
                     " holds no complete version (cert, chain, fullchain and privkey N.pem whose "
                     "certificate belongs to the key)",
                 "obtain a new certificate: acmed certonly --cert-name " + std::string(name) +
                     " --force-renewal");
  }
  ACMED_CHECK(publish_live(paths, name, version));
  return version;
}

Status save_renewal_conf(const Paths& paths, std::string_view name, RenewalConf conf) {
  ACMED_TRY(auto lock, StoreLock::acquire(paths));
  ACMED_TRY(RenewalConf on_disk, read_renewal_conf(paths, name));
  if (conf.archive_dir.empty()) {
    conf.archive_dir = on_disk.archive_dir;
    conf.cert = on_disk.cert;
    conf.privkey = on_disk.privkey;
    conf.chain = on_disk.chain;
    conf.fullchain = on_disk.fullchain;
  }
  return write_conf(paths, name, conf);
}

Status update_renewal_conf(const Paths& paths, std::string_view name,
                           const std::function<Status(RenewalConf&)>& edit, sys::LockWait wait) {
  ACMED_TRY(auto lock, StoreLock::acquire(paths, wait));
  ACMED_TRY(RenewalConf conf, read_renewal_conf(paths, name));
  ACMED_CHECK(edit(conf));
  return save_renewal_conf(paths, name, std::move(conf));
}

Result<Lineage> load_lineage(const Paths& paths, std::string_view name) {
  auto lineage = load_lineage_impl(paths, name);
  if (!lineage) {
    return std::move(lineage).error().with_context("while loading certificate " +
                                                   std::string(name));
  }
  return lineage;
}

Result<std::vector<std::string>> lineage_names(const Paths& paths) {
  std::vector<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(paths.renewal_dir(), ec);
  if (ec == std::errc::no_such_file_or_directory) return names;
  if (ec)
    return Error(Errc::io, "cannot list " + paths.renewal_dir().string() + ": " + ec.message());
  for (fs::directory_iterator end; it != end; it.increment(ec)) {
    if (ec)
      return Error(Errc::io, "cannot list " + paths.renewal_dir().string() + ": " + ec.message());
    std::string file = it->path().filename().string();
    if (file.starts_with(".") || !file.ends_with(".conf") || file.size() == 5) continue;
    names.push_back(file.substr(0, file.size() - 5));
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<LineageEntry>> list_lineages(const Paths& paths) {
  ACMED_TRY(auto names, lineage_names(paths));
  std::vector<LineageEntry> out;
  out.reserve(names.size());
  for (auto& name : names) {
    auto lineage = load_lineage(paths, name);
    out.push_back(LineageEntry{std::move(name), std::move(lineage)});
  }
  return out;
}

Result<crypto::PrivateKey> read_current_key(const Paths& paths, std::string_view name) {
  ACMED_TRY(RenewalConf conf, read_renewal_conf(paths, name));
  if (conf.privkey.empty()) return Error(Errc::config, conf.file_name + " has no 'privkey' path");
  ACMED_TRY(std::string pem, sys::read_file(conf.privkey));
  auto key = crypto::PrivateKey::from_pem(pem);
  if (!key) return std::move(key).error().with_context("while reading " + conf.privkey.string());
  return key;
}

}  // namespace acmed::store
