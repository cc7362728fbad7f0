// The broker side of incremental fetch sessions (KIP-227, Kafka >= 1.1): FetchSession, CachedPartition,
// FetchSessionCache(Shard), FetchManager and FetchContext (server/src/main/java/org/apache/kafka/server/
// {FetchSession, FetchSessionCacheShard, FetchManager, FetchContext}.java; kafka.server.FetchSession.scala before
// 4.0), as sans-I/O state used by ReplicaManager::handle_fetch.
//
// FetchManager.newContext turns a request into a context:
//   - full request (epoch 0 or -1): the session named in it, if any, is removed from the cache; epoch -1 gives a
//     SESSIONLESS context, epoch 0 a FULL one, which tries to create a session (epoch 1) when the response is
//     generated;
//   - incremental request: unknown id -> FETCH_SESSION_ID_NOT_FOUND (70); epoch != the session's ->
//     INVALID_FETCH_SESSION_EPOCH (71). Otherwise the request's partitions are added to the session or update
//     their cached request data, the forgotten ones are removed, the session is touched and its epoch moves on.
//     A session left empty is removed and the fetch becomes sessionless.
// The broker then reads EVERY partition of the context (all session partitions for an incremental fetch, in the
// session's order: IncrementalFetchContext.foreachPartition), so follower fetch state, the purgatory and the
// response-size limit see all of them, exactly as for a full fetch. Only when the response is generated
// (updateAndGenerateResponseData) does an incremental context drop the partitions with nothing new
// (CachedPartition.maybeUpdateResponseData: no records, same HW and log start offset as last sent, no error, no
// diverging epoch), and it moves partitions that returned records to the end of the session's order so that a
// response filled to its max bytes does not starve the later ones (KAFKA-12330). If another request of the
// session was handled in between, the response is INVALID_FETCH_SESSION_EPOCH.
//
// The cache (max.incremental.fetch.session.cache.slots = 1000) is split into 8 shards of 125 slots
// (KafkaBroker.NumFetchSessionCacheShards, KAFKA-9401); a new session goes to the next shard round-robin and
// session ids carry their shard (id / (Integer.MAX_VALUE / 8)). A full shard evicts, in this order, the least
// recently used session if it is unused for more than 120 s (MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS), else the
// smallest (privileged, size, id) evictable session if the new one is worth more: follower sessions are
// privileged and may evict consumer sessions; a session is evictable by anyone only after 120 s of existence,
// consumer sessions are evictable by followers at once (FetchSessionCacheShard.tryEvict / touch).
//
// Simplifications: Kafka draws session ids at random within the shard's range; here they are handed out in
// order within it (deterministic, unique, never reused). Times are simulated nanoseconds instead of
// milliseconds. Topic ids, preferred read replicas (KIP-392) and quotas are not modelled; the last stable offset
// is not compared because Kafka does not compare it either (it equals the HW without transactions here).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <tuple>
#include <vector>

#include "kafkasim/kafka/partition_index.hpp"
#include "kafkasim/kafka/protocol.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::kafka {

// FetchSession.CachedPartition: the request data last received for a partition of a session, and the HW and
// log start offset last sent for it.
struct CachedPartition {
  FetchPartitionRequest request;   // maxBytes, fetchOffset, leaderEpoch, fetcherLogStartOffset, lastFetchedEpoch
  int64_t high_watermark = -1;
  int64_t local_log_start_offset = -1;

  // maybeUpdateResponseData: whether `response` must be sent for this partition, updating the cached values
  // when `update` is set. An error resets the cached HW to -1 so that the partition is sent again once the
  // error is gone.
  bool maybe_update_response_data(const FetchPartitionResponse& response, bool update);
};

class FetchSession {
 public:
  using List = std::list<CachedPartition>;

  FetchSession(int32_t id, bool privileged, sim::SimTime now, int32_t epoch) :
      id_(id), privileged_(privileged), creation_time_(now), last_used_(now), epoch_(epoch) {}

