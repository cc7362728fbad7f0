// Broker-side fetch sessions (KIP-227); see include/kafkasim/kafka/broker/fetch_session.hpp.
#include "kafkasim/kafka/broker/fetch_session.hpp"

#include <algorithm>
#include <functional>
#include <utility>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

// ---- CachedPartition ----

bool CachedPartition::maybe_update_response_data(const FetchPartitionResponse& response, bool update) {
  bool must_respond = false;
  // Partitions with new data are always included (FetchResponse.recordsSize > 0).
  if (response.slice.bytes > 0) must_respond = true;
  if (high_watermark != response.high_watermark) {
    must_respond = true;
    if (update) high_watermark = response.high_watermark;
  }
  if (local_log_start_offset != response.log_start_offset) {
    must_respond = true;
    if (update) local_log_start_offset = response.log_start_offset;
  }
  if (response.error != Errc::none) {
    // Errors are always included, and the cached HW becomes -1 so that the partition is sent again once the
    // error is gone.
    if (update) high_watermark = -1;
    must_respond = true;
  }
  // A diverging epoch must reach the follower to trigger its truncation.
  if (response.diverging_epoch.has_value()) must_respond = true;
  // A preferred read replica must reach the consumer (KIP-392).
  if (response.preferred_read_replica >= 0) must_respond = true;
  return must_respond;
}

// ---- FetchSession ----

void FetchSession::add(const CachedPartition& partition) {
  partitions_.push_back(partition);
  const bool inserted = index_.emplace(partition.request.partition, std::prev(partitions_.end()));
  KS_ASSERT(inserted);
}

void FetchSession::update(std::span<const FetchPartitionRequest> to_send, std::span<const PartitionRef> to_forget) {
  for (const FetchPartitionRequest& p : to_send) {
    List::iterator* it = index_.find(p.partition);
    if (it == nullptr) {
      // A new partition: no HW or log start offset sent yet, so its first response always includes it.
      add(CachedPartition{p, -1, -1});
    } else {
      (*it)->request = p;  // updateRequestParams
    }
  }
  for (const PartitionRef& p : to_forget) {
    const List::iterator* it = index_.find(p);
    if (it == nullptr) continue;
    partitions_.erase(*it);
    index_.erase(p);
  }
  KS_ASSERT_EQ(partitions_.size(), index_.size());
}

FetchSession::List::iterator FetchSession::find(PartitionRef partition) {
  const List::iterator* it = index_.find(partition);
  return it == nullptr ? partitions_.end() : *it;
}

const CachedPartition* FetchSession::cached(PartitionRef partition) const {
  const List::iterator* it = index_.find(partition);
  return it == nullptr ? nullptr : &**it;
}

std::vector<PartitionRef> FetchSession::partition_order() const {
  std::vector<PartitionRef> order;
  order.reserve(partitions_.size());
  for (const CachedPartition& p : partitions_) order.push_back(p.request.partition);
  return order;
}

// ---- FetchSessionCacheShard ----

FetchSessionCacheShard::FetchSessionCacheShard(int32_t max_entries, sim::Duration eviction_time,
                                               int32_t session_id_range, int32_t shard)
    : max_entries_(max_entries), eviction_time_(eviction_time), session_id_range_(session_id_range), shard_(shard) {
  KS_ASSERT_GE(max_entries, 0);
  KS_ASSERT_GT(session_id_range, 0);
  KS_ASSERT_GE(shard, 0);
  KS_ASSERT_GE(eviction_time, sim::Duration::zero());
}

std::shared_ptr<FetchSession> FetchSessionCacheShard::get(int32_t session_id) const {
  const auto it = sessions_.find(session_id);
  return it == sessions_.end() ? nullptr : it->second;
}

int32_t FetchSessionCacheShard::new_session_id() {
  // Kafka draws uniformly from [max(1, shard * range), (shard + 1) * range) until unused; handing them out in
  // order gives the same uniqueness without a random stream.
  const int64_t first = std::max<int64_t>(1, int64_t{shard_} * session_id_range_);
  const int64_t id = first + next_id_offset_++;
  KS_ASSERT_LT(id, (int64_t{shard_} + 1) * session_id_range_);
  KS_ASSERT(!sessions_.contains(static_cast<int32_t>(id)));
  return static_cast<int32_t>(id);
}

