// The simulated cluster at one instant, printed the way Kafka's own tools print a real one (`kafkasim describe`):
//
//  - describe_topics: `kafka-topics.sh --describe` (tools/.../TopicCommand.java, Kafka 4.x): per topic, sorted by
//    name, a line "Topic: <name>\tTopicId: <id>\tPartitionCount: <n>\tReplicationFactor: <rf>\tConfigs: <k=v,...>"
//    then per partition "\tTopic: <name>\tPartition: <p>\tLeader: <id>\tReplicas: <ids>\tIsr: <ids>\tElr: \t
//    LastKnownElr: ". Configs lists the topic configs whose effective value is not Kafka's default (the tool hides
//    entries whose source is DEFAULT_CONFIG; a topic override and a broker-level setting both show). Leader and
//    ISR are the leader replica's view; "none" when no replica leads. ELR (KIP-966) is not modelled: empty lists,
//    as a 4.x cluster with the feature off reports them. The TopicId is a deterministic stand-in (Kafka draws a
//    random UUID at creation) in Kafka's base64 form.
//
//  - describe_consumer_groups: `kafka-consumer-groups.sh --describe --all-groups` (ConsumerGroupCommand.java):
//    groups sorted by name; per group a blank line, the header GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET
//    LAG CONSUMER-ID HOST CLIENT-ID, then one row per assigned partition (members with more partitions first, each
//    member's rows by topic and partition), columns padded as the tool pads them (group, topic, consumer id and
//    host to their longest value, at least 15; PARTITION 10; offsets and LAG 15). CURRENT-OFFSET is the group's
//    committed offset ("-" before the first commit), LOG-END-OFFSET what ListOffsets(latest, read_uncommitted)
//    returns, i.e. the leader's high watermark, and LAG = LOG-END-OFFSET - CURRENT-OFFSET. A group none of whose
//    consumers has started yet (start_at) does not exist for the coordinator and gets the tool's error line.
//    Consumers of an entry with its own `partitions` (assign() with the group's id) are no members: their committed
//    partitions follow the members' rows, by topic and partition, with "-" for CONSUMER-ID, HOST and CLIENT-ID, and a
//    group with no member but committed offsets gets the tool's "has no active members" line (EMPTY).
//
// Consumers use a static assignment in kafkasim (no group coordinator yet), but they are shown as the members a
// group would have: CLIENT-ID "consumer-<group>-<k>" (Kafka's default client.id, k counting the group's
// consumers from 1), CONSUMER-ID "<client-id>-<uuid>" (the classic protocol's member id, the UUID derived from the
// seed), HOST "/<simulated host name>" (the name summary.json uses for its NIC, e.g. "/client-1").
#pragma once

#include <string>
#include <vector>

#include "kafkasim/cluster/world.hpp"

namespace kafkasim::cluster {

std::string describe_topics(const World& world);

// `groups[i]` is the group name of the world's consumer entry i (ScenarioExtras::consumer_groups).
std::string describe_consumer_groups(const World& world, const std::vector<std::string>& groups);

// `kafka-configs.sh --describe --entity-type brokers` (ConfigCommand.describeResourceConfig, Kafka 4.x): for each
// broker by id, then the cluster default, the dynamic configs the operations set so far, sorted by name, each as
// "  name=value sensitive=false synonyms={SOURCE:name=value, ...}". A broker's synonyms run from its own value
// (DYNAMIC_BROKER_CONFIG) through the cluster default's (DYNAMIC_DEFAULT_BROKER_CONFIG), the scenario's cluster
// config (STATIC_BROKER_CONFIG) to Kafka's default (DEFAULT_CONFIG), each where it exists; the default entity lists
// only its own (ConfigHelper.createBrokerConfigEntry keeps DYNAMIC_DEFAULT_BROKER_CONFIG alone there).
std::string describe_broker_configs(const World& world);

// `kafka-get-offsets.sh --exclude-internal-topics --time earliest|latest` (GetOffsetShell, Kafka 4.x): one line
// "topic:partition:offset" per partition of the scenario's topics, by topic name then partition. Earliest is what
// ListOffsets(EARLIEST) returns, the leader's log start offset (moved by retention and kafka-delete-records); latest
// is ListOffsets(LATEST, read_uncommitted), the leader's high watermark. A partition without a leader is left out.
std::string describe_offsets(const World& world, bool earliest);

// `kafka-log-dirs.sh --describe` (LogDirsCommand, Kafka 4.x): its two lines, then one line of JSON as the tool's
// Jackson writes its HashMaps (keys in Java's HashMap order, no spaces): every broker's log dirs with each replica's
// "partition" (topic-partition), "size" (the log's bytes, UnifiedLog.size), "offsetLag" (max(its high watermark - its
// log end offset, 0) for a current log) and "isFuture" (false: no replica moves between dirs), __consumer_offsets
// included. A log dir's path is a stand-in (log.dirs is not modelled): Kafka's default /tmp/kafka-logs, with several
// dirs /tmp/kafka-logs-<d>.
std::string describe_log_dirs(const World& world);

}  // namespace kafkasim::cluster
