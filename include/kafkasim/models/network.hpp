// NIC + network fabric model (reference/hardware-models.md §4).
//
// What it computes
// ----------------
// The fabric is a graph of hosts and switches joined by full-duplex links. Every link has two independent
// directions (§4.1: "EC2 bandwidth specs apply separately inbound and outbound"); each direction is a
// non-preemptive server of line rate C bytes/s and a one-way latency L (propagation + switching).
//
//   goodput rate           G = C · g · m          g = 1448/1538 (TCP/IP/Ethernet overhead, §4.2),
//                                                 m = bandwidth-cap fault multiplier (1 when healthy)
//   chunk serialisation    s(b) = b / G           a message is cut into chunks of at most c bytes (64 KiB)
//   chunk hop time         s(b) + L + extra + jitter (+ retransmission delay when the chunk is lost)
//
// Switches store and forward per frame, not per chunk (§4.2: store-and-forward adds one frame serialisation
// per hop; f = min(chunk, MSS) payload bytes). A chunk whose service starts at t on one hop has its first
// frame at the next node at t + s(f) + L and its tail at t_end + L; the next hop may start it from the first
// frame, but not before tail + s'(f) − s'(chunk) (so a faster next link is not held waiting for the tail),
// and finishes it no earlier than tail + s'(f). A message is delivered when its last chunk's tail reaches the
// destination, so an idle k-hop path of equal links delivers B bytes after
//
//   T(B) = Σ_chunks s(chunk)  [bottleneck, ≈ B/G]  + (k − 1)·s(f)  + Σ L_i          (§6 check 2)
//
// and a message of at most one frame after Σ_i (s_i(B) + L_i).
//
// A message *departs* when its last chunk has finished serialising on the first hop (the sender's NIC TX): on
// an idle link after Σ_chunks s(chunk) ≈ B/G, and in general once the chunks queued before it on that link
// direction (its own flow's earlier messages, other flows' chunks in DRR order) have been served as well.
// Departure stands in for "the last byte was written to the socket" (Kafka's NetworkClient completes a send
// then, and an acks=0 request completes there). Delivery follows departure by the remaining hops'
// serialisation and every link latency (on one link: exactly L later, plus any retransmission delay; a loss
// never delays departure).
//
// Sharing (§4.3): every link direction keeps one FIFO per flow and serves the flows by Deficit Round Robin
// with quantum c, so n backlogged
// flows get G/n each within one chunk per round, and a flow limited elsewhere to d < G/n gets d while the
// rest share what is left (max-min, §6 check 3). A flow keeps at most `window_chunks` chunks between its
// source and its destination (a stand-in for the TCP window, released on delivery), which bounds every queue.
// A flow is one direction of one TCP connection: the ordered pair (src, dst) of hosts and a tag (default 0)
// that tells apart the connections between the same two hosts. Two brokers that replicate from each other
// hold two connections (each follower's fetcher connects to the leader), so the fetch requests of one and the
// fetch responses of the other both go from A to B, in separate flows: a small request never waits behind
// megabytes of the other connection's response in one FIFO.
//
// Loss (§4.4) is a delay, never a drop: a chunk of k = ceil(b/MSS) packets crossing a lossy link direction
// is hit with probability 1 − (1 − p)^k; the lost packet is retransmitted after a timeout, and each
// retransmission is itself lost with probability p. The i-th consecutive timeout (i = 0, 1, ...) waits
//
//   RTO_i = min(RTO_0 · 2^i, TCP_RTO_MAX),   RTO_0 = SRTT + max(4·RTTVAR, TCP_RTO_MIN)
//
// with TCP_RTO_MIN = 200 ms, TCP_RTO_MAX = 120 s (Linux include/net/tcp.h), SRTT = the flow's base round trip
// (2 · Σ L_i) and RTTVAR = SRTT/2 (RFC 6298's first-sample rule). One loss therefore adds ≥ 200 ms and two
// consecutive ones ≈ 200 + 400 = 600 ms (§6 check 15). The delay holds back every later chunk of the same
// flow (TCP delivers bytes in order: head-of-line blocking).
//
// Receiver flow control (opt-in per flow, set_receive_buffer): TCP's receive window closes when the receiving
// application stops reading, so a sender cannot outrun a slow reader forever. On such a flow, the bytes of
// complete messages that have been delivered but not yet read (consume()) are the "unread" bytes; a new chunk
// is cut only while unread + chunk ≤ the receive buffer, or when nothing is unread (so any message moves).
// The reader is assumed to take in the message it is receiving as its bytes arrive (Kafka's NetworkReceive
// fills the request buffer as data comes in) and to read complete messages when it is ready for them. With a
// reader that consumes one message of B bytes every T, a flooding sender's messages therefore depart at 1/T in
// steady state, with at most buffer + window_chunks chunks outstanding.
//
// TCP send window (opt-in per flow, set_window): a flow given a window of W bytes keeps at most W bytes cut
// and not yet acknowledged, as a TCP sender keeps at most min(its send buffer, the receiver's advertised
// window) unacknowledged. A chunk is acknowledged one return-path latency after its last byte reached the
// destination (the reverse route's link latencies; the ACK's own serialisation and queueing are ignored), so a
// flow alone on an idle path moves at most about W per round trip:
//
//   rate ≈ W / (RTT + s(c_w)),   RTT = 2 · Σ L_i,   c_w = min(c, max(MSS, W/4))
//
// Such a flow is cut into chunks of at most c_w bytes instead of c, so that four chunks fill the window and the
// window keeps the link busy whenever W − c_w covers the bandwidth-delay product (chunk granularity costs at
// most a quarter of the window). A chunk never spans two messages, but when a message's tail leaves part of the
// window unused the next chunk takes just that part (if at least one MSS), so the window is used as TCP's byte
// stream uses it. A flow without set_window keeps the fixed window of `window_chunks` chunks, released on
// delivery.
//
// ACK traffic: the receiver of a windowed flow acknowledges every second full-sized segment at once (RFC 1122
// §4.2.3.2, RFC 5681 §4.2: "at least every second full-sized segment"), so a delivered chunk of b bytes sends
// floor(floor(b / MSS) / segments_per_ack) pure ACKs back. The rest (a message's short tail, a one-segment
// request or response) is acknowledged by the delayed-ACK timer or rides on the receiver's next data on the
// connection, and costs no frame of its own. A pure ACK carries no payload, so its wire size is the
// per-segment overhead of the profile, MSS · (1/g − 1) bytes (90 B for 1500-MTU frames with timestamps:
// 14 + 20 + 20 + 12 header + 4 FCS + 8 preamble + 12 gap), and it takes that over the line rate C · m on every
// reverse link direction of the route. On a reverse direction that is serialising a chunk the ACKs' time is
// added before its next chunk (ACK frames interleave with the data frames); on an idle one they go at once,
// and delay only a chunk that starts before they are through. So a link direction carrying data one way and
// ACKs for a stream the other way delivers payload at
//
//   G_eff = c / (s(c) + a(c')),   a(b) = floor(floor(b / MSS) / segments_per_ack) · MSS (1/g − 1) / (C · m)
//
// per data chunk c when the ACKed stream's chunks c' arrive as often. Only the ACKs' link time is modelled:
// the acknowledgement of the window still comes back after the bare return latency (see above), ACKs are
// charged to every reverse hop at the delivery instant, and Linux's receive coalescing (GRO/LRO), which makes
// one ACK cover more segments, is not modelled (segments_per_ack = 2 is the RFC's bound on ACK traffic).
//
// What it ignores (§4.5)
// ----------------------
// Congestion-window dynamics and slow start (the window is fixed: the socket buffers' bytes, or a chunk count);
// delayed-ACK timers, and ACKs' queueing delay (an acknowledgement takes the bare return latency; its link time
// is modelled, see "ACK traffic"), the ACK traffic of flows without a window; fast retransmit and
// RACK/TLP (every loss costs a full RTO: conservative tails, as §4.4 recommends); the bandwidth taken by
// retransmitted bytes; ECN/DCTCP; NIC offloads and interrupt coalescing;
// Nagle/delayed ACK; switch buffers and incast drops (switches have unbounded per-flow queues); cut-through
// switching (every hop stores and forwards one frame); interleaving of other flows' frames inside a chunk (a
// link serves one chunk at a time, DRR between chunks); host stack latency (fold it into the access links'
// latency). Routes are static shortest paths: there is no rerouting around faults.
//
// Fault semantics (all can be set and cleared at any simulated time)
// ------------------------------------------------------------------
// - Partition between node sets A and B: symmetric (A→B and B→A) or one-way (only A→B). A message is
//   dropped when its route visits a node of A and later a node of B (for a symmetric partition, also B then
//   A); with hosts only in the sets this is "src ∈ A and dst ∈ B". It is checked at send() (a dropped message
//   uses no link) and again when the last chunk arrives (a message in flight when the partition starts is
//   dropped then). A dropped message is never delivered: it is counted and its optional on_dropped callback
//   runs. Healing restores delivery for messages sent or completing afterwards.
// - Link fault (per link direction; the host helpers set both directions of every link of a host):
//   bandwidth cap `rate_multiplier` (applies to chunks that start serialising after the change), added
//   latency, jitter uniform in [0, jitter_max] drawn from the network's Rng per chunk and hop, and per-packet
//   loss probability (a delay, see above). inject_chunk_loss() scripts k consecutive timeouts for the next
//   chunk on a link direction, for reproducible tail-loss experiments.
// - Path fault (per ordered host pair): added latency and jitter on the last hop of every flow of the pair.
// Jitter and loss delays never reorder the chunks of a flow: a chunk never arrives at a node before the
// previous chunk of its flow did.
//
// A message from a host to itself never touches a NIC: it is delivered after `loopback_latency`
// (default zero, as an engine event, never synchronously from send()).
//
// Cancellation (the sender closes its connection)
// -----------------------------------------------
// cancel() withdraws a message that has not departed, as closing a TCP socket withdraws the bytes the application
// had not yet written into it: they never leave the host. Its chunks still waiting in the first hop's queue are
// removed (they never use a link) and its bytes not yet cut never are; a chunk already serialising on the first
// hop, or past it, is on the wire and finishes its journey: its bytes count on every link and in the flow's
// delivered bytes, and it takes its place in the flow's order and window as any chunk. The message itself is
// never delivered, never departs and is never dropped: none of its callbacks runs, and the receiver never
// holds it as unread (a receiver cannot complete a message whose tail never came). A message that has departed
// cannot be cancelled (its last byte has left: it is delivered, or dropped by a partition, as any other).
// Cancelling leaves the flow's other messages as they were, except that they no longer wait behind the removed
// chunks.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/graph/adjacency_list.hpp>

