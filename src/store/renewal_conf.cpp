#include "acmed/store/renewal_conf.hpp"
#include "acmed/util/strings.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace acmed::store {

namespace {

constexpr std::string_view k_params = "renewalparams";
// The [renewalparams] keys that RenewalParams has a field for; all others are plugin settings.
constexpr std::string_view k_core_keys[] = {"authenticator",   "installer",
                                            "server",          "account",
                                            "key_type",        "rsa_key_size",
                                            "elliptic_curve",  "pre_hook",
                                            "post_hook",       "renew_hook",
                                            "deploy_hook",     "reuse_key",
                                            "must_staple",     "allow_subset_of_names",
                                            "autorenew",       "preferred_chain",
                                            "pref_challs",     "preferred_profile",
                                            "required_profile"};

bool is_core_key(std::string_view key) {
  return std::find(std::begin(k_core_keys), std::end(k_core_keys), key) != std::end(k_core_keys);
}

// certbot writes Python's None for an unset option.
bool is_none(const std::string& s) {
  return s == "None";
}

using util::ascii_lower;

Error typed_error(const RenewalConf& conf, const ConfEntry& e, const std::string& what) {
  return Error(Errc::config,
               conf.file_name + ":" + std::to_string(e.line) + ": " + e.key + " " + what +
                   ", not '" + e.value.str() + "'",
               "correct the value or delete the line to use the default");
}

std::string read_str(const ConfSection& s, std::string_view key) {
  const ConfValue* v = s.get(key);
  if (!v || is_none(v->str())) return {};
  return v->str();
}

std::vector<std::string> read_list(const ConfSection& s, std::string_view key) {
  const ConfValue* v = s.get(key);
  if (!v || (!v->is_list && (v->str().empty() || is_none(v->str())))) return {};
  return v->items;
}

Result<std::optional<int>> read_int(const RenewalConf& conf, const ConfSection& s,
                                    std::string_view key) {
  const ConfEntry* e = s.find(key);
  if (!e || is_none(e->value.str())) return std::optional<int>{};
  const std::string& text = e->value.str();
  int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (e->value.is_list || ec != std::errc() || end != text.data() + text.size()) {
    return typed_error(conf, *e, "must be a whole number");
  }
  return std::optional<int>{n};
}

Result<std::optional<bool>> read_bool(const RenewalConf& conf, const ConfSection& s,
                                      std::string_view key) {
  const ConfEntry* e = s.find(key);
  if (!e || is_none(e->value.str())) return std::optional<bool>{};
  std::string text = ascii_lower(e->value.str());
  if (e->value.is_list || (text != "true" && text != "false")) {
    return typed_error(conf, *e, "must be True or False");
  }
  return std::optional<bool>{text == "true"};
}

Status read_params(RenewalConf& conf, const ConfSection& s) {
  RenewalParams& p = conf.params;
  p.authenticator = read_str(s, "authenticator");
  p.installer = read_str(s, "installer");
  p.server = read_str(s, "server");
  p.account = read_str(s, "account");
  p.key_type = read_str(s, "key_type");
  ACMED_TRY(p.rsa_key_size, read_int(conf, s, "rsa_key_size"));
  p.elliptic_curve = read_str(s, "elliptic_curve");
  p.pre_hook = read_str(s, "pre_hook");
  p.post_hook = read_str(s, "post_hook");
  p.deploy_hook = s.get("renew_hook") ? read_str(s, "renew_hook") : read_str(s, "deploy_hook");
  ACMED_TRY(p.reuse_key, read_bool(conf, s, "reuse_key"));
  ACMED_TRY(p.must_staple, read_bool(conf, s, "must_staple"));
  ACMED_TRY(p.allow_subset_of_names, read_bool(conf, s, "allow_subset_of_names"));
  ACMED_TRY(p.autorenew, read_bool(conf, s, "autorenew"));
  p.preferred_chain = read_str(s, "preferred_chain");
  p.pref_challs = read_list(s, "pref_challs");
  p.preferred_profile = read_str(s, "preferred_profile");
  p.required_profile = read_str(s, "required_profile");
  // certbot's format types http01_port as a whole number (its INT_CONFIG_ITEMS).
  ACMED_CHECK(read_int(conf, s, "http01_port"));
  for (const auto& e : s.entries) {
    if (is_core_key(e.key) || is_none(e.value.str())) continue;
    if (e.value.is_list) {
      p.settings.lists[e.key] = e.value.items;
    } else if (!e.value.str().empty()) {
      p.settings.text[e.key] = e.value.str();
    }
  }
  for (const auto& sub : s.sections) {
    auto& table = p.settings.tables[sub.name];
    for (const auto& e : sub.entries) table.emplace_back(e.key, e.value.str());
  }
  return {};
}

// The sync_* helpers write a field into the document only when its value changed, so a file
// rewritten without changes keeps its own spelling ("None", "true", "a,b").
void sync_str(ConfSection& s, std::string_view key, const std::string& value) {
  if (read_str(s, key) == value) return;
  if (value.empty()) {
    s.erase(key);
  } else {
    s.set(key, ConfValue::scalar(value));
  }
}

void sync_list(ConfSection& s, std::string_view key, const std::vector<std::string>& value) {
  if (read_list(s, key) == value) return;
  if (value.empty()) {
    s.erase(key);
  } else {
    s.set(key, ConfValue::list(value));
  }
}

void sync_int(ConfSection& s, std::string_view key, std::optional<int> value) {
  const ConfValue* v = s.get(key);
  if (v && value && v->str() == std::to_string(*value)) return;
  if (!value) {
    if (v && !is_none(v->str())) s.erase(key);
    return;
  }
  s.set(key, ConfValue::scalar(std::to_string(*value)));
}

void sync_bool(ConfSection& s, std::string_view key, std::optional<bool> value) {
  const ConfValue* v = s.get(key);
  if (v && value && ascii_lower(v->str()) == (*value ? "true" : "false")) return;
  if (!value) {
    if (v && !is_none(v->str())) s.erase(key);
    return;
  }
  s.set(key, ConfValue::scalar(*value ? "True" : "False"));
}

void sync_table(ConfSection& params, const std::string& name,
                const std::vector<std::pair<std::string, std::string>>& rows) {
  ConfSection& m = params.ensure_section(name);
  std::vector<ConfEntry> entries;
  for (const auto& [key, value] : rows) {
    const ConfEntry* old = m.find(key);
    ConfEntry e = old ? *old : ConfEntry{};
    e.key = key;
    if (!old || old->value.str() != value) e.value = ConfValue::scalar(value);
    entries.push_back(std::move(e));
  }
  m.entries = std::move(entries);
}

// Writes the plugin settings: each key as text, list or [[table]]; a plugin key that is no longer
// set is removed ("None" is left as written: it means unset already).
void sync_settings(ConfSection& s, const util::Settings& settings) {
  std::vector<std::string> gone;
  for (const auto& e : s.entries) {
    if (!is_core_key(e.key) && !settings.has(e.key) && !read_str(s, e.key).empty()) {
      gone.push_back(e.key);
    }
  }
  for (const auto& key : gone) s.erase(key);
  std::erase_if(s.sections,
                [&](const ConfSection& sub) { return !settings.tables.count(sub.name); });
  for (const auto& [key, value] : settings.text) sync_str(s, key, value);
  for (const auto& [key, value] : settings.lists) {
    if (read_list(s, key) == value && s.get(key) && s.get(key)->is_list) continue;
    s.set(key, ConfValue::list(value));
  }
  for (const auto& [key, rows] : settings.tables) sync_table(s, key, rows);
}

void write_params(ConfSection& s, const RenewalParams& p) {
  sync_str(s, "authenticator", p.authenticator);
  sync_str(s, "installer", p.installer);
  sync_str(s, "server", p.server);
  sync_str(s, "account", p.account);
  sync_str(s, "key_type", p.key_type);
  sync_int(s, "rsa_key_size", p.rsa_key_size);
  sync_str(s, "elliptic_curve", p.elliptic_curve);
  sync_str(s, "pre_hook", p.pre_hook);
  sync_str(s, "post_hook", p.post_hook);
  sync_str(s, "renew_hook", p.deploy_hook);
  sync_bool(s, "reuse_key", p.reuse_key);
  sync_bool(s, "must_staple", p.must_staple);
  sync_bool(s, "allow_subset_of_names", p.allow_subset_of_names);
  sync_bool(s, "autorenew", p.autorenew);
  sync_str(s, "preferred_chain", p.preferred_chain);
  sync_list(s, "pref_challs", p.pref_challs);
  sync_str(s, "preferred_profile", p.preferred_profile);
  sync_str(s, "required_profile", p.required_profile);
  sync_settings(s, p.settings);
}

}  // namespace

