// Deleting a lineage: live/<name>/, archive/<name>/ and renewal/<name>.conf go together or not
// at all.
//
// Crash safety. Under the store lock, the three are renamed into one staging directory
// <config_dir>/.acmed-delete/<name>/ (same file system, so each rename is atomic): the renewal
// conf first, because renewal/<name>.conf is what makes a lineage exist (lineage.hpp), then the
// live and archive dirs; then the staging directory is removed. A crash before the conf's rename
// leaves the lineage whole; a crash after it leaves no lineage, only a staging directory (and
// perhaps live/archive dirs no conf names) that the next delete_lineage, or
// finish_interrupted_deletes, finishes. If a rename after the conf's fails (EXDEV, EACCES), the
// ones done are renamed back, so the lineage is whole again and the error is reported.
#pragma once

#include "acmed/store/paths.hpp"
#include "acmed/util/result.hpp"

#include <functional>
#include <string_view>

namespace acmed::store {

// The steps of a delete, in order.
enum class DeleteStep {
  stage_conf,     // renewal/<name>.conf -> staging (after it the lineage no longer exists)
  stage_live,     // live/<name> -> staging
  stage_archive,  // archive/<name> -> staging
  remove,         // the staging directory is removed
  done,
};

// Test seam: called before each step (and with `done` after the last). An error returned from
// it stops the delete right there, exactly as a crash would: nothing is cleaned up or undone.
using DeleteHook = std::function<Status(DeleteStep)>;

// The staging directory of interrupted and running deletes.
fs::path delete_staging_dir(const Paths& paths);

// Deletes lineage `name` (and its status file in the work dir), holding the store lock; first
// finishes any interrupted delete. Errc::invalid_input for a bad name, Errc::not_found when the
// lineage has no renewal conf, Errc::locked naming the process that holds the store lock,
// Errc::io when a rename or the removal fails (the lineage is then whole, or, if only the final
// removal failed, gone and finished by the next call).
Status delete_lineage(const Paths& paths, std::string_view name, const DeleteHook& hook = {});

// Finishes deletes a crash interrupted: moves into each staging entry the live/archive dirs its
// delete had not moved yet, then removes the entry. Idempotent; takes the store lock.
// Errc::locked as delete_lineage, Errc::io when a removal fails.
Status finish_interrupted_deletes(const Paths& paths);

}  // namespace acmed::store