#include "kafkasim/sim/callback.hpp"
#include "kafkasim/sim/engine.hpp"
#include "kafkasim/sim/rng.hpp"
#include "kafkasim/sim/stats.hpp"
#include "kafkasim/sim/time.hpp"

namespace kafkasim::models {

// A vertex of the fabric graph: a host or a switch.
struct NodeId {
  uint32_t value = UINT32_MAX;
  bool valid() const { return value != UINT32_MAX; }
  friend auto operator<=>(const NodeId&, const NodeId&) = default;
};
// Hosts are nodes; the alias marks the APIs that accept hosts only (checked by assertion).
using HostId = NodeId;

struct MessageId {
  uint64_t value = 0;
  friend auto operator<=>(const MessageId&, const MessageId&) = default;
};

struct PartitionId {
  uint64_t value = 0;
  friend auto operator<=>(const PartitionId&, const PartitionId&) = default;
};

enum class NodeKind : uint8_t { kHost, kSwitch };

// One physical link: the same capacity and latency in each direction, the directions served independently.
struct LinkSpec {
  double bandwidth_bytes_per_s = 125e6;  // line rate per direction; 1 GbE = 125e6 B/s
  sim::Duration latency = sim::Duration::from_us(5);  // one way: propagation + switching (+ host stack share)
};

// The fabric graph. Built first, then handed to a Network, which freezes it and caches routes.
class Topology {
 public:
  struct NodeProps {
    std::string name;
    std::string rack;  // empty when unknown or for the spine
    NodeKind kind = NodeKind::kHost;
  };
  struct LinkProps {
    LinkSpec spec;
    uint32_t index = 0;       // dense link index, in order of add_link()
    int64_t route_weight = 0; // Dijkstra weight: latency first, then hop count (see Network::route)
  };
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, NodeProps, LinkProps>;