int32_t FetchSessionCacheShard::maybe_create_session(
    sim::SimTime now, bool privileged, int32_t size, const std::function<std::vector<CachedPartition>()>& create) {
  KS_ASSERT_GE(size, 0);
  if (static_cast<int32_t>(sessions_.size()) >= max_entries_ && !try_evict(privileged, {privileged, size, 0}, now)) {
    return invalid_session_id;
  }
  const int32_t first_epoch = FetchMetadata::next_epoch(initial_session_epoch);
  auto session = std::make_shared<FetchSession>(new_session_id(), privileged, now, first_epoch);
  for (const CachedPartition& p : create()) session->add(p);
  KS_ASSERT_EQ(static_cast<int32_t>(session->size()), size);
  const int32_t id = session->id();
  sessions_.emplace(id, session);
  touch(*session, now);
  return id;
}

bool FetchSessionCacheShard::try_evict(bool privileged, const EvictableKey& key, sim::SimTime now) {
  // 1. A stale session: unused for longer than the eviction time.
  if (last_used_.empty()) return false;
  const auto [oldest_use, oldest_id] = *last_used_.begin();
  if (now - oldest_use > eviction_time_) {
    remove(oldest_id);
    ++evictions_;
    return true;
  }
  // 2. Otherwise the least valuable evictable session, if the new one is worth at least as much.
  const std::set<EvictableKey>& candidates = privileged ? evictable_by_privileged_ : evictable_by_all_;
  if (candidates.empty()) return false;
  const EvictableKey victim = *candidates.begin();
  if (key < victim) return false;
  remove(std::get<2>(victim));
  ++evictions_;
  return true;
}

void FetchSessionCacheShard::remove(int32_t session_id) {
  const auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  FetchSession& s = *it->second;
  last_used_.erase({s.last_used_, s.id_});
  const EvictableKey key = evictable_key(s);
  evictable_by_all_.erase(key);
  evictable_by_privileged_.erase(key);
  total_partitions_ -= s.cached_size_;
  sessions_.erase(it);
  KS_ASSERT_GE(total_partitions_, 0);
}

void FetchSessionCacheShard::touch(FetchSession& s, sim::SimTime now) {
  KS_ASSERT(sessions_.contains(s.id_));
  // Every fetch of a session touches it: the set entries are moved (extract, change, insert) rather than freed
  // and allocated again, and an unchanged eviction key stays where it is.
  auto used = last_used_.extract({s.last_used_, s.id_});
  s.last_used_ = now;
  if (used.empty()) {
    last_used_.emplace(s.last_used_, s.id_);
  } else {
    used.value() = {s.last_used_, s.id_};
    last_used_.insert(std::move(used));
  }
  const bool was_cached = s.cached_size_ != -1;
  const EvictableKey old_key = evictable_key(s);
  const int32_t new_size = static_cast<int32_t>(s.size());
  const bool same_key = was_cached && new_size == s.cached_size_;
  if (was_cached) {
    total_partitions_ -= s.cached_size_;
    if (!same_key) {
      evictable_by_privileged_.erase(old_key);
      evictable_by_all_.erase(old_key);
    }
  }
  s.cached_size_ = new_size;
  const EvictableKey key = evictable_key(s);
  // A consumer session may be evicted by a follower's at once; any session by anyone once it is old enough.
  // With an unchanged key a set holds it already or gains it now: `old_enough` only ever turns true.
  const bool old_enough = now - s.creation_time_ > eviction_time_;
  if (!s.privileged_ || old_enough) evictable_by_privileged_.insert(key);
  if (old_enough) evictable_by_all_.insert(key);
  total_partitions_ += s.cached_size_;
}

// ---- FetchSessionCache ----

FetchSessionCache::FetchSessionCache(int32_t slots, sim::Duration eviction_time) {
  KS_ASSERT_GE(slots, 0);
  const int32_t range = INT32_MAX / num_shards;
  shards_.reserve(num_shards);
  for (int32_t i = 0; i < num_shards; ++i) shards_.emplace_back(slots / num_shards, eviction_time, range, i);
}

FetchSessionCacheShard& FetchSessionCache::shard_of(int32_t session_id) {
  KS_ASSERT_GT(session_id, 0);
  const int32_t shard = session_id / shards_.front().session_id_range();
  KS_ASSERT_LT(shard, num_shards);
  return shards_[static_cast<std::size_t>(shard)];
}

