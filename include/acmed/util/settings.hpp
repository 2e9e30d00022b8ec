// Named settings of a plugin, as the command line gives them and a renewal conf stores them.
// Keys are certbot's renewal-conf keys ("nginx_ctl", "webroot_path", "http01_port"); a value is
// text (nginx_ctl = nginx), a list (webroot_path = /a, /b) or a table of name = value lines (the
// [[webroot_map]] subsection). The store keeps them without interpreting them; the plugin
// registry (plugins/registry.hpp) says which plugin owns which key and what it means.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acmed::util {

struct Settings {
  std::map<std::string, std::string, std::less<>> text;  // an empty text means unset
  std::map<std::string, std::vector<std::string>, std::less<>> lists;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>, std::less<>> tables;

  // text[key], else the first item of lists[key]; empty when unset.
  std::string get(std::string_view key) const {
    if (auto t = text.find(key); t != text.end()) return t->second;
    if (auto l = lists.find(key); l != lists.end() && !l->second.empty()) return l->second.front();
    return {};
  }
  // lists[key], else a non-empty text[key] as a list of one (certbot reads both spellings).
  std::vector<std::string> list(std::string_view key) const {
    if (auto l = lists.find(key); l != lists.end()) return l->second;
    if (auto t = text.find(key); t != text.end() && !t->second.empty()) return {t->second};
    return {};
  }
  bool has(std::string_view key) const {
    return !get(key).empty() || lists.count(key) > 0 || tables.count(key) > 0;
  }
  // Removes `key` whatever its kind.
  void erase(std::string_view key) {
    if (auto t = text.find(key); t != text.end()) text.erase(t);
    if (auto l = lists.find(key); l != lists.end()) lists.erase(l);
    if (auto m = tables.find(key); m != tables.end()) tables.erase(m);
  }

  bool operator==(const Settings&) const = default;
};

}  // namespace acmed::util
