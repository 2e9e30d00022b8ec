#include "acmed/sys/progress.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

namespace acmed::sys {

namespace {

struct Wait {
  std::uint64_t id;
  std::string what;
  std::chrono::steady_clock::time_point start;
};

std::mutex g_mutex;
std::vector<Wait> g_waits;  // open scopes, oldest first
std::uint64_t g_next_id = 1;
WaitObserver g_observer;

}  // namespace

void set_wait_observer(WaitObserver observer) {
  std::lock_guard lock(g_mutex);
  g_observer = std::move(observer);
}

WaitScope::WaitScope(std::string what) {
  std::lock_guard lock(g_mutex);
  m_id = g_next_id++;
  g_waits.push_back({m_id, std::move(what), std::chrono::steady_clock::now()});
}

WaitScope::~WaitScope() {
  WaitObserver observer;
  {
    std::lock_guard lock(g_mutex);
    std::erase_if(g_waits, [this](const Wait& w) { return w.id == m_id; });
    if (g_waits.empty()) observer = g_observer;
  }
  // Called outside the lock: the observer may log, and logging may mark waits of its own.
  if (observer) observer("", std::chrono::seconds(0), 0);
}

void note_waiting() {
  WaitObserver observer;
  std::string what;
  std::chrono::seconds elapsed{0};
  std::size_t others = 0;
  {
    std::lock_guard lock(g_mutex);
    if (!g_observer || g_waits.empty()) return;
    observer = g_observer;
    const Wait& newest = g_waits.back();
    what = newest.what;
    elapsed = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                               newest.start);
    others = g_waits.size() - 1;
  }
  observer(what, elapsed, others);
}

}  // namespace acmed::sys
