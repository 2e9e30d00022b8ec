#include "acmed/store/delete.hpp"

#include "acmed/store/lock.hpp"
#include "acmed/sys/fs.hpp"

#include <string>
#include <system_error>
#include <vector>

namespace acmed::store {

namespace {

// What one staging entry holds, and where each part came from.
struct Part {
  DeleteStep step;
  fs::path from;
  fs::path staged;
};

std::vector<Part> parts_of(const Paths& paths, std::string_view name) {
  fs::path entry = delete_staging_dir(paths) / std::string(name);
  return {
      {DeleteStep::stage_conf, paths.renewal_conf(name), entry / "renewal.conf"},
      {DeleteStep::stage_live, paths.live_dir(name), entry / "live"},
      {DeleteStep::stage_archive, paths.archive_dir(name), entry / "archive"},
  };
}

bool exists_no_follow(const fs::path& p) {
  std::error_code ec;
  return fs::symlink_status(p, ec).type() != fs::file_type::not_found && !ec;
}

Status rename_into(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) {
    return Error(Errc::io,
                 "cannot move " + from.string() + " to " + to.string() + ": " + ec.message());
  }
  return ok_status();
}

Status remove_tree(const fs::path& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) return Error(Errc::io, "cannot remove " + dir.string() + ": " + ec.message());
  return ok_status();
}

// The store lock is held. Moves what the interrupted delete of `name` had not moved yet (unless
// a new lineage of that name exists by now), then removes its staging entry.
Status finish_entry(const Paths& paths, const std::string& name) {
  fs::path entry = delete_staging_dir(paths) / name;
  bool conf_staged = exists_no_follow(entry / "renewal.conf");
  if (conf_staged && !exists_no_follow(paths.renewal_conf(name))) {
    for (const Part& part : parts_of(paths, name)) {
      if (exists_no_follow(part.from) && !exists_no_follow(part.staged)) {
        ACMED_CHECK(rename_into(part.from, part.staged));
      }
    }
  }
  return remove_tree(entry);
}

Status finish_locked(const Paths& paths) {
  fs::path staging = delete_staging_dir(paths);
  std::error_code ec;
  if (!fs::is_directory(staging, ec)) return ok_status();
  std::vector<std::string> names;
  for (fs::directory_iterator it(staging, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) return Error(Errc::io, "cannot read " + staging.string() + ": " + ec.message());
  for (const auto& name : names) ACMED_CHECK(finish_entry(paths, name));
  return ok_status();
}

}  // namespace

fs::path delete_staging_dir(const Paths& paths) {
  return paths.config_dir / ".acmed-delete";
}

Status finish_interrupted_deletes(const Paths& paths) {
  ACMED_TRY(auto lock, StoreLock::acquire(paths));
  return finish_locked(paths);
}

Status delete_lineage(const Paths& paths, std::string_view name, const DeleteHook& hook) {
  ACMED_CHECK(validate_lineage_name(name));
  ACMED_TRY(auto lock, StoreLock::acquire(paths));
  ACMED_CHECK(finish_locked(paths));
  if (!exists_no_follow(paths.renewal_conf(name))) {
    return Error(Errc::not_found, "no certificate named '" + std::string(name) + "'",
                 "`acmed certificates` lists them");
  }
  fs::path entry = delete_staging_dir(paths) / std::string(name);
  ACMED_CHECK(sys::make_dirs(entry, 0700));

  std::vector<Part> moved;
  auto undo = [&] {
    for (auto it = moved.rbegin(); it != moved.rend(); ++it)
      (void)rename_into(it->staged, it->from);
    (void)remove_tree(entry);
  };
  for (const Part& part : parts_of(paths, name)) {
    if (hook) ACMED_CHECK(hook(part.step));
    if (!exists_no_follow(part.from)) continue;  // a lineage whose live or archive dir is gone
    if (Status s = rename_into(part.from, part.staged); !s) {
      undo();
      return s;
    }
    moved.push_back(part);
    ACMED_CHECK(sys::sync_dir(part.from.parent_path()));
  }
  if (hook) ACMED_CHECK(hook(DeleteStep::remove));
  ACMED_CHECK(remove_tree(entry));
  ACMED_CHECK(sys::remove_file(paths.status_file(name)));
  if (hook) ACMED_CHECK(hook(DeleteStep::done));
  return ok_status();
}

}  // namespace acmed::store