  NodeId add_host(std::string name, std::string rack = {});
  NodeId add_switch(std::string name, std::string rack = {});
  // Joins two distinct nodes. At most one link per node pair.
  void add_link(NodeId a, NodeId b, const LinkSpec& spec);

  uint32_t node_count() const { return static_cast<uint32_t>(boost::num_vertices(graph_)); }
  uint32_t link_count() const { return static_cast<uint32_t>(boost::num_edges(graph_)); }
  const NodeProps& node(NodeId id) const;
  bool is_host(NodeId id) const { return node(id).kind == NodeKind::kHost; }
  std::optional<NodeId> find(const std::string& name) const;
  std::vector<NodeId> hosts() const;
  const Graph& graph() const { return graph_; }

 private:
  Graph graph_;
};

// The usual two-tier shape: `hosts` hosts spread round-robin over `racks` racks ("rack-0", ...), host i
// named "host-i" in rack i % racks, one ToR switch per rack ("tor-r"), every ToR linked to one "spine".
// Host links use `host_link`, ToR–spine links `uplink`.
Topology make_leaf_spine(uint32_t hosts, uint32_t racks, const LinkSpec& host_link, const LinkSpec& uplink);

struct NetworkConfig {
  // Chunk (and DRR quantum) size c: smaller is fairer but costs more events (§4.3: 64 KiB – 1 MiB).
  uint32_t chunk_bytes = 64 * 1024;
  // Goodput / line rate: 1448 payload bytes per 1538 wire bytes with a 1500 MTU and TCP timestamps (§4.2).
  double goodput_fraction = 1448.0 / 1538.0;
  // Chunks a flow may have between source and destination (a stand-in for the TCP window).
  uint32_t window_chunks = 16;
  // TCP payload per packet; used to turn a per-packet loss probability into a per-chunk one.
  uint32_t mss_bytes = 1448;
  // A windowed flow's receiver sends one pure ACK per this many segments (RFC 1122 §4.2.3.2); 0: no ACK traffic.
  uint32_t segments_per_ack = 2;
  // Linux include/net/tcp.h: TCP_RTO_MIN = HZ/5, TCP_RTO_MAX = 120 s.
  sim::Duration rto_min = sim::Duration::from_ms(200);
  sim::Duration rto_max = sim::Duration::from_s(120);
  // Bound on consecutive timeouts of one chunk; Linux's net.ipv4.tcp_retries2 default is 15.
  uint32_t max_consecutive_timeouts = 15;
  sim::Duration loopback_latency = sim::Duration::zero();
  // Bound on messages queued in one flow (sent, not yet delivered or dropped); exceeding it is a bug upstream.
  uint32_t max_messages_per_flow = 1u << 20;
};

// Fault overlay on one link direction; the default value is a healthy link.
struct LinkFault {
  double rate_multiplier = 1.0;  // bandwidth cap: (0, 1] slows the link
  sim::Duration extra_latency = sim::Duration::zero();
  sim::Duration jitter_max = sim::Duration::zero();  // uniform in [0, jitter_max] per chunk
  double loss_per_packet = 0.0;                      // in [0, 1)
};

// Added latency and jitter for one ordered host pair (netem on a path).
struct PathFault {
  sim::Duration extra_latency = sim::Duration::zero();
  sim::Duration jitter_max = sim::Duration::zero();
};

enum class PartitionKind : uint8_t { kSymmetric, kOneWay };

struct HostCounters {
  uint64_t messages_sent = 0;      // handed to send(), including dropped and loopback ones
  uint64_t messages_received = 0;  // delivered to this host
  uint64_t messages_dropped = 0;   // sent by this host and dropped by a partition
  uint64_t bytes_sent = 0;         // payload bytes serialised onto this host's links (NIC TX counter)
  uint64_t bytes_received = 0;     // payload bytes of messages delivered to this host (incl. loopback)
};

struct LinkCounters {
  uint64_t bytes = 0;   // payload bytes serialised in this direction
  uint64_t chunks = 0;
  uint64_t chunk_losses = 0;           // chunks that suffered at least one timeout here
  uint64_t retransmission_timeouts = 0;
};

struct NetworkCounters {
  uint64_t messages_sent = 0;
  uint64_t messages_delivered = 0;
  uint64_t messages_dropped = 0;
  uint64_t messages_cancelled = 0;  // withdrawn by cancel() before they departed
  uint64_t retransmission_timeouts = 0;
};

class Network {
 public:
  Network(sim::Engine& engine, Topology topology, sim::Rng rng, NetworkConfig config = {});
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;
  ~Network();