  // FetchSession.update: adds the partitions of `to_send` that are new (at the end, in request order), updates the
  // request data of the others, then removes `to_forget`.
  void update(std::span<const FetchPartitionRequest> to_send, std::span<const PartitionRef> to_forget);
  // Appends a partition (FullFetchContext.createNewSession); it must not be in the session yet.
  void add(const CachedPartition& partition);
  // Moves a partition to the end of the iteration order (PartitionIterator: remove + mustAdd).
  void move_to_end(List::iterator it) { partitions_.splice(partitions_.end(), partitions_, it); }
  List::iterator find(PartitionRef partition);
  const CachedPartition* cached(PartitionRef partition) const;
  bool contains(PartitionRef partition) const { return index_.contains(partition); }

  int32_t id() const { return id_; }
  bool privileged() const { return privileged_; }
  sim::SimTime creation_time() const { return creation_time_; }
  sim::SimTime last_used() const { return last_used_; }
  int32_t epoch() const { return epoch_; }
  std::size_t size() const { return index_.size(); }
  bool empty() const { return index_.empty(); }
  List& partitions() { return partitions_; }
  const List& partitions() const { return partitions_; }
  // The partitions in iteration order (tests and diagnostics).
  std::vector<PartitionRef> partition_order() const;

 private:
  friend class FetchSessionCacheShard;
  friend class FetchManager;

  int32_t id_;
  bool privileged_;
  sim::SimTime creation_time_;
  sim::SimTime last_used_;
  int32_t epoch_;
  // The size the cache last saw (FetchSession.cachedSize; -1 = not in the cache).
  int32_t cached_size_ = -1;
  // ImplicitLinkedHashCollection<CachedPartition>: insertion order plus an index.
  List partitions_;
  PartitionIndex<List::iterator> index_;  // dense: every fetch of the session looks its partitions up
};

// One shard of the session cache (FetchSessionCacheShard).
class FetchSessionCacheShard {
 public:
  FetchSessionCacheShard(int32_t max_entries, sim::Duration eviction_time, int32_t session_id_range, int32_t shard);

  std::shared_ptr<FetchSession> get(int32_t session_id) const;
  // maybeCreateSession: a session of `size` partitions at epoch 1 if there is room or something may be evicted
  // for it; `create` makes its partitions (in order) only then. Returns the id, or invalid_session_id.
  int32_t maybe_create_session(sim::SimTime now, bool privileged, int32_t size,
                               const std::function<std::vector<CachedPartition>()>& create);
  void remove(int32_t session_id);
  // touch: records the use and refreshes the session's place in the eviction order.
  void touch(FetchSession& session, sim::SimTime now);

  std::size_t size() const { return sessions_.size(); }
  int64_t total_partitions() const { return total_partitions_; }
  uint64_t evictions() const { return evictions_; }
  int32_t session_id_range() const { return session_id_range_; }

 private:
  // (privileged, size, id), compared in that order: the smallest is evicted first.
  using EvictableKey = std::tuple<bool, int32_t, int32_t>;
  static EvictableKey evictable_key(const FetchSession& s) { return {s.privileged_, s.cached_size_, s.id_}; }
  bool try_evict(bool privileged, const EvictableKey& key, sim::SimTime now);
  int32_t new_session_id();

  int32_t max_entries_;
  sim::Duration eviction_time_;
  int32_t session_id_range_;
  int32_t shard_;
  int32_t next_id_offset_ = 0;
  int64_t total_partitions_ = 0;
  uint64_t evictions_ = 0;
  std::map<int32_t, std::shared_ptr<FetchSession>> sessions_;
  std::set<std::pair<sim::SimTime, int32_t>> last_used_;
  std::set<EvictableKey> evictable_by_all_;
  std::set<EvictableKey> evictable_by_privileged_;
};

