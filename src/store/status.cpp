#include "acmed/store/status.hpp"

#include "acmed/sys/fs.hpp"

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

}  // namespace

json status_to_json(const LineageStatus& s) {
  json j = json::object();
  j["format"] = k_format;
  put_time(j, "last_checked", s.last_checked);
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
  return j;
}

Result<LineageStatus> status_from_json(const json& j) {
  if (!j.is_object()) return Error(Errc::config, "status is not a JSON object");
  LineageStatus s;
  ACMED_CHECK(get_time(j, "last_checked", s.last_checked));
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

}  // namespace acmed::store
