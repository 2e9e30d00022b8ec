#include "acmed/store/status.hpp"

#include "acmed/sys/fs.hpp"
#include "acmed/sys/lock.hpp"

#include "acmed/crypto/encoding.hpp"

#include <algorithm>

namespace acmed::store {

namespace {

using nlohmann::json;

constexpr int k_format = 1;

void put_time(json& j, const char* key, const std::optional<sys::TimePoint>& t) {
  if (t) j[key] = sys::format_rfc3339(*t);
}

Status get_time(const json& j, const char* key, std::optional<sys::TimePoint>& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  sys::TimePoint t;
  if (!it->is_string() || !sys::parse_rfc3339(it->get<std::string>(), t)) {
    return Error(Errc::config, std::string("'") + key + "' is not an RFC 3339 time");
  }
  out = t;
  return {};
}

Status get_string(const json& j, const char* key, std::string& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_string()) return Error(Errc::config, std::string("'") + key + "' is not a string");
  out = it->get<std::string>();
  return {};
}

json stamp_to_json(const sys::FileStamp& f) {
  return {{"dev", f.dev}, {"ino", f.ino}, {"size", f.size}, {"mtime_ns", f.mtime_ns},
          {"ctime_ns", f.ctime_ns}};
}

template <typename Int>
Status get_int(const json& j, const char* key, Int& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) {
    return Error(Errc::config, std::string("'") + key + "' is not an integer");
  }
  out = it->get<Int>();
  return {};
}

Status get_strings(const json& j, const char* key, std::vector<std::string>& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_array()) return Error(Errc::config, std::string("'") + key + "' is not a list");
  for (const auto& v : *it) {
    if (!v.is_string()) return Error(Errc::config, std::string("'") + key + "' holds a non-string");
    out.push_back(v.get<std::string>());
  }
  return {};
}

Status get_bytes(const json& j, const char* key, std::string& out) {
  std::string text;
  ACMED_CHECK(get_string(j, key, text));
  auto bytes = crypto::base64url_decode(text);
  if (!bytes) return Error(Errc::config, std::string("'") + key + "' is not base64url");
  out = std::move(*bytes);
  return {};
}

json cert_to_json(const CertCache& c) {
  const crypto::CertInfo& i = c.info;
  return {{"file", stamp_to_json(c.file)},
          {"subject_cn", i.subject_cn},
          {"issuer_cn", i.issuer_cn},
          {"dns_names", i.dns_names},
          {"ips", i.ips},
          {"not_before", sys::format_rfc3339(i.not_before)},
          {"not_after", sys::format_rfc3339(i.not_after)},
          {"serial", crypto::base64url_encode(i.serial)},
          {"authority_key_id", crypto::base64url_encode(i.authority_key_id)},
          {"subject_key_id", crypto::base64url_encode(i.subject_key_id)},
          {"sha256_fingerprint", i.sha256_fingerprint},
          {"is_ca", i.is_ca}};
}

Result<CertCache> cert_from_json(const json& j) {
  if (!j.is_object()) return Error(Errc::config, "'cert' is not an object");
  CertCache c;
  auto file = j.find("file");
  if (file == j.end() || !file->is_object()) return Error(Errc::config, "'cert.file' is missing");
  ACMED_CHECK(get_int(*file, "dev", c.file.dev));
  ACMED_CHECK(get_int(*file, "ino", c.file.ino));
  ACMED_CHECK(get_int(*file, "size", c.file.size));
  ACMED_CHECK(get_int(*file, "mtime_ns", c.file.mtime_ns));
  ACMED_CHECK(get_int(*file, "ctime_ns", c.file.ctime_ns));
  crypto::CertInfo& i = c.info;
  ACMED_CHECK(get_string(j, "subject_cn", i.subject_cn));
  ACMED_CHECK(get_string(j, "issuer_cn", i.issuer_cn));
  ACMED_CHECK(get_strings(j, "dns_names", i.dns_names));
  ACMED_CHECK(get_strings(j, "ips", i.ips));
  std::optional<sys::TimePoint> nb, na;
  ACMED_CHECK(get_time(j, "not_before", nb));
  ACMED_CHECK(get_time(j, "not_after", na));
  if (!nb || !na) return Error(Errc::config, "'cert' lacks its validity times");
  i.not_before = *nb;
  i.not_after = *na;
  ACMED_CHECK(get_bytes(j, "serial", i.serial));
  ACMED_CHECK(get_bytes(j, "authority_key_id", i.authority_key_id));
  ACMED_CHECK(get_bytes(j, "subject_key_id", i.subject_key_id));
  ACMED_CHECK(get_string(j, "sha256_fingerprint", i.sha256_fingerprint));
  if (auto it = j.find("is_ca"); it != j.end() && it->is_boolean()) i.is_ca = it->get<bool>();
  return c;
}

}  // namespace