Status RenewalConf::check_renewable() const {
  const ConfSection* params_section = doc.section(k_params);
  std::string where = file_name.empty() ? std::string("renewal conf") : file_name;
  if (!params_section) {
    return Error(Errc::config, where + " has no [renewalparams] section",
                 "the lineage cannot be renewed; obtain the certificate again with acmed");
  }
  if (params.authenticator.empty()) {
    return Error(Errc::config, where + " does not name an authenticator",
                 "add 'authenticator = webroot' (or nginx, apache, standalone) to [renewalparams]");
  }
  return {};
}

Result<RenewalConf> parse_renewal_conf(std::string_view text, std::string_view file_name) {
  RenewalConf conf;
  conf.file_name = std::string(file_name);
  ACMED_TRY(conf.doc, parse_configobj(text, file_name));
  const ConfSection& top = conf.doc;
  conf.version = read_str(top, "version");
  conf.archive_dir = read_str(top, "archive_dir");
  conf.cert = read_str(top, "cert");
  conf.privkey = read_str(top, "privkey");
  conf.chain = read_str(top, "chain");
  conf.fullchain = read_str(top, "fullchain");
  conf.renew_before_expiry = read_str(top, "renew_before_expiry");
  if (!conf.renew_before_expiry.empty()) {
    auto interval = parse_interval(conf.renew_before_expiry);
    if (!interval) {
      const ConfEntry* e = top.find("renew_before_expiry");
      return Error(Errc::config,
                   conf.file_name + ":" + std::to_string(e->line) + ": " + interval.error().message,
                   "write it like '30 days' or '2 weeks'");
    }
  }
  if (const ConfSection* params = top.section(k_params)) {
    ACMED_CHECK(read_params(conf, *params));
  }
  return conf;
}

