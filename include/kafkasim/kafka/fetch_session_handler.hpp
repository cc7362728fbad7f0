// The client side of an incremental fetch session (KIP-227, Kafka >= 1.1; clients/src/main/java/org/apache/
// kafka/clients/FetchSessionHandler.java), shared by the follower's replica fetcher and the consumer: one handler
// per destination broker.
//
// Each fetch names the partitions the client wants now (`build(next)`). The handler remembers the session's
// partitions with the request data last sent for each (sessionPartitions, in insertion order) and decides what
// the request must carry:
//   - a FULL request (session epoch 0, or -1) lists every wanted partition; the broker may answer with a new
//     session id, which makes the next request incremental at epoch 1;
//   - an INCREMENTAL request (session id, epoch e > 0) lists only partitions that are new to the session or
//     whose request data changed (fetch offset, log start offset, max bytes, current leader epoch, last fetched
//     epoch: FetchRequest.PartitionData.equals), in the order "added, then altered", and the session partitions
//     no longer wanted in `forgotten`. If nothing changed it lists no partition at all.
// The response is checked against the session (handleResponse): a full response must hold exactly the session's
// partitions, an incremental one only session partitions. A top-level FETCH_SESSION_ID_NOT_FOUND starts over
// with a new session (FetchMetadata.INITIAL); any other top-level error, an invalid response, or a failed
// request (handleError) closes the session with the next request and asks for a new one (epoch 0). A rejected
// response is not processed at all: the caller's partitions keep their state and the next fetch is a full one.
//
// Not modelled: topic ids (FETCH_SESSION_TOPIC_ID_ERROR, toReplace), KIP-219 throttled empty responses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <span>
#include <vector>

#include "kafkasim/kafka/partition_index.hpp"
#include "kafkasim/kafka/protocol.hpp"

namespace kafkasim::kafka {

// FetchRequest.PartitionData.equals: the fields whose change puts a partition into an incremental request.
constexpr bool same_fetch_request_data(const FetchPartitionRequest& a, const FetchPartitionRequest& b) {
  return a.partition == b.partition && a.fetch_offset == b.fetch_offset && a.log_start_offset == b.log_start_offset &&
         a.partition_max_bytes == b.partition_max_bytes && a.current_leader_epoch == b.current_leader_epoch &&
         a.last_fetched_epoch == b.last_fetched_epoch;
}

class FetchSessionHandler {
 public:
  // FetchSessionHandler.FetchRequestData.
  struct RequestData {
    FetchMetadata metadata;
    std::vector<FetchPartitionRequest> to_send;  // FetchRequest.partitions
    std::vector<PartitionRef> to_forget;         // FetchRequest.forgotten
    std::size_t session_partition_count = 0;     // sessionPartitions().size() after this build
  };

  explicit FetchSessionHandler(NodeId node) : node_(node) {}

  // Builder.add for each partition of `next` (in the caller's order; no duplicates), then Builder.build. The
  // session partitions become `next`. A caller sends nothing when session_partition_count and to_forget are
  // both zero (RemoteLeaderEndPoint.buildFetch, AbstractFetch.prepareFetchRequests).
  RequestData build(std::span<const FetchPartitionRequest> next);

  // handleResponse: true when the response may be processed (the caller then handles every partition in it),
  // false when it must be dropped. Sets the metadata of the next request either way.
  bool handle_response(const FetchResponse& response);
  // handleError: the request failed without an answer (disconnect, timeout).
  void handle_error() { next_metadata_ = next_metadata_.next_close_existing_attempt_new(); }
  // notifyClose: the next request closes the session and creates none.
  void notify_close() { next_metadata_ = next_metadata_.next_close_existing(); }

  // The request data last sent for `partition` in this session, or nullptr if it is not in the session. While
  // a request is in flight this is what that request asked for (the session only changes in build).
  const FetchPartitionRequest* session_partition(PartitionRef partition) const;
  std::size_t session_size() const { return index_.size(); }
  // sessionPartitions in insertion order.
  std::vector<PartitionRef> session_partitions() const;
  const FetchMetadata& next_metadata() const { return next_metadata_; }
  int32_t session_id() const { return next_metadata_.session_id; }
  NodeId node() const { return node_; }

 private:
  struct Entry {
    FetchPartitionRequest data;
    uint64_t seen_round = 0;  // the build() round that last found it in `next`
    bool altered = false;
  };
  using List = std::list<Entry>;

  bool full_response_matches_session(const FetchResponse& response);
  bool incremental_response_within_session(const FetchResponse& response) const;

  NodeId node_;
  FetchMetadata next_metadata_ = initial_fetch_metadata;
  // sessionPartitions: a LinkedHashMap, as a list in insertion order plus an index (dense: every fetch looks up
  // each of its partitions).
  List order_;
  PartitionIndex<List::iterator> index_;
  uint64_t round_ = 0;
  // build()'s lists of added and altered partitions, kept for their capacity: build runs for every fetch.
  std::vector<const FetchPartitionRequest*> added_scratch_;
  std::vector<FetchPartitionRequest> altered_scratch_;
};

}  // namespace kafkasim::kafka