json status_to_json(const LineageStatus& s) {
  json j = json::object();
  j["format"] = k_format;
  put_time(j, "last_checked", s.last_checked);
  put_time(j, "last_attempt", s.last_attempt);
  put_time(j, "last_renewed", s.last_renewed);
  put_time(j, "next_due", s.next_due);
  if (!s.last_error.empty()) j["last_error"] = s.last_error;
  j["failure_count"] = s.failure_count;
  if (s.ari) {
    json a = json::object();
    if (!s.ari->cert_id.empty()) a["cert_id"] = s.ari->cert_id;
    put_time(a, "window_start", s.ari->window_start);
    put_time(a, "window_end", s.ari->window_end);
    put_time(a, "retry_after_until", s.ari->retry_after_until);
    if (!s.ari->explanation_url.empty()) a["explanation_url"] = s.ari->explanation_url;
    put_time(a, "chosen_time", s.ari->chosen_time);
    j["ari"] = std::move(a);
  }
  if (!s.replaces_refused.empty()) j["replaces_refused"] = s.replaces_refused;
  if (!s.stale_alerted.empty()) j["stale_alerted"] = s.stale_alerted;
  if (s.cert) j["cert"] = cert_to_json(*s.cert);
  return j;
}

Result<LineageStatus> status_from_json(const json& j) {
  if (!j.is_object()) return Error(Errc::config, "status is not a JSON object");
  LineageStatus s;
  ACMED_CHECK(get_time(j, "last_checked", s.last_checked));
  ACMED_CHECK(get_time(j, "last_attempt", s.last_attempt));
  ACMED_CHECK(get_time(j, "last_renewed", s.last_renewed));
  ACMED_CHECK(get_time(j, "next_due", s.next_due));
  ACMED_CHECK(get_string(j, "last_error", s.last_error));
  if (auto it = j.find("failure_count"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<long long>() < 0 || it->get<long long>() > 1000000) {
      return Error(Errc::config, "'failure_count' is not a small non-negative integer");
    }
    s.failure_count = it->get<int>();
  }
  if (auto it = j.find("ari"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return Error(Errc::config, "'ari' is not an object");
    AriState a;
    ACMED_CHECK(get_string(*it, "cert_id", a.cert_id));
    ACMED_CHECK(get_time(*it, "window_start", a.window_start));
    ACMED_CHECK(get_time(*it, "window_end", a.window_end));
    ACMED_CHECK(get_time(*it, "retry_after_until", a.retry_after_until));
    ACMED_CHECK(get_string(*it, "explanation_url", a.explanation_url));
    ACMED_CHECK(get_time(*it, "chosen_time", a.chosen_time));
    s.ari = std::move(a);
  }
  ACMED_CHECK(get_string(j, "replaces_refused", s.replaces_refused));
  ACMED_CHECK(get_string(j, "stale_alerted", s.stale_alerted));
  if (auto it = j.find("cert"); it != j.end() && !it->is_null()) {
    ACMED_TRY(s.cert, cert_from_json(*it));
  }
  return s;
}

Result<LineageStatus> load_status(const Paths& paths, std::string_view name) {
  ACMED_CHECK(validate_lineage_name(name));
  fs::path file = paths.status_file(name);
  auto text = sys::read_file_limited(file, 1 << 20);
  if (!text) {
    if (text.error().code == Errc::not_found) return LineageStatus{};
    return std::move(text).error();
  }
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  auto hint = "delete " + file.string() + "; acmed starts a fresh history";
  if (j.is_discarded()) return Error(Errc::config, file.string() + " is not valid JSON", hint);
  auto status = status_from_json(j);
  if (!status) {
    Error e = std::move(status).error();
    return Error(Errc::config, file.string() + ": " + e.message, hint);
  }
  return status;
}

Status save_status(const Paths& paths, std::string_view name, const LineageStatus& status) {
  ACMED_CHECK(validate_lineage_name(name));
  ACMED_CHECK(sys::make_dirs(paths.work_dir / "acmed", 0700));
  ACMED_CHECK(sys::make_dirs(paths.status_dir(), 0700));
  // Replace, not throw, on invalid UTF-8 (an error message may quote bytes from a server).
  std::string text =
      status_to_json(status).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  return sys::write_file_atomic(paths.status_file(name), text + "\n", 0600);
}

namespace {
fs::path check_times_file(const Paths& paths) { return paths.work_dir / "acmed" / "checked.json"; }
constexpr auto k_forget_after = std::chrono::hours(24 * 90);
}  // namespace

Result<CheckTimes> load_check_times(const Paths& paths) {
  fs::path file = check_times_file(paths);
  auto text = sys::read_file_limited(file, 16 << 20);
  if (!text) {
    if (text.error().code == Errc::not_found) return CheckTimes{};
    return std::move(text).error();
  }
  auto bad = [&](const std::string& why) {
    return Error(Errc::config, file.string() + ": " + why,
                 "delete it; the next `acmed renew` writes a fresh one");
  };
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return bad("not valid JSON");
  auto it = j.is_object() ? j.find("checked") : j.end();
  if (it == j.end() || !it->is_object()) return bad("no \"checked\" object");
  CheckTimes times;
  for (const auto& [name, value] : it->items()) {
    sys::TimePoint t;
    if (!value.is_string() || !sys::parse_rfc3339(value.get<std::string>(), t)) {
      return bad("the time of '" + name + "' is not an RFC 3339 time");
    }
    times.emplace(name, t);
  }
  return times;
}

Status record_check_times(const Paths& paths, const CheckTimes& checked) {
  ACMED_CHECK(sys::make_dirs(paths.work_dir / "acmed", 0700));
  // Several config dirs may share one work dir (certbot allows it), and their runs are not
  // serialised by the config-dir lock: hold a lock on the directory for the read-modify-write.
  ACMED_TRY(sys::DirLock lock, sys::DirLock::acquire(paths.work_dir / "acmed", sys::LockWait::yes));
  // An invalid file is replaced; one that cannot be read is left alone, with its entries.
  CheckTimes times;
  auto old = load_check_times(paths);
  if (old) {
    times = std::move(*old);
  } else if (old.error().code != Errc::config) {
    return std::move(old).error();
  }
  sys::TimePoint newest{};
  for (const auto& [name, t] : checked) {
    auto [it, inserted] = times.emplace(name, t);
    if (!inserted && it->second < t) it->second = t;
    newest = std::max(newest, t);
  }
  // Lineages are checked twice a day; one not checked for 90 days was deleted (in whichever
  // config dir it lived).
  std::erase_if(times, [&](const auto& entry) { return entry.second + k_forget_after < newest; });
  json list = json::object();
  for (const auto& [name, t] : times) list[name] = sys::format_rfc3339(t);
  json j = {{"format", k_format}, {"checked", std::move(list)}};
  return sys::write_file_atomic(check_times_file(paths),
                                j.dump(1, ' ', false, json::error_handler_t::replace) + "\n", 0600);
}

Result<LineageStatus> load_status(const Paths& paths, std::string_view name,
                                  const CheckTimes& times) {
  ACMED_TRY(LineageStatus status, load_status(paths, name));
  if (auto it = times.find(name); it != times.end()) {
    if (!status.last_checked || *status.last_checked < it->second) status.last_checked = it->second;
  }
  return status;
}

}  // namespace acmed::store