// FetchSession.FetchSessionCache: the shards, a new session's shard chosen round-robin.
class FetchSessionCache {
 public:
  static constexpr int32_t num_shards = 8;                                     // KafkaBroker.NumFetchSessionCacheShards
  static constexpr sim::Duration min_eviction_time = sim::Duration::from_ms(120'000);  // MIN_..._EVICTION_MS

  // `slots` = max.incremental.fetch.session.cache.slots, divided evenly among the shards.
  explicit FetchSessionCache(int32_t slots, sim::Duration eviction_time = min_eviction_time);

  FetchSessionCacheShard& shard_of(int32_t session_id);
  const FetchSessionCacheShard& shard_of(int32_t session_id) const;
  FetchSessionCacheShard& next_shard();
  std::shared_ptr<FetchSession> get(int32_t session_id) const;

  std::size_t size() const;               // NumIncrementalFetchSessions
  int64_t total_partitions() const;       // NumIncrementalFetchPartitionsCached
  uint64_t evictions() const;             // IncrementalFetchSessionEvictionsPerSec, as a count
  const std::vector<FetchSessionCacheShard>& shards() const { return shards_; }

 private:
  std::vector<FetchSessionCacheShard> shards_;
  uint32_t counter_ = 0;  // FetchSessionCache.COUNTER
};

// FetchContext: what newContext decided for one request.
class FetchContext {
 public:
  enum class Kind : uint8_t { session_error, sessionless, full, incremental };

  static FetchContext session_error(Errc error);
  static FetchContext sessionless();
  static FetchContext full(bool from_follower);
  static FetchContext incremental(std::shared_ptr<FetchSession> session, int32_t request_epoch);

  Kind kind() const { return kind_; }
  Errc error() const { return error_; }
  const FetchSession* session() const { return session_.get(); }

  // foreachPartition: the partitions the broker reads, in order. Full and sessionless contexts read the
  // request's partitions; an incremental one every session partition (with its cached request data); a session
  // error none. Written into `read` (cleared first), so a caller can reuse one vector's capacity per fetch.
  void partitions_to_read(const FetchRequest& request, std::vector<FetchPartitionRequest>& read) const;

  // updateAndGenerateResponseData. `response.partitions` is what the broker read, one per partitions_to_read()
  // entry and in that order; `read` is that list. Sets the response's error and session id, creates the session
  // of a full context, and filters the partitions of an incremental one.
  void update_and_generate_response_data(FetchResponse& response, std::span<const FetchPartitionRequest> read,
                                         FetchSessionCache& cache, sim::SimTime now);
  // getResponseSize: the wire bytes of the response update_and_generate_response_data would make, changing nothing
  // (an incremental context counts only the partitions it would send).
  int64_t response_size_bytes(const FetchResponse& response) const;
  // getThrottledResponse (a client quota throttled the fetch, kafka-behaviour-2.md §10.4): no partitions, the session
  // neither created nor advanced; an incremental context keeps its session id (with INVALID_FETCH_SESSION_EPOCH if
  // the epoch moved meanwhile), every other one, a session error's included, answers with no error and no session.
  void throttled_response(FetchResponse& response, int32_t throttle_time_ms) const;

 private:
  Kind kind_ = Kind::sessionless;
  Errc error_ = Errc::none;
  bool from_follower_ = false;
  int32_t expected_epoch_ = 0;  // nextEpoch(request epoch): the session's epoch when this response is generated
  std::shared_ptr<FetchSession> session_;
};

// FetchManager.newContext (see the header comment).
class FetchManager {
 public:
  explicit FetchManager(int32_t cache_slots) : cache_(cache_slots) {}

  FetchContext new_context(const FetchRequest& request, bool from_follower, sim::SimTime now);
  // How many partitions a context for `request` would read, without changing anything: the cluster layer charges
  // the I/O thread for them before the request is handled.
  std::size_t partitions_to_read_count(const FetchRequest& request) const;

  FetchSessionCache& cache() { return cache_; }
  const FetchSessionCache& cache() const { return cache_; }

 private:
  FetchSessionCache cache_;
};

}  // namespace kafkasim::kafka
