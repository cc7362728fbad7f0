// NIC + network fabric model; the equations, what is ignored and the fault semantics are in network.hpp.
#include "kafkasim/models/network.hpp"

#include <algorithm>
#include <cmath>

#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <boost/property_map/property_map.hpp>

#include "kafkasim/sim/assert.hpp"

namespace kafkasim::models {

namespace {

// Route weight = latency first, hop count second: a hop adds 1 to a latency scaled by 2^16, so among paths of
// equal latency the one with fewer hops wins as long as paths have fewer than 65536 hops.
constexpr int64_t kHopWeight = 1;
constexpr int64_t kLatencyWeightScale = int64_t{1} << 16;

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Topology

// Vertices are added bare and their properties assigned afterwards: Boost's add_vertex(properties, graph)
// overload trips GCC 12's -Wmaybe-uninitialized (in named_graph.hpp) in sanitizer builds.
NodeId Topology::add_host(std::string name, std::string rack) {
  const auto v = boost::add_vertex(graph_);
  graph_[v] = NodeProps{std::move(name), std::move(rack), NodeKind::kHost};
  return NodeId{static_cast<uint32_t>(v)};
}

NodeId Topology::add_switch(std::string name, std::string rack) {
  const auto v = boost::add_vertex(graph_);
  graph_[v] = NodeProps{std::move(name), std::move(rack), NodeKind::kSwitch};
  return NodeId{static_cast<uint32_t>(v)};
}

void Topology::add_link(NodeId a, NodeId b, const LinkSpec& spec) {
  KS_ASSERT_LT(a.value, node_count());
  KS_ASSERT_LT(b.value, node_count());
  KS_ASSERT_NE(a.value, b.value);
  KS_ASSERT_GT(spec.bandwidth_bytes_per_s, 0.0);
  KS_ASSERT_GE(spec.latency.ns(), 0);
  KS_ASSERT_MSG(!boost::edge(a.value, b.value, graph_).second, "at most one link per node pair");
  LinkProps props;
  props.spec = spec;
  props.index = link_count();
  props.route_weight = spec.latency.ns() * kLatencyWeightScale + kHopWeight;
  boost::add_edge(a.value, b.value, props, graph_);
}

const Topology::NodeProps& Topology::node(NodeId id) const {
  KS_ASSERT_LT(id.value, node_count());
  return graph_[id.value];
}

std::optional<NodeId> Topology::find(const std::string& name) const {
  for (uint32_t v = 0; v < node_count(); ++v)
    if (graph_[v].name == name) return NodeId{v};
  return std::nullopt;
}

std::vector<NodeId> Topology::hosts() const {
  std::vector<NodeId> out;
  for (uint32_t v = 0; v < node_count(); ++v)
    if (graph_[v].kind == NodeKind::kHost) out.push_back(NodeId{v});
  return out;
}

Topology make_leaf_spine(uint32_t hosts, uint32_t racks, const LinkSpec& host_link, const LinkSpec& uplink) {
  KS_ASSERT_GT(racks, 0u);
  KS_ASSERT_GE(hosts, racks);
  Topology t;
  const NodeId spine = t.add_switch("spine");
  std::vector<NodeId> tors;
  for (uint32_t r = 0; r < racks; ++r) {
    const std::string rack = "rack-" + std::to_string(r);
    tors.push_back(t.add_switch("tor-" + std::to_string(r), rack));
    t.add_link(tors.back(), spine, uplink);
  }
  for (uint32_t i = 0; i < hosts; ++i) {
    const uint32_t r = i % racks;
    const NodeId h = t.add_host("host-" + std::to_string(i), "rack-" + std::to_string(r));
    t.add_link(h, tors[r], host_link);
  }
  return t;
}

// ---------------------------------------------------------------------------------------------------------
// Network: construction, routes

Network::Network(sim::Engine& engine, Topology topology, sim::Rng rng, NetworkConfig config)
    : engine_(engine), topology_(std::move(topology)), rng_(std::move(rng)), config_(config) {
  KS_ASSERT_GT(config_.chunk_bytes, 0u);
  KS_ASSERT_GT(config_.goodput_fraction, 0.0);
  KS_ASSERT_LE(config_.goodput_fraction, 1.0);
  KS_ASSERT_GT(config_.window_chunks, 0u);
  KS_ASSERT_GT(config_.mss_bytes, 0u);
  KS_ASSERT_LE(config_.rto_min, config_.rto_max);
  KS_ASSERT_LE(config_.max_consecutive_timeouts, 62u);
  // A pure ACK is a frame without payload: the per-segment overhead MSS · (1/g − 1), in whole bytes (90 for a
  // 1500 MTU with timestamps).
  ack_frame_bytes_ = std::round(static_cast<double>(config_.mss_bytes) * (1.0 / config_.goodput_fraction - 1.0));

  const auto& g = topology_.graph();
  link_dirs_.resize(2 * static_cast<size_t>(topology_.link_count()));
  for (auto [it, end] = boost::edges(g); it != end; ++it) {
    const auto& props = g[*it];
    const NodeId a{static_cast<uint32_t>(boost::source(*it, g))};
    const NodeId b{static_cast<uint32_t>(boost::target(*it, g))};
    for (uint32_t d = 0; d < 2; ++d) {
      LinkDir& dir = link_dirs_[2 * props.index + d];
      dir.from = d == 0 ? a : b;
      dir.to = d == 0 ? b : a;
      dir.bandwidth_bytes_per_s = props.spec.bandwidth_bytes_per_s;
      dir.latency = props.spec.latency;
      dir.meter = sim::UtilisationMeter(1, engine_.now());
      link_dir_by_nodes_[{dir.from.value, dir.to.value}] = 2 * props.index + d;
    }
  }
  predecessors_.resize(topology_.node_count());
  flow_by_pair_.assign(static_cast<size_t>(topology_.node_count()) * topology_.node_count() * kDenseTags, kNoFlow);
  host_counters_.resize(topology_.node_count());
}

Network::~Network() = default;

uint32_t Network::link_dir_index(NodeId from, NodeId to) const {
  const auto it = link_dir_by_nodes_.find({from.value, to.value});
  KS_ASSERT_MSG(it != link_dir_by_nodes_.end(), "no link between the two nodes");
  return it->second;
}

const std::vector<NodeId>& Network::route(NodeId src, NodeId dst) {
  KS_ASSERT_LT(src.value, topology_.node_count());
  KS_ASSERT_LT(dst.value, topology_.node_count());
  const auto key = std::make_pair(src.value, dst.value);
  if (const auto it = routes_.find(key); it != routes_.end()) return it->second;

  // One Dijkstra per source node gives the routes to every destination; both are cached because the
  // topology is frozen once the Network owns it.
  auto& pred = predecessors_[src.value];
  if (pred.empty()) {
    const auto& g = topology_.graph();
    pred.resize(topology_.node_count());
    std::vector<int64_t> dist(topology_.node_count());
    boost::dijkstra_shortest_paths(
        g, src.value,
        boost::predecessor_map(boost::make_iterator_property_map(pred.begin(), boost::get(boost::vertex_index, g)))
            .distance_map(boost::make_iterator_property_map(dist.begin(), boost::get(boost::vertex_index, g)))
            .weight_map(boost::get(&Topology::LinkProps::route_weight, g)));
  }
  std::vector<NodeId> path;
  uint32_t v = dst.value;
  // A simple path has at most node_count nodes: bounds the walk back along the predecessors.
  for (uint32_t steps = 0; steps <= topology_.node_count(); ++steps) {
    path.push_back(NodeId{v});
    if (v == src.value) break;
    KS_ASSERT_MSG(pred[v] != v, "destination unreachable from source");
    v = pred[v];
  }
  KS_ASSERT_EQ(path.back().value, src.value);
  std::reverse(path.begin(), path.end());
  return routes_.emplace(key, std::move(path)).first->second;
}

uint32_t Network::find_flow(HostId src, HostId dst, uint32_t tag) const {
  if (tag < kDenseTags)
    return flow_by_pair_[(static_cast<size_t>(src.value) * topology_.node_count() + dst.value) * kDenseTags + tag];
  const auto it = flow_by_tag_.find({src.value, dst.value, tag});
  return it == flow_by_tag_.end() ? kNoFlow : it->second;
}

uint32_t Network::flow_for(HostId src, HostId dst, uint32_t tag) {
  if (const uint32_t known = find_flow(src, dst, tag); known != kNoFlow) return known;
  const auto& path = route(src, dst);
  KS_ASSERT_GE(path.size(), 2u);
  auto flow = std::make_unique<Flow>();
  flow->src = src;
  flow->dst = dst;
  flow->tag = tag;
  if (window_policy_)
    if (const uint64_t window = window_policy_(src, dst, tag); window > 0) apply_window(*flow, window);
  if (const auto fault = path_faults_.find({src.value, dst.value}); fault != path_faults_.end())
    flow->path_fault = fault->second;
  sim::Duration one_way = sim::Duration::zero();
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    FlowHop hop;
    hop.link_dir = link_dir_index(path[i], path[i + 1]);
    one_way += link_dirs_[hop.link_dir].latency;
    flow->hops.push_back(std::move(hop));
  }
  flow->base_latency = one_way;
  // The flow's smoothed RTT is its nominal round trip; the reverse route has the same links (undirected
  // graph, symmetric weights), so it is twice the one-way latency.
  flow->srtt = one_way * 2;
  const auto index = static_cast<uint32_t>(flows_.size());
  flows_.push_back(std::move(flow));
  if (tag < kDenseTags)
    flow_by_pair_[(static_cast<size_t>(src.value) * topology_.node_count() + dst.value) * kDenseTags + tag] = index;
  else
    flow_by_tag_[{src.value, dst.value, tag}] = index;
  return index;
}

// ---------------------------------------------------------------------------------------------------------
// Sending and delivery

MessageId Network::send(HostId src, HostId dst, uint64_t bytes, sim::Callback on_delivered,
                        sim::Callback on_dropped, sim::Callback on_departed, uint32_t tag) {
  KS_ASSERT(topology_.is_host(src));
  KS_ASSERT(topology_.is_host(dst));
  KS_ASSERT_GT(bytes, 0u);
  const MessageId id{next_message_id_++};
  ++counters_.messages_sent;
  ++host_counters_[src.value].messages_sent;

  if (src == dst) {
    // Loopback never touches the NIC (the kernel short-circuits it); delivered after a fixed delay. It
    // departs at once; scheduled first, so it runs before the delivery even with a zero loopback latency.
    if (on_departed) engine_.schedule_after(sim::Duration::zero(), std::move(on_departed));
    engine_.schedule_after(config_.loopback_latency,
                           [this, dst, bytes, cb = std::move(on_delivered)]() mutable {
                             ++counters_.messages_delivered;
                             ++host_counters_[dst.value].messages_received;
                             host_counters_[dst.value].bytes_received += bytes;
                             if (cb) cb();
                           });
    return id;
  }

  const uint32_t flow_index = flow_for(src, dst, tag);
  Flow& flow = *flows_[flow_index];
  if (crosses_partition(src, dst)) {
    ++counters_.messages_dropped;
    ++host_counters_[src.value].messages_dropped;
    if (on_dropped) engine_.schedule_after(sim::Duration::zero(), std::move(on_dropped));
    engine_.trace(id.value ^ 0xd509ULL);
    return id;
  }
  KS_ASSERT_LT(flow.messages.size(), config_.max_messages_per_flow);
  flow.messages.push_back(
      Message{id, bytes, 0, std::move(on_delivered), std::move(on_dropped), std::move(on_departed)});
  refill(flow_index);
  return id;
}

void Network::set_window(HostId src, HostId dst, uint64_t bytes, uint32_t tag) {
  KS_ASSERT(topology_.is_host(src));
  KS_ASSERT(topology_.is_host(dst));
  KS_ASSERT_GT(bytes, 0u);
  if (src == dst) return;  // loopback uses no link
  Flow& flow = *flows_[flow_for(src, dst, tag)];
  KS_ASSERT_MSG(flow.messages.empty() && flow.bytes_delivered == 0, "set_window before the flow's first message");
  apply_window(flow, bytes);
}

void Network::apply_window(Flow& flow, uint64_t bytes) {
  flow.window_bytes = bytes;
  flow.window_chunk_bytes = static_cast<uint32_t>(
      std::min<uint64_t>(config_.chunk_bytes, std::max<uint64_t>(config_.mss_bytes, bytes / 4)));
}

std::vector<Network::WindowFullTime> Network::windows_full() const {
  std::vector<WindowFullTime> out;
  for (const auto& f : flows_) {
    const sim::Duration full =
        f->window_full_total + (f->window_full ? engine_.now() - f->window_full_since : sim::Duration::zero());
    if (f->window_bytes > 0 && full > sim::Duration::zero())
      out.push_back({HostId{f->src.value}, HostId{f->dst.value}, f->tag, f->window_bytes, full});
  }
  return out;
}

void Network::take_acks(Flow& flow) {
  const sim::SimTime now = engine_.now();
  while (!flow.acks.empty() && flow.acks.front().first <= now) {
    KS_ASSERT_GE(flow.bytes_unacked, flow.acks.front().second);
    flow.bytes_unacked -= flow.acks.front().second;
    flow.acks.pop_front();
  }
}

void Network::refill(uint32_t flow_index) {
  Flow& flow = *flows_[flow_index];
  const bool windowed = flow.window_bytes > 0;
  if (windowed) take_acks(flow);
  else KS_ASSERT_LE(flow.chunks_in_flight, config_.window_chunks);
  KS_ASSERT_LE(flow.next_to_cut, flow.messages.size());
  // Each pass cuts one chunk and raises chunks_in_flight (or bytes_unacked by at least one byte), so the
  // window bounds the loop.
  bool window_full = false;
  while (flow.next_to_cut < flow.messages.size()) {
    if (!windowed && flow.chunks_in_flight >= config_.window_chunks) break;
    Message& m = flow.messages[flow.next_to_cut];
    const uint64_t left = m.bytes - m.bytes_cut;
    KS_ASSERT_GT(left, 0u);
    auto cut = static_cast<uint32_t>(std::min<uint64_t>(left, windowed ? flow.window_chunk_bytes : config_.chunk_bytes));
    // TCP send window: what is left of it is sent (a message's tail chunk leaves room that the next message's
    // bytes fill, as TCP's byte stream does), unless that is under one segment; then the flow waits for
    // acknowledgements, and the first one due wakes it (a chunk still on the wire wakes it on delivery).
    if (windowed && flow.bytes_unacked + cut > flow.window_bytes) {
      const uint64_t room = flow.window_bytes - std::min(flow.window_bytes, flow.bytes_unacked);
      if (room >= config_.mss_bytes) cut = static_cast<uint32_t>(room);
    }
    if (windowed && flow.bytes_unacked > 0 && flow.bytes_unacked + cut > flow.window_bytes) {
      window_full = true;
      if (!flow.acks.empty() && !flow.ack_wakeup_armed) {
        flow.ack_wakeup_armed = true;
        engine_.schedule_at(flow.acks.front().first, [this, flow_index] {
          flows_[flow_index]->ack_wakeup_armed = false;
          refill(flow_index);
        });
      }
      break;
    }
    // Receiver flow control: the receive window is closed while the reader holds a full buffer.
    if (flow.receive_buffer_bytes > 0 && flow.unread_bytes > 0 &&
        flow.unread_bytes + cut > flow.receive_buffer_bytes) {
      break;
    }
    m.bytes_cut += cut;
    if (m.bytes_cut == m.bytes) ++flow.next_to_cut;
    ++flow.chunks_in_flight;
    if (windowed) flow.bytes_unacked += cut;
    enqueue(flow_index, 0, Chunk{m.id.value, cut, engine_.now()});
  }
  // Whether the flow waits for its window changes only here: every acknowledgement it waits for calls refill.
  if (window_full != flow.window_full) {
    const sim::SimTime now = engine_.now();
    if (flow.window_full) flow.window_full_total += now - flow.window_full_since;
    flow.window_full = window_full;
    flow.window_full_since = now;
  }
}


void Network::enqueue(uint32_t flow_index, uint32_t hop, Chunk chunk) {
  Flow& flow = *flows_[flow_index];
  KS_ASSERT_LT(hop, flow.hops.size());
  FlowHop& fh = flow.hops[hop];
  fh.queue.push_back(chunk);
  if (flow.window_bytes == 0) KS_ASSERT_LE(fh.queue.size(), config_.window_chunks);
  LinkDir& dir = link_dirs_[fh.link_dir];
  if (!fh.in_ring) {
    fh.in_ring = true;
    fh.turn_started = false;
    fh.deficit_bytes = 0;
    dir.ring.push_back(RingEntry{flow_index, hop});
  }
  start_next(fh.link_dir);
}

// Deficit Round Robin (Shreedhar & Varghese) with quantum = chunk_bytes, one chunk in service at a time
// (§4.3). A flow starting its turn gains one quantum and sends chunks while its head fits the deficit.
void Network::start_next(uint32_t link_dir) {
  LinkDir& dir = link_dirs_[link_dir];
  if (dir.busy || dir.ring.empty()) return;
  // Every chunk is at most one quantum, so the first flow that starts a fresh turn can always send: at most
  // one flow (the one whose turn was running) is rotated away before a chunk is served.
  for (size_t attempt = 0; attempt < 2; ++attempt) {
    const RingEntry entry = dir.ring.front();
    FlowHop& fh = flows_[entry.flow]->hops[entry.hop];
    KS_ASSERT(fh.in_ring);
    KS_ASSERT(!fh.queue.empty());
    if (!fh.turn_started) {
      fh.turn_started = true;
      fh.deficit_bytes += config_.chunk_bytes;
    }
    const Chunk chunk = fh.queue.front();
    if (chunk.bytes > fh.deficit_bytes) {
      fh.turn_started = false;
      dir.ring.pop_front();
      dir.ring.push_back(entry);
      continue;
    }
    fh.deficit_bytes -= chunk.bytes;
    fh.queue.pop_front();
    if (fh.queue.empty()) {
      // DRR: an emptied queue leaves the ring and forfeits its deficit.
      fh.in_ring = false;
      fh.turn_started = false;
      fh.deficit_bytes = 0;
      dir.ring.pop_front();
    } else if (fh.queue.front().bytes > fh.deficit_bytes) {
      fh.turn_started = false;
      dir.ring.pop_front();
      dir.ring.push_back(entry);
    }
    dir.busy = true;
    dir.meter.set_busy(engine_.now(), 1);
    serve(link_dir, entry, chunk);
    return;
  }
  KS_ASSERT_MSG(false, "DRR found no chunk to serve");
}

sim::Duration Network::serialisation(const LinkDir& dir, uint32_t bytes) const {
  const double goodput_bytes_per_s = dir.bandwidth_bytes_per_s * config_.goodput_fraction * dir.fault.rate_multiplier;
  return sim::Duration::from_seconds_ceil(static_cast<double>(bytes) / goodput_bytes_per_s);
}

void Network::send_acks(const Flow& flow, uint32_t bytes) {
  if (config_.segments_per_ack == 0) return;
  // Every second full-sized segment is acknowledged at once; what is left over waits for the delayed-ACK timer
  // and rides on the receiver's next data on the connection (a request, a response), costing no frame of its own.
  const uint64_t acks = bytes / config_.mss_bytes / config_.segments_per_ack;
  if (acks == 0) return;
  const double wire_bytes = static_cast<double>(acks) * ack_frame_bytes_;
  const sim::SimTime now = engine_.now();
  for (const FlowHop& h : flow.hops) {
    LinkDir& back = link_dirs_[h.link_dir ^ 1u];
    const sim::Duration t =
        sim::Duration::from_seconds_ceil(wire_bytes / (back.bandwidth_bytes_per_s * back.fault.rate_multiplier));
    if (back.busy) back.ack_backlog += t;
    else back.acks_idle_until = sim::max(back.acks_idle_until, now) + t;
  }
}

sim::Duration Network::jitter(sim::Duration jitter_max) {
  if (jitter_max <= sim::Duration::zero()) return sim::Duration::zero();
  return sim::Duration::from_ns(rng_.uniform_int(0, jitter_max.ns()));
}

uint32_t Network::draw_timeouts(LinkDir& dir, uint32_t bytes) {
  if (dir.forced_timeouts > 0) {
    const uint32_t k = std::min(dir.forced_timeouts, config_.max_consecutive_timeouts);
    dir.forced_timeouts = 0;
    return k;
  }
  const double p = dir.fault.loss_per_packet;
  if (p <= 0.0) return 0;
  // §4.4: a chunk of k packets sees at least one loss with probability 1 − (1 − p)^k; the retransmitted
  // packet is then lost again with probability p each time.
  const uint32_t packets = (bytes + config_.mss_bytes - 1) / config_.mss_bytes;
  const double p_chunk = 1.0 - std::pow(1.0 - p, static_cast<double>(packets));
  if (!rng_.bernoulli(p_chunk)) return 0;
  uint32_t k = 1;
  while (k < config_.max_consecutive_timeouts && rng_.bernoulli(p)) ++k;
  return k;
}

sim::Duration Network::retransmission_delay(sim::Duration srtt, uint32_t consecutive_timeouts,
                                            const NetworkConfig& config) {
  KS_ASSERT_GE(srtt.ns(), 0);
  KS_ASSERT_LE(consecutive_timeouts, 62u);
  // Linux: RTO = SRTT + max(4·RTTVAR, TCP_RTO_MIN) (§4.4), with RTTVAR = SRTT/2 as after RFC 6298's first
  // sample; each consecutive timeout doubles it up to TCP_RTO_MAX.
  const sim::Duration rttvar = srtt / 2;
  sim::Duration rto = srtt + sim::max(rttvar * 4, config.rto_min);
  sim::Duration total = sim::Duration::zero();
  for (uint32_t i = 0; i < consecutive_timeouts; ++i) {
    total += sim::min(rto, config.rto_max);
    if (rto < config.rto_max) rto = rto * 2;
  }
  return total;
}

// Serves `chunk` on `link_dir` from now. Forwarding is at frame granularity (hardware-models.md §4.2: store-and-
// forward adds one frame per hop, not one chunk): the first frame reaches the next node one frame time plus
// the link delay after the service starts, and the next hop may start the chunk from then, but its last
// frame leaves no earlier than one frame time after the chunk's tail has arrived. So the service here ends
// at max(now + s(chunk), tail + s(frame)). The next hop's start is put off to tail + s'(frame) − s'(chunk)
// when that is later (a faster next link), so that it is not held waiting for the tail.
void Network::serve(uint32_t link_dir, RingEntry entry, Chunk chunk) {
  LinkDir& dir = link_dirs_[link_dir];
  Flow& flow = *flows_[entry.flow];
  // ACKs still going out on this direction go first (see "ACK traffic"): the chunk starts after them.
  const sim::SimTime now = sim::max(engine_.now(), dir.acks_idle_until);
  const uint32_t frame_bytes = std::min(chunk.bytes, config_.mss_bytes);
  const sim::SimTime finish =
      sim::max(now + serialisation(dir, chunk.bytes), chunk.tail_at + serialisation(dir, frame_bytes));
  engine_.schedule_at(finish, [this, link_dir, entry, chunk] { on_serialised(link_dir, entry, chunk); });

  sim::Duration delay = dir.latency + dir.fault.extra_latency + jitter(dir.fault.jitter_max);
  const uint32_t timeouts = draw_timeouts(dir, chunk.bytes);
  if (timeouts > 0) {
    ++dir.counters.chunk_losses;
    dir.counters.retransmission_timeouts += timeouts;
    counters_.retransmission_timeouts += timeouts;
    delay += retransmission_delay(flow.srtt, timeouts, config_);
  }
  const bool last_hop = entry.hop + 1 == flow.hops.size();
  if (last_hop) delay += flow.path_fault.extra_latency + jitter(flow.path_fault.jitter_max);

  // Chunks of a flow arrive in the order they left: jitter or a retransmission delay holds back the later
  // chunks instead of letting them overtake (TCP's in-order delivery).
  FlowHop& fh = flow.hops[entry.hop];
  const sim::SimTime tail = sim::max(finish + delay, fh.last_tail);
  sim::SimTime head = sim::max(now + serialisation(dir, frame_bytes) + delay, fh.last_head);
  const uint32_t flow_index = entry.flow;
  const uint32_t next_hop = entry.hop + 1;
  Chunk next = chunk;
  next.tail_at = tail;
  if (last_hop) {
    head = tail;  // delivered to the application when its last byte is there
  } else {
    const LinkDir& next_dir = link_dirs_[flow.hops[next_hop].link_dir];
    const sim::Duration next_frame = serialisation(next_dir, frame_bytes);
    const sim::Duration next_chunk = serialisation(next_dir, chunk.bytes);
    if (tail + next_frame - next_chunk > head) head = tail + next_frame - next_chunk;
  }
  KS_ASSERT_LE(head, tail);
  fh.last_head = head;
  fh.last_tail = tail;
  engine_.schedule_at(head, [this, flow_index, next_hop, next] { on_arrival(flow_index, next_hop, next); });
}

void Network::on_serialised(uint32_t link_dir, RingEntry entry, Chunk chunk) {
  LinkDir& dir = link_dirs_[link_dir];
  KS_ASSERT(dir.busy);
  Flow& flow = *flows_[entry.flow];
  KS_ASSERT_LT(entry.hop, flow.hops.size());
  dir.busy = false;
  dir.meter.set_busy(engine_.now(), 0);
  // The ACKs that came while the chunk was serialising go out now, before the next chunk.
  if (dir.ack_backlog > sim::Duration::zero()) {
    dir.acks_idle_until = sim::max(dir.acks_idle_until, engine_.now()) + dir.ack_backlog;
    dir.ack_backlog = sim::Duration::zero();
  }
  dir.counters.bytes += chunk.bytes;
  ++dir.counters.chunks;
  if (entry.hop == 0) host_counters_[flow.src.value].bytes_sent += chunk.bytes;
  const uint32_t flow_index = entry.flow;
  start_next(link_dir);
  // The first hop serialises a flow's chunks in the order they were cut, so every chunk leaving it belongs to the
  // first message not yet departed, which departs with its last byte. The callback runs last: it may send() on
  // this flow.
  if (entry.hop == 0) {
    Flow& f = *flows_[flow_index];
    KS_ASSERT_LE(f.next_to_depart, f.next_to_cut);
    KS_ASSERT_LT(f.next_to_depart, f.messages.size());
    Message& m = f.messages[f.next_to_depart];
    KS_ASSERT_EQ(m.id.value, chunk.message);
    m.bytes_departed += chunk.bytes;
    KS_ASSERT_LE(m.bytes_departed, m.bytes_cut);
    if (m.bytes_departed == m.bytes) {
      KS_ASSERT_LT(f.next_to_depart, f.next_to_cut);
      sim::Callback departed = std::move(m.on_departed);
      ++f.next_to_depart;
      if (departed) departed();
    }
  }
}

void Network::on_arrival(uint32_t flow_index, uint32_t hop, Chunk chunk) {
  Flow& flow = *flows_[flow_index];
  KS_ASSERT_LE(hop, flow.hops.size());
  if (hop < flow.hops.size()) {
    enqueue(flow_index, hop, chunk);
    return;
  }
  KS_ASSERT_GT(flow.chunks_in_flight, 0u);
  --flow.chunks_in_flight;
  // A windowed flow's chunk is acknowledged when the ACK is back at the sender: one return-path latency later.
  if (flow.window_bytes > 0) {
    // The return route has the same links, the other direction of each (2·link + d), and the pair's path fault.
    sim::Duration back = flow.base_latency;
    for (const FlowHop& h : flow.hops) back += link_dirs_[h.link_dir ^ 1u].fault.extra_latency;
    if (!path_faults_.empty())
      if (const auto f = path_faults_.find({flow.dst.value, flow.src.value}); f != path_faults_.end())
        back += f->second.extra_latency;
    flow.acks.emplace_back(engine_.now() + back, chunk.bytes);
    send_acks(flow, chunk.bytes);
  }
  flow.bytes_delivered += chunk.bytes;
  KS_ASSERT_GE(engine_.now(), flow.last_delivery);
  flow.last_delivery = engine_.now();
  // Chunks arrive in the order they were cut: this one belongs to the oldest message not yet delivered.
  KS_ASSERT(!flow.messages.empty());
  Message& front = flow.messages.front();
  KS_ASSERT_EQ(front.id.value, chunk.message);
  front.bytes_arrived += chunk.bytes;
  KS_ASSERT_LE(front.bytes_arrived, front.bytes_departed);
  if (front.bytes_arrived == front.bytes) deliver_front(flow_index);
  refill(flow_index);
}

void Network::deliver_front(uint32_t flow_index) {
  Flow& flow = *flows_[flow_index];
  KS_ASSERT(!flow.messages.empty());
  KS_ASSERT_GT(flow.next_to_cut, 0u);
  // Moved out before any callback runs: a callback may send() on this flow and grow the deque.
  Message m = std::move(flow.messages.front());
  flow.messages.pop_front();
  --flow.next_to_cut;
  // Delivery needs the last chunk to have crossed every hop, the first one included.
  KS_ASSERT_GT(flow.next_to_depart, 0u);
  --flow.next_to_depart;
  KS_ASSERT_EQ(m.bytes_cut, m.bytes);
  // A cancelled message's chunks that were on the wire have arrived: it ends here, unseen (counted by cancel()).
  if (m.cancelled) return;
  engine_.trace(m.id.value);
  if (crosses_partition(flow.src, flow.dst)) {
    ++counters_.messages_dropped;
    ++host_counters_[flow.src.value].messages_dropped;
    if (m.on_dropped) m.on_dropped();
    return;
  }
  ++counters_.messages_delivered;
  ++host_counters_[flow.dst.value].messages_received;
  host_counters_[flow.dst.value].bytes_received += m.bytes;
  if (flow.receive_buffer_bytes > 0) flow.unread_bytes += m.bytes;
  if (m.on_delivered) m.on_delivered();
}

// ---------------------------------------------------------------------------------------------------------
// Cancellation (the sender closed the connection; see "Cancellation" in network.hpp)

bool Network::cancel(HostId src, HostId dst, MessageId id, uint32_t tag) {
  KS_ASSERT(topology_.is_host(src));
  KS_ASSERT(topology_.is_host(dst));
  if (src == dst) return false;  // a loopback message departs at once
  const uint32_t flow_index = find_flow(src, dst, tag);
  if (flow_index == kNoFlow) return false;
  Flow& flow = *flows_[flow_index];
  // A flow queues its messages in send order, so by increasing id.
  const auto it = std::lower_bound(flow.messages.begin(), flow.messages.end(), id,
                                   [](const Message& m, MessageId value) { return m.id < value; });
  if (it == flow.messages.end() || it->id != id) return false;  // delivered, dropped, or not of this flow
  const auto index = static_cast<size_t>(it - flow.messages.begin());
  if (index < flow.next_to_depart || it->cancelled) return false;
  Message& m = *it;
  KS_ASSERT_LT(m.bytes_departed, m.bytes);
  m.cancelled = true;
  m.on_delivered = nullptr;
  m.on_dropped = nullptr;
  m.on_departed = nullptr;
  ++counters_.messages_cancelled;
  engine_.trace(id.value ^ 0xca9ce1ULL);

  // Its chunks still queued at the first hop never leave; what was cut of it and is not queued is on the wire.
  const bool fully_cut = index < flow.next_to_cut;
  const auto [bytes_unqueued, chunks_unqueued] = unqueue_first_hop(flow_index, id.value);
  KS_ASSERT_LE(chunks_unqueued, flow.chunks_in_flight);
  KS_ASSERT_LE(bytes_unqueued, m.bytes_cut);
  flow.chunks_in_flight -= chunks_unqueued;
  if (flow.window_bytes > 0) {
    KS_ASSERT_LE(bytes_unqueued, flow.bytes_unacked);
    flow.bytes_unacked -= bytes_unqueued;  // never sent: nothing to acknowledge
  }
  m.bytes_cut -= bytes_unqueued;
  m.bytes = m.bytes_cut;
  if (m.bytes == 0) {
    // Nothing of it left the host: it is gone. Later messages move up one place.
    flow.messages.erase(it);
    if (fully_cut) --flow.next_to_cut;
  } else {
    // It ends with its last chunk on the wire; the chunks still to cross the first hop or to arrive close it
    // out (on_serialised, on_arrival), unless they already have.
    if (!fully_cut) ++flow.next_to_cut;
    KS_ASSERT_LE(m.bytes_departed, m.bytes);
    if (m.bytes_departed == m.bytes) {
      KS_ASSERT_EQ(index, flow.next_to_depart);
      ++flow.next_to_depart;
      KS_ASSERT_LE(m.bytes_arrived, m.bytes);
      if (index == 0 && m.bytes_arrived == m.bytes) deliver_front(flow_index);
    }
  }
  KS_ASSERT_LE(flow.next_to_depart, flow.next_to_cut);
  KS_ASSERT_LE(flow.next_to_cut, flow.messages.size());
  // The window has room for the chunks taken out: later messages go on.
  refill(flow_index);
  return true;
}

std::pair<uint64_t, uint32_t> Network::unqueue_first_hop(uint32_t flow_index, uint64_t id) {
  FlowHop& fh = flows_[flow_index]->hops.front();
  uint64_t bytes = 0;
  uint32_t chunks = 0;
  for (auto q = fh.queue.begin(); q != fh.queue.end();) {
    if (q->message != id) {
      ++q;
      continue;
    }
    bytes += q->bytes;
    ++chunks;
    q = fh.queue.erase(q);
  }
  if (fh.queue.empty() && fh.in_ring) {
    // An emptied queue leaves the DRR ring and forfeits its deficit, as in start_next.
    LinkDir& dir = link_dirs_[fh.link_dir];
    const auto entry = std::find_if(dir.ring.begin(), dir.ring.end(), [flow_index](const RingEntry& e) {
      return e.flow == flow_index && e.hop == 0;
    });
    KS_ASSERT(entry != dir.ring.end());
    dir.ring.erase(entry);
    fh.in_ring = false;
    fh.turn_started = false;
    fh.deficit_bytes = 0;
  }
  return {bytes, chunks};
}

// ---------------------------------------------------------------------------------------------------------
// Receiver flow control

void Network::set_receive_buffer(HostId src, HostId dst, uint64_t bytes, uint32_t tag) {
  KS_ASSERT(topology_.is_host(src));
  KS_ASSERT(topology_.is_host(dst));
  KS_ASSERT_NE(src.value, dst.value);
  KS_ASSERT_GT(bytes, 0u);
  const uint32_t flow_index = flow_for(src, dst, tag);
  flows_[flow_index]->receive_buffer_bytes = bytes;
  refill(flow_index);
}

void Network::consume(HostId src, HostId dst, uint64_t bytes, uint32_t tag) {
  const uint32_t flow_index = find_flow(src, dst, tag);
  KS_ASSERT_MSG(flow_index != kNoFlow, "consume() on a flow that never carried a message");
  Flow& flow = *flows_[flow_index];
  KS_ASSERT_GT(flow.receive_buffer_bytes, 0u);
  KS_ASSERT_LE(bytes, flow.unread_bytes);
  flow.unread_bytes -= bytes;
  refill(flow_index);
}

uint64_t Network::unread_bytes(HostId src, HostId dst, uint32_t tag) const {
  const uint32_t flow_index = find_flow(src, dst, tag);
  return flow_index == kNoFlow ? 0 : flows_[flow_index]->unread_bytes;
}

// ---------------------------------------------------------------------------------------------------------
// Faults

bool Network::crosses_partition(NodeId src, NodeId dst) {
  return !partitions_.empty() && route_crosses_partition(route(src, dst));
}

bool Network::route_crosses_partition(const std::vector<NodeId>& path) const {
  KS_ASSERT(!path.empty());
  for (const auto& [id, p] : partitions_) {
    // A route crosses A→B when some node of A comes before some node of B along it.
    bool seen_a = false;
    bool seen_b = false;
    for (const NodeId n : path) {
      if (seen_a && p.in_b[n.value]) return true;
      if (p.kind == PartitionKind::kSymmetric && seen_b && p.in_a[n.value]) return true;
      seen_a = seen_a || p.in_a[n.value];
      seen_b = seen_b || p.in_b[n.value];
    }
  }
  return false;
}

PartitionId Network::partition(const std::vector<NodeId>& side_a, const std::vector<NodeId>& side_b,
                               PartitionKind kind) {
  KS_ASSERT(!side_a.empty());
  KS_ASSERT(!side_b.empty());
  Partition p;
  p.kind = kind;
  p.in_a.assign(topology_.node_count(), false);
  p.in_b.assign(topology_.node_count(), false);
  for (const NodeId n : side_a) {
    KS_ASSERT_LT(n.value, topology_.node_count());
    p.in_a[n.value] = true;
  }
  for (const NodeId n : side_b) {
    KS_ASSERT_LT(n.value, topology_.node_count());
    KS_ASSERT_MSG(!p.in_a[n.value], "a node cannot be on both sides of a partition");
    p.in_b[n.value] = true;
  }
  const PartitionId id{next_partition_id_++};
  partitions_.emplace(id.value, std::move(p));
  return id;
}

void Network::heal(PartitionId id) {
  const auto erased = partitions_.erase(id.value);
  KS_ASSERT_EQ(erased, 1u);
}

void Network::heal_all() { partitions_.clear(); }

bool Network::is_partitioned(NodeId src, NodeId dst) {
  if (src == dst) return false;
  return route_crosses_partition(route(src, dst));
}

void Network::set_link_fault(NodeId from, NodeId to, const LinkFault& fault) {
  KS_ASSERT_GT(fault.rate_multiplier, 0.0);
  KS_ASSERT_LE(fault.rate_multiplier, 1.0);
  KS_ASSERT_GE(fault.extra_latency.ns(), 0);
  KS_ASSERT_GE(fault.jitter_max.ns(), 0);
  KS_ASSERT_GE(fault.loss_per_packet, 0.0);
  KS_ASSERT_LT(fault.loss_per_packet, 1.0);
  link_dirs_[link_dir_index(from, to)].fault = fault;
}

void Network::set_host_fault(HostId host, const LinkFault& fault) {
  KS_ASSERT(topology_.is_host(host));
  const auto& g = topology_.graph();
  for (auto [it, end] = boost::adjacent_vertices(host.value, g); it != end; ++it) {
    const NodeId peer{static_cast<uint32_t>(*it)};
    set_link_fault(host, peer, fault);
    set_link_fault(peer, host, fault);
  }
}

void Network::set_path_fault(HostId src, HostId dst, const PathFault& fault) {
  KS_ASSERT_NE(src.value, dst.value);
  KS_ASSERT_GE(fault.extra_latency.ns(), 0);
  KS_ASSERT_GE(fault.jitter_max.ns(), 0);
  // Every flow of the pair, present and future (flow_for copies it), gets the fault.
  path_faults_[{src.value, dst.value}] = fault;
  for (auto& flow : flows_)
    if (flow->src == src && flow->dst == dst) flow->path_fault = fault;
}

void Network::inject_chunk_loss(NodeId from, NodeId to, uint32_t consecutive_timeouts) {
  KS_ASSERT_GT(consecutive_timeouts, 0u);
  link_dirs_[link_dir_index(from, to)].forced_timeouts = consecutive_timeouts;
}

// ---------------------------------------------------------------------------------------------------------
// Accounting

const HostCounters& Network::host_counters(HostId host) const {
  KS_ASSERT(topology_.is_host(host));
  return host_counters_[host.value];
}

const LinkCounters& Network::link_counters(NodeId from, NodeId to) const {
  return link_dirs_[link_dir_index(from, to)].counters;
}

double Network::link_utilisation(NodeId from, NodeId to) const {
  return link_dirs_[link_dir_index(from, to)].meter.utilisation(engine_.now());
}

const sim::UtilisationMeter& Network::link_meter(NodeId from, NodeId to) const {
  return link_dirs_[link_dir_index(from, to)].meter;
}

uint64_t Network::flow_bytes_delivered(HostId src, HostId dst, uint32_t tag) const {
  const uint32_t flow_index = find_flow(src, dst, tag);
  return flow_index == kNoFlow ? 0 : flows_[flow_index]->bytes_delivered;
}

}  // namespace kafkasim::models
