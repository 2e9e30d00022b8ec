// A lineage's lock in fleet mode: the key <prefix>locks/<lineage>, holding the node's name, under
// a lease of its own that a thread keeps alive while the claim lives. etcd expires the lease
// (server-side, so no node's clock matters) when the holder dies or loses etcd for a whole TTL;
// the lock, and every key put under the same lease (the lineage's published http-01 responses and
// their acknowledgements), go with it, and the next node's run takes the lineage over.
#pragma once

#include "acmed/fleet/etcd.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>

namespace acmed::fleet {

class LineageClaim {
 public:
  // Another node holds the lock: its name (the lock key's value).
  struct Held {
    std::string holder;
  };

  // Takes `lock_key` for `node` under a new lease of `ttl` (one transaction: only if the key does
  // not exist). The keep-alive thread talks to etcd through its own client made from `options`.
  static Result<std::variant<std::unique_ptr<LineageClaim>, Held>> take(EtcdClient& client,
                                                                        const EtcdOptions& options,
                                                                        std::string lock_key,
                                                                        std::string node,
                                                                        std::chrono::seconds ttl);

  LineageClaim(const LineageClaim&) = delete;
  LineageClaim& operator=(const LineageClaim&) = delete;
  // Stops the keep-alive and revokes the lease: the lock and the keys under it go at once.
  ~LineageClaim();

  std::int64_t lease() const { return m_lease; }
  // The compare a write must carry to happen only while this claim holds the lock: the lock key
  // is still the one this claim created (not expired, not taken over).
  Compare guard() const;
  // True once the lease is known gone, or could not be renewed for a whole TTL: whatever the
  // holder is doing for the lineage must stop (the guard already stops its writes).
  bool lost() const { return m_lost.load(); }

 private:
  LineageClaim(EtcdClient keeper, std::string key, std::int64_t lease, std::int64_t revision,
               std::chrono::seconds ttl);
  void keep_alive_loop();

  EtcdClient m_keeper;  // the keep-alive thread's own (EtcdClient is not thread-safe)
  std::string m_key;
  std::int64_t m_lease;
  std::int64_t m_revision;  // the lock key's create_revision
  std::chrono::seconds m_ttl;
  std::atomic<bool> m_lost{false};
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stop = false;
  std::thread m_thread;
};

}  // namespace acmed::fleet
