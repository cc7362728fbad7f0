// FetchSessionHandler (KIP-227); see include/kafkasim/kafka/fetch_session_handler.hpp.
#include "kafkasim/kafka/fetch_session_handler.hpp"

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::kafka {

FetchSessionHandler::RequestData FetchSessionHandler::build(std::span<const FetchPartitionRequest> next) {
  RequestData data;
  data.metadata = next_metadata_;
  if (next_metadata_.is_full()) {
    // A full request: the session becomes exactly `next`, and every partition is sent.
    order_.clear();
    index_.clear();
    data.to_send.assign(next.begin(), next.end());
    for (const FetchPartitionRequest& p : next) {
      order_.push_back(Entry{p, 0, false});
      const bool inserted = index_.emplace(p.partition, std::prev(order_.end()));
      KS_ASSERT(inserted);  // a partition listed twice is a caller bug
    }
    data.session_partition_count = index_.size();
    return data;
  }

  // An incremental request. First mark which session partitions are still wanted and which changed; the
  // partitions new to the session keep `next`'s order.
  ++round_;
  std::vector<const FetchPartitionRequest*>& added = added_scratch_;
  added.clear();
  for (const FetchPartitionRequest& p : next) {
    List::iterator* it = index_.find(p.partition);
    if (it == nullptr) {
      added.push_back(&p);
      continue;
    }
    Entry& entry = **it;
    KS_ASSERT_NE(entry.seen_round, round_);  // listed twice
    entry.seen_round = round_;
    if (!same_fetch_request_data(entry.data, p)) {
      entry.data = p;
      entry.altered = true;
    }
  }
  // Then walk the session in its order: unwanted partitions are forgotten; altered ones are sent after the added
  // ones, in session order (Builder.build re-adds them at the end of `next`).
  std::vector<FetchPartitionRequest>& altered = altered_scratch_;
  altered.clear();
  for (auto it = order_.begin(); it != order_.end();) {
    if (it->seen_round != round_) {
      data.to_forget.push_back(it->data.partition);
      index_.erase(it->data.partition);
      it = order_.erase(it);
      continue;
    }
    if (it->altered) {
      altered.push_back(it->data);
      it->altered = false;
    }
    ++it;
  }
  data.to_send.reserve(added.size() + altered.size());
  for (const FetchPartitionRequest* p : added) {
    data.to_send.push_back(*p);
    order_.push_back(Entry{*p, round_, false});
    const bool inserted = index_.emplace(p->partition, std::prev(order_.end()));
    KS_ASSERT(inserted);
  }
  data.to_send.insert(data.to_send.end(), altered.begin(), altered.end());
  data.session_partition_count = index_.size();
  KS_ASSERT_EQ(order_.size(), index_.size());
  return data;
}

bool FetchSessionHandler::full_response_matches_session(const FetchResponse& response) {
  // verifyFullFetchResponsePartitions: no session partition omitted and no extra one.
  if (response.partitions.size() != index_.size()) return false;
  ++round_;
  for (const FetchPartitionResponse& p : response.partitions) {
    List::iterator* it = index_.find(p.partition);
    if (it == nullptr || (*it)->seen_round == round_) return false;
    (*it)->seen_round = round_;
  }
  return true;
}

bool FetchSessionHandler::incremental_response_within_session(const FetchResponse& response) const {
  // verifyIncrementalFetchResponsePartitions: only session partitions.
  for (const FetchPartitionResponse& p : response.partitions) {
    if (!index_.contains(p.partition)) return false;
  }
  return true;
}

bool FetchSessionHandler::handle_response(const FetchResponse& response) {
  if (response.error != Errc::none) {
    // The broker could not use the session: start a new one with the next (full) request.
    KS_ASSERT(response.partitions.empty());
    next_metadata_ = response.error == Errc::fetch_session_id_not_found
                         ? initial_fetch_metadata
                         : next_metadata_.next_close_existing_attempt_new();
    return false;
  }
  if (next_metadata_.is_full()) {
    if (!full_response_matches_session(response)) {
      next_metadata_ = initial_fetch_metadata;
      return false;
    }
    // Session id 0: the broker kept no session (sessionless request, or no cache slot); the next fetch is full.
    next_metadata_ = response.session_id == invalid_session_id ? initial_fetch_metadata
                                                               : FetchMetadata::new_incremental(response.session_id);
    return true;
  }
  if (!incremental_response_within_session(response)) {
    next_metadata_ = next_metadata_.next_close_existing_attempt_new();
    return false;
  }
  // Session id 0 on an incremental response: the broker closed the session (it became empty).
  next_metadata_ = response.session_id == invalid_session_id ? initial_fetch_metadata
                                                             : next_metadata_.next_incremental();
  return true;
}

const FetchPartitionRequest* FetchSessionHandler::session_partition(PartitionRef partition) const {
  const List::iterator* it = index_.find(partition);
  return it == nullptr ? nullptr : &(*it)->data;
}

std::vector<PartitionRef> FetchSessionHandler::session_partitions() const {
  std::vector<PartitionRef> result;
  result.reserve(order_.size());
  for (const Entry& e : order_) result.push_back(e.data.partition);
  return result;
}

}  // namespace kafkasim::kafka