  const Topology& topology() const { return topology_; }
  const NetworkConfig& config() const { return config_; }

  // Sends `bytes` (> 0) from host `src` to host `dst`. `on_delivered` runs when the last byte arrives;
  // `on_dropped` (optional) runs instead when a partition drops the message. `on_departed` (optional) runs
  // when the last byte has left `src`'s NIC (see "departs" above), always before `on_delivered`; a message
  // dropped at send() never departs, one dropped in flight has departed. A loopback message departs at once
  // (as an engine event). No callback runs synchronously from send(). Messages of one (src, dst, tag) flow
  // depart and are delivered in send order.
  // `tag` picks the flow (connection) between the two hosts; messages of different tags are not ordered.
  MessageId send(HostId src, HostId dst, uint64_t bytes, sim::Callback on_delivered,
                 sim::Callback on_dropped = nullptr, sim::Callback on_departed = nullptr, uint32_t tag = 0);

  // Withdraws message `id` of the (src, dst, tag) flow if it has not departed (see "Cancellation" above): none of
  // its callbacks will run, and its bytes not yet on the wire never leave `src`. Returns false, changing nothing,
  // when the message has departed, has been delivered or dropped, was cancelled already, was sent to `src`
  // itself (a loopback message departs at once), or is not a message of that flow.
  bool cancel(HostId src, HostId dst, MessageId id, uint32_t tag = 0);