std::string render_renewal_conf(const RenewalConf& conf) {
  ConfSection doc = conf.doc;
  bool fresh = doc.entries.empty() && doc.sections.empty();
  sync_str(doc, "renew_before_expiry", conf.renew_before_expiry);
  sync_str(doc, "version", conf.version);
  sync_str(doc, "archive_dir", conf.archive_dir.string());
  sync_str(doc, "cert", conf.cert.string());
  sync_str(doc, "privkey", conf.privkey.string());
  sync_str(doc, "chain", conf.chain.string());
  sync_str(doc, "fullchain", conf.fullchain.string());
  ConfSection& params = doc.ensure_section(k_params);
  write_params(params, conf.params);
  if (fresh) {
    // Like certbot, show the renewal window option to whoever opens the file.
    if (conf.renew_before_expiry.empty() && !doc.entries.empty()) {
      doc.entries.front().comments.push_back("# renew_before_expiry = 30 days");
    }
    params.comments = {"", "# Options used in the renewal process"};
  }
  return render_configobj(doc);
}

Result<std::chrono::seconds> parse_interval(std::string_view text) {
  using std::chrono::seconds;
  auto bad = [&] {
    return Error(Errc::config, "'" + std::string(text) + "' is not a time interval");
  };
  seconds total{0};
  std::size_t i = 0;
  bool any = false;
  auto skip_space = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == ',')) ++i;
  };
  skip_space();
  while (i < text.size()) {
    long long n = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), n);
    if (ec != std::errc() || n < 0 || n > 100000) return bad();
    i = static_cast<std::size_t>(end - text.data());
    skip_space();
    std::size_t start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = ascii_lower(text.substr(start, i - start));
    if (unit.size() > 1 && unit.back() == 's') unit.pop_back();
    long long factor = 0;
    if (unit.empty() || unit == "day" || unit == "d")
      factor = 86400;
    else if (unit == "second" || unit == "sec")
      factor = 1;
    else if (unit == "minute" || unit == "min")
      factor = 60;
    else if (unit == "hour" || unit == "h")
      factor = 3600;
    else if (unit == "week")
      factor = 7 * 86400;
    else if (unit == "month")
      factor = 30 * 86400;
    else if (unit == "year")
      factor = 365 * 86400;
    else
      return bad();
    // A bare number is days, but only on its own ("30"), not between units ("1 week 2").
    if (unit.empty() && (any || i < text.size())) return bad();
    total += seconds(n * factor);
    any = true;
    skip_space();
  }
  if (!any) return bad();
  return total;
}

}  // namespace acmed::store
