#include "acmed/fleet/claim.hpp"

#include <algorithm>

namespace acmed::fleet {

using Taken = std::variant<std::unique_ptr<LineageClaim>, LineageClaim::Held>;

Result<Taken> LineageClaim::take(EtcdClient& client, const EtcdOptions& options,
                                 std::string lock_key, std::string node, std::chrono::seconds ttl) {
  ACMED_TRY(EtcdClient keeper, EtcdClient::open(options));
  ACMED_TRY(Lease lease, client.grant_lease(ttl.count()));
  TxnRequest txn;
  txn.compare.push_back({lock_key, CompareTarget::create_revision, CompareOp::equal, 0, ""});
  txn.success.push_back(PutRequest{lock_key, node, lease.id});
  txn.failure.push_back(RangeRequest{lock_key, "", 0});
  Result<TxnResponse> t = client.txn(txn);
  if (!t || !t->succeeded) {
    (void)client.revoke_lease(lease.id);
    if (!t) return std::move(t).error();
    std::string holder = "another node";
    if (!t->responses.empty())
      if (const auto* r = std::get_if<RangeResponse>(&t->responses.front()); r && !r->kvs.empty())
        holder = r->kvs.front().value.substr(0, 64);
    return Taken(Held{holder});
  }
  // The key was created by this transaction: its create_revision is the transaction's revision.
  return Taken(std::unique_ptr<LineageClaim>(
      new LineageClaim(std::move(keeper), std::move(lock_key), lease.id, t->revision, ttl)));
}

LineageClaim::LineageClaim(EtcdClient keeper, std::string key, std::int64_t lease,
                           std::int64_t revision, std::chrono::seconds ttl)
    : m_keeper(std::move(keeper)),
      m_key(std::move(key)),
      m_lease(lease),
      m_revision(revision),
      m_ttl(ttl),
      m_thread([this] { keep_alive_loop(); }) {}

LineageClaim::~LineageClaim() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_wake.notify_all();
  m_thread.join();
  (void)m_keeper.revoke_lease(m_lease);
}

Compare LineageClaim::guard() const {
  return {m_key, CompareTarget::create_revision, CompareOp::equal, m_revision, ""};
}

void LineageClaim::keep_alive_loop() {
  using clock = std::chrono::steady_clock;
  const auto period =
      std::max<std::chrono::milliseconds>(std::chrono::milliseconds(500), m_ttl / 3);
  auto renewed = clock::now();
  std::unique_lock lock(m_mutex);
  while (!m_wake.wait_for(lock, period, [this] { return m_stop; })) {
    lock.unlock();
    Result<std::int64_t> ttl = m_keeper.keep_alive(m_lease);
    if (ttl && *ttl > 0) {
      renewed = clock::now();
    } else if ((!ttl && ttl.error().code != Errc::network) || (ttl && *ttl <= 0) ||
               clock::now() - renewed >= m_ttl) {
      m_lost = true;  // expired, revoked, or etcd silent for a whole TTL: assume expired
      return;
    }
    lock.lock();
  }
}

}  // namespace acmed::fleet