  // The cached route from `src` to `dst` as the list of nodes, both ends included. Shortest by total
  // latency, then by hop count; remaining ties go to Boost's Dijkstra on the node/link insertion order, which
  // is fixed, so the choice is deterministic.
  const std::vector<NodeId>& route(NodeId src, NodeId dst);

  // ---- faults ----
  PartitionId partition(const std::vector<NodeId>& side_a, const std::vector<NodeId>& side_b,
                        PartitionKind kind = PartitionKind::kSymmetric);
  void heal(PartitionId id);
  void heal_all();
  bool is_partitioned(NodeId src, NodeId dst);  // would a message src→dst be dropped now?

  // ---- TCP send window (see "TCP send window" above) ----
  // Gives the (src, dst, tag) flow a window of `bytes` (> 0): at most that many bytes cut and unacknowledged.
  // Set before the flow's first message; the flow keeps it for its life.
  void set_window(HostId src, HostId dst, uint64_t bytes, uint32_t tag = 0);
  // The window of every flow created from now on: `policy(src, dst, tag)` bytes, 0 for none. Asked once per flow,
  // when its first message (or set_receive_buffer) creates it.
  using WindowPolicy = std::function<uint64_t(HostId src, HostId dst, uint32_t tag)>;
  void set_window_policy(WindowPolicy policy) { window_policy_ = std::move(policy); }
  // Every flow with a window that was ever full (bytes to send and no room), with how long: for reports.
  struct WindowFullTime {
    HostId src, dst;
    uint32_t tag = 0;
    uint64_t window_bytes = 0;
    sim::Duration full;
  };
  std::vector<WindowFullTime> windows_full() const;
  // How long the flow has had bytes to send and a full window (zero for a flow without a window or none yet).

  // ---- receiver flow control (see "Receiver flow control" above) ----
  // Turns it on for the (src, dst, tag) flow with a receive buffer of `bytes` (> 0), e.g. the receiver's
  // SO_RCVBUF.
  void set_receive_buffer(HostId src, HostId dst, uint64_t bytes, uint32_t tag = 0);
  // The application at `dst` has read `bytes` of complete messages of the (src, dst, tag) flow; at most what
  // was delivered and not yet read.
  void consume(HostId src, HostId dst, uint64_t bytes, uint32_t tag = 0);
  // Delivered and not yet read bytes of the flow (0 without flow control or if the flow never existed).
  uint64_t unread_bytes(HostId src, HostId dst, uint32_t tag = 0) const;

