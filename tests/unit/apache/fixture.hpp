// A Debian apache2 config tree in a temp dir: the corpus copy of /etc/apache2 with Debian's
// default modules and confs enabled (as the package's postinst does), a site example.test on
// 127.0.0.1:<http>, and envvars pointing run/lock/log dirs into the temp dir, so a real apache2
// can run it on high loopback ports.
#pragma once

#include "acmed/sys/fs.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <string>

namespace acmed::test {

inline void write_text(const std::filesystem::path& p, const std::string& text) {
  REQUIRE(sys::make_dirs(p.parent_path()));
  REQUIRE(sys::write_file_atomic(p, text));
}

// Returns the server root (<dir>/apache2).
inline std::filesystem::path make_debian_tree(const std::filesystem::path& dir, int http_port,
                                              int https_port) {
  namespace fs = std::filesystem;
  fs::path root = dir / "apache2";
  fs::copy(data_path("corpus/apache/debian-apache2-2.4"), root, fs::copy_options::recursive);
  for (auto& e : fs::recursive_directory_iterator(root))
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  fs::permissions(root, fs::perms::owner_write, fs::perm_options::add);
  // The temp dir must be traversable by apache's user (www-data) for the document root.
  ::chmod(dir.c_str(), 0755);
  for (const char* sub : {"mods-enabled", "conf-enabled", "sites-enabled", "run", "lock", "log"})
    REQUIRE(sys::make_dirs(root / sub));
  const char* mods[] = {"access_compat", "alias",      "auth_basic", "authn_core", "authn_file",
                        "authz_core",    "authz_host", "authz_user", "autoindex",  "deflate",
                        "dir",           "env",        "filter",     "mime",       "mpm_event",
                        "negotiation",   "reqtimeout", "setenvif",   "status"};
  for (const char* m : mods) {
    for (const char* ext : {".load", ".conf"}) {
      std::string name = std::string(m) + ext;
      if (fs::exists(root / "mods-available" / name))
        fs::create_symlink("../mods-available/" + name, root / "mods-enabled" / name);
    }
  }
  for (const char* c :
       {"charset", "localized-error-pages", "other-vhosts-access-log", "security", "serve-cgi-bin"})
    fs::create_symlink(std::string("../conf-available/") + c + ".conf",
                       root / "conf-enabled" / (std::string(c) + ".conf"));
  // A global ServerName keeps apache from warning (AH00558) on every start and configtest.
  write_text(root / "conf-available/servername.conf", "ServerName localhost\n");
  fs::create_symlink("../conf-available/servername.conf", root / "conf-enabled/servername.conf");
  std::string r = root.string();
  write_text(root / "envvars",
             "# envvars for a test tree\nunset HOME\nexport APACHE_RUN_USER=www-data\n"
             "export APACHE_RUN_GROUP=www-data\nexport APACHE_PID_FILE=" +
                 r +
                 "/run/apache2.pid\n"
                 "export APACHE_RUN_DIR=" +
                 r + "/run\nexport APACHE_LOCK_DIR=" + r +
                 "/lock\n"
                 "export APACHE_LOG_DIR=" +
                 r + "/log\nexport LANG=C\n");
  std::string hp = std::to_string(http_port);
  std::string sp = std::to_string(https_port);
  write_text(root / "ports.conf",
             "Listen 127.0.0.1:" + hp + "\n\n<IfModule ssl_module>\n\tListen 127.0.0.1:" + sp +
                 "\n</IfModule>\n\n<IfModule mod_gnutls.c>\n\tListen 127.0.0.1:" + sp +
                 "\n</IfModule>\n");
  // The default site, on the test port.
  auto def = *sys::read_file(root / "sites-available/000-default.conf");
  def.replace(def.find("*:80"), 4, "*:" + hp);
  write_text(root / "sites-available/000-default.conf", def);
  fs::create_symlink("../sites-available/000-default.conf",
                     root / "sites-enabled/000-default.conf");
  write_text(dir / "www/index.html", "hello from example.test\n");
  ::chmod((dir / "www").c_str(), 0755);
  ::chmod((dir / "www/index.html").c_str(), 0644);
  write_text(
      root / "sites-available/example.conf",
      "<VirtualHost *:" + hp +
          ">\n\tServerName example.test\n\tServerAlias www.example.test\n"
          "\tDocumentRoot " +
          (dir / "www").string() + "\n\t<Directory " + (dir / "www").string() +
          ">\n\t\tRequire all granted\n\t</Directory>\n\n\tErrorLog ${APACHE_LOG_DIR}/error.log\n"
          "</VirtualHost>\n");
  fs::create_symlink("../sites-available/example.conf", root / "sites-enabled/example.conf");
  return root;
}

}  // namespace acmed::test