const FetchSessionCacheShard& FetchSessionCache::shard_of(int32_t session_id) const {
  return const_cast<FetchSessionCache*>(this)->shard_of(session_id);
}

FetchSessionCacheShard& FetchSessionCache::next_shard() {
  return shards_[counter_++ % static_cast<uint32_t>(num_shards)];
}

std::shared_ptr<FetchSession> FetchSessionCache::get(int32_t session_id) const {
  if (session_id <= 0) return nullptr;
  return shard_of(session_id).get(session_id);
}

std::size_t FetchSessionCache::size() const {
  std::size_t n = 0;
  for (const auto& s : shards_) n += s.size();
  return n;
}

int64_t FetchSessionCache::total_partitions() const {
  int64_t n = 0;
  for (const auto& s : shards_) n += s.total_partitions();
  return n;
}

uint64_t FetchSessionCache::evictions() const {
  uint64_t n = 0;
  for (const auto& s : shards_) n += s.evictions();
  return n;
}

// ---- FetchContext ----

FetchContext FetchContext::session_error(Errc error) {
  KS_ASSERT(error == Errc::fetch_session_id_not_found || error == Errc::invalid_fetch_session_epoch);
  FetchContext c;
  c.kind_ = Kind::session_error;
  c.error_ = error;
  return c;
}

FetchContext FetchContext::sessionless() { return FetchContext{}; }

FetchContext FetchContext::full(bool from_follower) {
  FetchContext c;
  c.kind_ = Kind::full;
  c.from_follower_ = from_follower;
  return c;
}

FetchContext FetchContext::incremental(std::shared_ptr<FetchSession> session, int32_t request_epoch) {
  KS_ASSERT(session != nullptr);
  FetchContext c;
  c.kind_ = Kind::incremental;
  c.expected_epoch_ = FetchMetadata::next_epoch(request_epoch);
  c.session_ = std::move(session);
  return c;
}

void FetchContext::partitions_to_read(const FetchRequest& request, std::vector<FetchPartitionRequest>& read) const {
  read.clear();
  switch (kind_) {
    case Kind::session_error:
      return;
    case Kind::sessionless:
    case Kind::full:
      read.assign(request.partitions.begin(), request.partitions.end());
      return;
    case Kind::incremental:
      read.reserve(session_->size());
      for (const CachedPartition& p : session_->partitions()) read.push_back(p.request);
      return;
  }
  KS_ASSERT(false);
}

void FetchContext::update_and_generate_response_data(FetchResponse& response,
                                                     std::span<const FetchPartitionRequest> read,
                                                     FetchSessionCache& cache, sim::SimTime now) {
  switch (kind_) {
    case Kind::session_error:
      // We do not know which partitions the request meant: an empty response with the error.
      response.partitions.clear();
      response.error = error_;
      response.session_id = invalid_session_id;
      return;
    case Kind::sessionless:
      response.error = Errc::none;
      response.session_id = invalid_session_id;
      return;
    case Kind::full: {
      KS_ASSERT_EQ(read.size(), response.partitions.size());
      response.error = Errc::none;
      const auto create = [&] {
        std::vector<CachedPartition> cached;
        cached.reserve(read.size());
        for (std::size_t i = 0; i < read.size(); ++i) {
          const FetchPartitionResponse& r = response.partitions[i];
          KS_ASSERT_EQ(read[i].partition, r.partition);
          cached.push_back(CachedPartition{read[i], r.high_watermark, r.log_start_offset});
        }
        return cached;
      };
      response.session_id = cache.next_shard().maybe_create_session(now, from_follower_,
                                                                     static_cast<int32_t>(read.size()), create);
      return;
    }
    case Kind::incremental:
      break;
  }
  FetchSession& session = *session_;
  response.session_id = session.id();
  // Another request of this session was handled since this one arrived (a duplicate): the epoch moved on.
  if (session.epoch() != expected_epoch_) {
    response.partitions.clear();
    response.error = Errc::invalid_fetch_session_epoch;
    return;
  }
  response.error = Errc::none;
  // Walk the response (in the session's order, as read) beside the session; look a partition up only if the
  // two disagree.
  auto walk = session.partitions().begin();
  std::size_t kept = 0;
  for (std::size_t i = 0; i < response.partitions.size(); ++i) {
    FetchPartitionResponse& r = response.partitions[i];
    FetchSession::List::iterator it;
    if (walk != session.partitions().end() && walk->request.partition == r.partition) {
      it = walk++;
    } else {
      it = session.find(r.partition);
      if (it == session.partitions().end()) continue;  // not in the session (any more): left out
    }
    if (!it->maybe_update_response_data(r, true)) continue;
    // KAFKA-12330: only partitions that returned records go to the end of the order.
    if (r.slice.bytes > 0) session.move_to_end(it);
    if (kept != i) response.partitions[kept] = std::move(r);
    ++kept;
  }
  response.partitions.resize(kept);
}

