// Kafka's protocol error codes as a value type.
//
// Expected conditions (an offset out of range, a too-large batch, a lost leadership) are returned as an `Errc`,
// never thrown or asserted (STYLE.md). The numeric values are Kafka's wire codes, from
// clients/src/main/java/org/apache/kafka/common/protocol/Errors.java as tabulated in
// reference/kafka-behaviour.md §7, so that a trace or events.jsonl line can be compared with a real broker's.
// Enumerators are the Kafka names in snake_case; `to_string` gives the Kafka spelling for grep.
#pragma once

#include <cstdint>
#include <string_view>

namespace kafkasim::kafka {

enum class Errc : int16_t {
  none = 0,
  unknown_server_error = -1,
  offset_out_of_range = 1,
  corrupt_message = 2,
  unknown_topic_or_partition = 3,
  leader_not_available = 5,
  not_leader_or_follower = 6,
  request_timed_out = 7,
  broker_not_available = 8,
  replica_not_available = 9,
  message_too_large = 10,
  network_exception = 13,
  coordinator_load_in_progress = 14,
  coordinator_not_available = 15,
  not_coordinator = 16,
  record_list_too_large = 18,
  not_enough_replicas = 19,
  not_enough_replicas_after_append = 20,
  invalid_required_acks = 21,
  illegal_generation = 22,
  inconsistent_group_protocol = 23,
  unknown_member_id = 25,
  invalid_session_timeout = 26,
  rebalance_in_progress = 27,
  invalid_timestamp = 32,
  invalid_replication_factor = 38,
  not_controller = 41,
  policy_violation = 44,
  out_of_order_sequence_number = 45,
  duplicate_sequence_number = 46,
  invalid_producer_epoch = 47,
  invalid_txn_state = 48,
  concurrent_transactions = 51,
  kafka_storage_error = 56,
  unknown_producer_id = 59,
  non_empty_group = 68,
  group_id_not_found = 69,
  fetch_session_id_not_found = 70,
  invalid_fetch_session_epoch = 71,
  fenced_leader_epoch = 74,
  unknown_leader_epoch = 75,
  stale_broker_epoch = 77,
  offset_not_available = 78,
  member_id_required = 79,
  preferred_leader_not_available = 80,
  group_max_size_reached = 81,
  fenced_instance_id = 82,
  eligible_leaders_not_available = 83,
  election_not_needed = 84,
  invalid_record = 87,
  unstable_offset_commit = 88,
  producer_fenced = 90,
  inconsistent_voter_set = 94,
  invalid_update_version = 95,
  unknown_topic_id = 100,
  duplicate_broker_registration = 101,
  broker_id_not_registered = 102,
  inconsistent_cluster_id = 104,
  ineligible_replica = 107,
  new_leader_elected = 108,
  fenced_member_epoch = 110,
  unreleased_instance_id = 111,
  unsupported_assignor = 112,
  stale_member_epoch = 113,
  transaction_abortable = 120,
  invalid_voter_key = 125,
};

// Kafka's wire code.
constexpr int16_t code(Errc e) { return static_cast<int16_t>(e); }

// The Kafka spelling (Errors.java enum constant), e.g. "OFFSET_OUT_OF_RANGE".
constexpr std::string_view to_string(Errc e) {
  switch (e) {
    case Errc::none: return "NONE";
    case Errc::unknown_server_error: return "UNKNOWN_SERVER_ERROR";
    case Errc::offset_out_of_range: return "OFFSET_OUT_OF_RANGE";
    case Errc::corrupt_message: return "CORRUPT_MESSAGE";
    case Errc::unknown_topic_or_partition: return "UNKNOWN_TOPIC_OR_PARTITION";
    case Errc::leader_not_available: return "LEADER_NOT_AVAILABLE";
    case Errc::not_leader_or_follower: return "NOT_LEADER_OR_FOLLOWER";
    case Errc::request_timed_out: return "REQUEST_TIMED_OUT";
    case Errc::broker_not_available: return "BROKER_NOT_AVAILABLE";
    case Errc::replica_not_available: return "REPLICA_NOT_AVAILABLE";
    case Errc::message_too_large: return "MESSAGE_TOO_LARGE";
    case Errc::network_exception: return "NETWORK_EXCEPTION";
    case Errc::coordinator_load_in_progress: return "COORDINATOR_LOAD_IN_PROGRESS";
    case Errc::coordinator_not_available: return "COORDINATOR_NOT_AVAILABLE";
    case Errc::not_coordinator: return "NOT_COORDINATOR";
    case Errc::record_list_too_large: return "RECORD_LIST_TOO_LARGE";
    case Errc::not_enough_replicas: return "NOT_ENOUGH_REPLICAS";
    case Errc::not_enough_replicas_after_append: return "NOT_ENOUGH_REPLICAS_AFTER_APPEND";
    case Errc::invalid_required_acks: return "INVALID_REQUIRED_ACKS";
    case Errc::illegal_generation: return "ILLEGAL_GENERATION";
    case Errc::inconsistent_group_protocol: return "INCONSISTENT_GROUP_PROTOCOL";
    case Errc::unknown_member_id: return "UNKNOWN_MEMBER_ID";
    case Errc::invalid_session_timeout: return "INVALID_SESSION_TIMEOUT";
    case Errc::rebalance_in_progress: return "REBALANCE_IN_PROGRESS";
    case Errc::invalid_timestamp: return "INVALID_TIMESTAMP";
    case Errc::invalid_replication_factor: return "INVALID_REPLICATION_FACTOR";
    case Errc::not_controller: return "NOT_CONTROLLER";
    case Errc::policy_violation: return "POLICY_VIOLATION";
    case Errc::out_of_order_sequence_number: return "OUT_OF_ORDER_SEQUENCE_NUMBER";
    case Errc::duplicate_sequence_number: return "DUPLICATE_SEQUENCE_NUMBER";
    case Errc::invalid_producer_epoch: return "INVALID_PRODUCER_EPOCH";
    case Errc::invalid_txn_state: return "INVALID_TXN_STATE";
    case Errc::concurrent_transactions: return "CONCURRENT_TRANSACTIONS";
    case Errc::kafka_storage_error: return "KAFKA_STORAGE_ERROR";
    case Errc::unknown_producer_id: return "UNKNOWN_PRODUCER_ID";
    case Errc::non_empty_group: return "NON_EMPTY_GROUP";
    case Errc::group_id_not_found: return "GROUP_ID_NOT_FOUND";
    case Errc::fetch_session_id_not_found: return "FETCH_SESSION_ID_NOT_FOUND";
    case Errc::invalid_fetch_session_epoch: return "INVALID_FETCH_SESSION_EPOCH";
    case Errc::fenced_leader_epoch: return "FENCED_LEADER_EPOCH";
    case Errc::unknown_leader_epoch: return "UNKNOWN_LEADER_EPOCH";
    case Errc::stale_broker_epoch: return "STALE_BROKER_EPOCH";
    case Errc::offset_not_available: return "OFFSET_NOT_AVAILABLE";
    case Errc::member_id_required: return "MEMBER_ID_REQUIRED";
    case Errc::preferred_leader_not_available: return "PREFERRED_LEADER_NOT_AVAILABLE";
    case Errc::group_max_size_reached: return "GROUP_MAX_SIZE_REACHED";
    case Errc::fenced_instance_id: return "FENCED_INSTANCE_ID";
    case Errc::eligible_leaders_not_available: return "ELIGIBLE_LEADERS_NOT_AVAILABLE";
    case Errc::election_not_needed: return "ELECTION_NOT_NEEDED";
    case Errc::invalid_record: return "INVALID_RECORD";
    case Errc::unstable_offset_commit: return "UNSTABLE_OFFSET_COMMIT";
    case Errc::producer_fenced: return "PRODUCER_FENCED";
    case Errc::inconsistent_voter_set: return "INCONSISTENT_VOTER_SET";
    case Errc::invalid_update_version: return "INVALID_UPDATE_VERSION";
    case Errc::unknown_topic_id: return "UNKNOWN_TOPIC_ID";
    case Errc::duplicate_broker_registration: return "DUPLICATE_BROKER_REGISTRATION";
    case Errc::broker_id_not_registered: return "BROKER_ID_NOT_REGISTERED";
    case Errc::inconsistent_cluster_id: return "INCONSISTENT_CLUSTER_ID";
    case Errc::ineligible_replica: return "INELIGIBLE_REPLICA";
    case Errc::new_leader_elected: return "NEW_LEADER_ELECTED";
    case Errc::fenced_member_epoch: return "FENCED_MEMBER_EPOCH";
    case Errc::unreleased_instance_id: return "UNRELEASED_INSTANCE_ID";
    case Errc::unsupported_assignor: return "UNSUPPORTED_ASSIGNOR";
    case Errc::stale_member_epoch: return "STALE_MEMBER_EPOCH";
    case Errc::transaction_abortable: return "TRANSACTION_ABORTABLE";
    case Errc::invalid_voter_key: return "INVALID_VOTER_KEY";
  }
  return "UNKNOWN";
}

// Whether the client-side exception extends RetriableException (reference §7, "retriable" column).
constexpr bool is_retriable(Errc e) {
  switch (e) {
    case Errc::corrupt_message:
    case Errc::unknown_topic_or_partition:
    case Errc::leader_not_available:
    case Errc::not_leader_or_follower:
    case Errc::request_timed_out:
    case Errc::replica_not_available:
    case Errc::network_exception:
    case Errc::coordinator_load_in_progress:
    case Errc::coordinator_not_available:
    case Errc::not_coordinator:
    case Errc::not_enough_replicas:
    case Errc::not_enough_replicas_after_append:
    case Errc::not_controller:
    case Errc::concurrent_transactions:
    case Errc::kafka_storage_error:
    case Errc::fetch_session_id_not_found:
    case Errc::invalid_fetch_session_epoch:
    case Errc::fenced_leader_epoch:
    case Errc::unknown_leader_epoch:
    case Errc::offset_not_available:
    case Errc::preferred_leader_not_available:
    case Errc::eligible_leaders_not_available:
    case Errc::election_not_needed:
    case Errc::unstable_offset_commit:
    case Errc::unknown_topic_id:
      return true;
    default:
      return false;
  }
}

// Whether the client also refreshes metadata (the exception extends InvalidMetadataException, reference §7).
constexpr bool needs_metadata_refresh(Errc e) {
  switch (e) {
    case Errc::unknown_topic_or_partition:
    case Errc::leader_not_available:
    case Errc::not_leader_or_follower:
    case Errc::replica_not_available:
    case Errc::network_exception:
    case Errc::kafka_storage_error:
    case Errc::fenced_leader_epoch:
    case Errc::preferred_leader_not_available:
    case Errc::eligible_leaders_not_available:
    case Errc::election_not_needed:
    case Errc::unknown_topic_id:
      return true;
    default:
      return false;
  }
}

}  // namespace kafkasim::kafka