  // One direction `from`→`to` of the link joining two adjacent nodes.
  void set_link_fault(NodeId from, NodeId to, const LinkFault& fault);
  void clear_link_fault(NodeId from, NodeId to) { set_link_fault(from, to, LinkFault{}); }
  // Both directions of every link of a host (its NIC).
  void set_host_fault(HostId host, const LinkFault& fault);
  void clear_host_fault(HostId host) { set_host_fault(host, LinkFault{}); }
  void set_path_fault(HostId src, HostId dst, const PathFault& fault);
  void clear_path_fault(HostId src, HostId dst) { set_path_fault(src, dst, PathFault{}); }
  // The next chunk that starts serialising on `from`→`to` suffers `consecutive_timeouts` timeouts in a row.
  void inject_chunk_loss(NodeId from, NodeId to, uint32_t consecutive_timeouts);

  // Total delay of `consecutive_timeouts` back-to-back retransmission timeouts on a flow with base round
  // trip `srtt` (see the header comment).
  static sim::Duration retransmission_delay(sim::Duration srtt, uint32_t consecutive_timeouts,
                                            const NetworkConfig& config);

  // ---- accounting ----
  const HostCounters& host_counters(HostId host) const;
  const LinkCounters& link_counters(NodeId from, NodeId to) const;
  double link_utilisation(NodeId from, NodeId to) const;  // busy fraction since construction
  const sim::UtilisationMeter& link_meter(NodeId from, NodeId to) const;
  const NetworkCounters& counters() const { return counters_; }
  // Payload bytes of the (src, dst, tag) flow that reached dst, counted per chunk (0 if the flow never existed).
  uint64_t flow_bytes_delivered(HostId src, HostId dst, uint32_t tag = 0) const;

 private:
  struct Chunk {
    uint64_t message = 0;  // MessageId::value of the message it is cut from
    uint32_t bytes = 0;
    // When the chunk's last byte is (or will be) at the node whose queue holds it: the last frame cannot leave
    // before then (frame-granularity forwarding, see the header comment).
    sim::SimTime tail_at = sim::SimTime::zero();
  };
  // A flow's state at one hop (link direction) of its route.
  struct FlowHop {
    uint32_t link_dir = 0;
    std::deque<Chunk> queue;  // at most window_chunks (a windowed flow: at most its window's bytes)
    int64_t deficit_bytes = 0;
    bool in_ring = false;
    bool turn_started = false;
    // Head and tail arrival of this flow's latest chunk at the next node: later chunks never arrive before.
    sim::SimTime last_head = sim::SimTime::zero();
    sim::SimTime last_tail = sim::SimTime::zero();
  };
  struct Message {
    MessageId id;
    uint64_t bytes = 0;      // after cancel(): the bytes of the chunks that were already on the wire
    uint64_t bytes_cut = 0;  // already cut into chunks
    sim::Callback on_delivered;
    sim::Callback on_dropped;
    sim::Callback on_departed;
    // A message departs when its serialised bytes on the first hop, and is delivered when its arrived bytes at
    // the destination, reach `bytes` (chunks of a flow cross every hop in the order they were cut).
    uint64_t bytes_departed = 0;
    uint64_t bytes_arrived = 0;
    bool cancelled = false;
  };
  struct Flow {
    NodeId src;
    NodeId dst;
    uint32_t tag = 0;
    std::vector<FlowHop> hops;
    std::deque<Message> messages;  // front: oldest not yet delivered
    size_t next_to_cut = 0;        // index into `messages` of the first message with bytes left to cut
    size_t next_to_depart = 0;     // index into `messages` of the first message whose last chunk has not
                                   // yet left the first hop
    uint32_t chunks_in_flight = 0;
    // TCP send window (0: the fixed window of window_chunks chunks, released on delivery).
    uint64_t window_bytes = 0;
    uint32_t window_chunk_bytes = 0;  // c_w: the chunk size of a windowed flow
    uint64_t bytes_unacked = 0;       // cut and not yet acknowledged
    std::deque<std::pair<sim::SimTime, uint32_t>> acks;  // delivered chunks: (acknowledged at, bytes)
    bool ack_wakeup_armed = false;
    bool window_full = false;  // bytes to send and no room in the window, since window_full_since
    sim::SimTime window_full_since = sim::SimTime::zero();
    sim::Duration window_full_total = sim::Duration::zero();
    uint64_t receive_buffer_bytes = 0;  // 0: no receiver flow control
    uint64_t unread_bytes = 0;          // complete messages delivered, not yet consume()d
    sim::Duration srtt;
    sim::Duration base_latency;
    PathFault path_fault;
    sim::SimTime last_delivery = sim::SimTime::zero();
    uint64_t bytes_delivered = 0;
  };
  struct RingEntry {
    uint32_t flow = 0;
    uint32_t hop = 0;
  };
  struct LinkDir {
    NodeId from;
    NodeId to;
    double bandwidth_bytes_per_s = 0;
    sim::Duration latency;
    LinkFault fault;
    uint32_t forced_timeouts = 0;
    std::deque<RingEntry> ring;  // flows with queued chunks here, DRR order; at most one entry per flow
    bool busy = false;
    // ACK traffic (see "ACK traffic"): the ACK time owed while a chunk is in service, and the end of the ACKs
    // going out between chunks (the next chunk starts after it).
    sim::Duration ack_backlog = sim::Duration::zero();
    sim::SimTime acks_idle_until = sim::SimTime::zero();
    sim::UtilisationMeter meter;
    LinkCounters counters;
  };
  struct Partition {
    std::vector<bool> in_a;
    std::vector<bool> in_b;
    PartitionKind kind = PartitionKind::kSymmetric;
  };