int64_t FetchContext::response_size_bytes(const FetchResponse& response) const {
  int64_t bytes = response_header_bytes + fetch_response_session_bytes;
  if (kind_ == Kind::session_error) return bytes;
  // A session whose epoch moved since this request's context was made answers with an error and no partitions.
  if (kind_ == Kind::incremental && session_->epoch() != expected_epoch_) return bytes;
  for (const FetchPartitionResponse& r : response.partitions) {
    if (kind_ == Kind::incremental) {
      const auto it = session_->find(r.partition);
      if (it == session_->partitions().end()) continue;
      if (!it->maybe_update_response_data(r, false)) continue;
    }
    bytes += fetch_partition_response_overhead_bytes + r.slice.bytes;
  }
  return bytes;
}

void FetchContext::throttled_response(FetchResponse& response, int32_t throttle_time_ms) const {
  KS_ASSERT_GT(throttle_time_ms, 0);
  response.partitions.clear();
  response.throttle_time_ms = throttle_time_ms;
  // FetchContext's default getThrottledResponse (session errors included): no error, no session.
  response.error = Errc::none;
  response.session_id = invalid_session_id;
  if (kind_ != Kind::incremental) return;
  response.session_id = session_->id();
  if (session_->epoch() != expected_epoch_) response.error = Errc::invalid_fetch_session_epoch;
}

// ---- FetchManager ----

FetchContext FetchManager::new_context(const FetchRequest& request, bool from_follower, sim::SimTime now) {
  const FetchMetadata metadata = request.metadata();
  if (metadata.is_full()) {
    // Any session named in a full request is closed.
    if (metadata.session_id != invalid_session_id) cache_.shard_of(metadata.session_id).remove(metadata.session_id);
    if (metadata.epoch == final_session_epoch) return FetchContext::sessionless();
    return FetchContext::full(from_follower);
  }
  std::shared_ptr<FetchSession> session = cache_.get(metadata.session_id);
  if (session == nullptr) return FetchContext::session_error(Errc::fetch_session_id_not_found);
  if (session->epoch() != metadata.epoch) return FetchContext::session_error(Errc::invalid_fetch_session_epoch);
  session->update(request.partitions, request.forgotten);
  FetchSessionCacheShard& shard = cache_.shard_of(session->id());
  if (session->empty()) {
    // Nothing left to fetch: the session is closed and this fetch is sessionless.
    shard.remove(session->id());
    return FetchContext::sessionless();
  }
  shard.touch(*session, now);
  session->epoch_ = FetchMetadata::next_epoch(session->epoch_);
  return FetchContext::incremental(std::move(session), metadata.epoch);
}

std::size_t FetchManager::partitions_to_read_count(const FetchRequest& request) const {
  const FetchMetadata metadata = request.metadata();
  if (metadata.is_full()) return request.partitions.size();
  const std::shared_ptr<FetchSession> session = cache_.get(metadata.session_id);
  if (session == nullptr || session->epoch() != metadata.epoch) return 0;
  // What FetchSession.update would leave: new partitions added, then the forgotten ones removed.
  std::set<PartitionRef> added;
  for (const FetchPartitionRequest& p : request.partitions) {
    if (!session->contains(p.partition)) added.insert(p.partition);
  }
  std::set<PartitionRef> removed;
  for (const PartitionRef& p : request.forgotten) {
    if (session->contains(p) || added.contains(p)) removed.insert(p);
  }
  const std::size_t size = session->size() + added.size() - removed.size();
  // An emptied session makes the fetch sessionless: it reads the request's own partitions.
  return size == 0 ? request.partitions.size() : size;
}

}  // namespace kafkasim::kafka