  uint32_t link_dir_index(NodeId from, NodeId to) const;
  uint32_t flow_for(HostId src, HostId dst, uint32_t tag);
  bool route_crosses_partition(const std::vector<NodeId>& path) const;
  // route_crosses_partition() for the route src → dst; false at once while no partition is set.
  bool crosses_partition(NodeId src, NodeId dst);
  uint32_t find_flow(HostId src, HostId dst, uint32_t tag) const;
  void refill(uint32_t flow_index);
  // Counts the acknowledgements of a windowed flow that have come back by now.
  void take_acks(Flow& flow);
  void apply_window(Flow& flow, uint64_t bytes);
  void serve(uint32_t link_dir, RingEntry entry, Chunk chunk);
  void enqueue(uint32_t flow_index, uint32_t hop, Chunk chunk);
  void start_next(uint32_t link_dir);
  void on_serialised(uint32_t link_dir, RingEntry entry, Chunk chunk);
  void on_arrival(uint32_t flow_index, uint32_t hop, Chunk chunk);
  void deliver_front(uint32_t flow_index);
  // Takes every chunk of message `id` out of the flow's first-hop queue (the chunk in service is not queued);
  // returns their bytes and count.
  std::pair<uint64_t, uint32_t> unqueue_first_hop(uint32_t flow_index, uint64_t id);
  sim::Duration serialisation(const LinkDir& dir, uint32_t bytes) const;
  // The pure ACKs acknowledging a delivered chunk of `bytes` go back over every reverse hop of the flow.
  void send_acks(const Flow& flow, uint32_t bytes);
  sim::Duration jitter(sim::Duration jitter_max);
  uint32_t draw_timeouts(LinkDir& dir, uint32_t bytes);

  sim::Engine& engine_;
  Topology topology_;
  sim::Rng rng_;
  NetworkConfig config_;
  double ack_frame_bytes_ = 0;  // wire bytes of one pure ACK (see "ACK traffic")
  std::vector<LinkDir> link_dirs_;                       // 2·link + (0: source→target, 1: target→source)
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> link_dir_by_nodes_;
  std::vector<std::vector<uint32_t>> predecessors_;      // per source node, computed on first use
  std::map<std::pair<uint32_t, uint32_t>, std::vector<NodeId>> routes_;
  std::vector<std::unique_ptr<Flow>> flows_;
  // Flow index by (src · node_count + dst) · kDenseTags + tag for tags below kDenseTags (kNoFlow until the flow
  // first sends): a dense table, looked up on every send and delivery. Higher tags are in a map.
  static constexpr uint32_t kNoFlow = UINT32_MAX;
  WindowPolicy window_policy_;
  static constexpr uint32_t kDenseTags = 2;
  std::vector<uint32_t> flow_by_pair_;
  std::map<std::tuple<uint32_t, uint32_t, uint32_t>, uint32_t> flow_by_tag_;
  // Path faults by ordered host pair: they apply to every flow of the pair, present and future.
  std::map<std::pair<uint32_t, uint32_t>, PathFault> path_faults_;
  std::map<uint64_t, Partition> partitions_;
  std::vector<HostCounters> host_counters_;
  NetworkCounters counters_;
  uint64_t next_message_id_ = 1;
  uint64_t next_partition_id_ = 1;
};

}  // namespace kafkasim::models
