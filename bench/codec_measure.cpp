// codec_measure: what Kafka's compression codecs do to a representative record batch, measured with the Debian
// codec libraries (zlib for gzip, libsnappy, liblz4, libzstd), to fill the "codecs" section of the CPU profiles
// (scenarios/hardware/README.md).
//
// What it measures, per codec at Kafka 4.x's default level (kafka-behaviour.md §1.8, hardware-models.md §5.2):
//   ratio curve      compressed bytes (with the codec's framing as Kafka writes it) / uncompressed record bytes,
//                    the quantity RecordAccumulator::set_compression takes (kafka::CompressionCurve), as a
//                    function of the batch's size: a bigger batch compresses better, its records sharing field
//                    names and values. One
//                    point per batch of exactly n records, n = 1, 2, 4, ..., 1024; a point is [mean uncompressed
//                    records bytes, rounded; total compressed / total uncompressed bytes of its batches, to 4
//                    decimals]. 64 distinct batches a point up to 128 records, 16 from 256 records on (enough
//                    at that size, and the slowest levels, zstd 20-22, pay per byte). The simulator interpolates
//                    the compressed size (bytes x ratio) linearly between points, so the tool checks that it
//                    strictly increases along the curve;
//   compress speed   uncompressed bytes per second of one core, including the per-batch stream set-up that
//                    Kafka pays for every batch (it opens a new compression stream per batch);
//   decompress speed uncompressed bytes per second of one core, likewise with a fresh stream per batch.
// Time is the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so time spent descheduled on a busy machine does not
// count, and speeds are the best of many short rounds, the codecs interleaved (the round least disturbed by other
// work sharing the caches and memory bus): single-core figures of an otherwise idle core.
//
// How each codec is driven, mirroring Kafka's wrappers (clients/.../common/compress/):
//   gzip    zlib deflate, gzip wrapper (windowBits 15+16), level -1 = Z_DEFAULT_COMPRESSION (6), memLevel 8,
//           default strategy: java.util.zip.GZIPOutputStream over the JDK's zlib with compression.gzip.level=-1;
//   snappy  snappy::RawCompress per 32 KiB block plus snappy-java's framing (16-byte stream header, 4-byte
//           length per block): SnappyOutputStream's default block size;
//   lz4     LZ4_compress_default per 64 KiB block plus Kafka's LZ4 frame (7-byte header, 4-byte length per
//           block, 4-byte end mark): compression.lz4.level=9 is lz4-java's fast compressor, which is
//           LZ4_compress_default (Lz4BlockOutputStream);
//   zstd    streaming ZSTD_compressStream2 at level 3 (compression.zstd.level) with the content size unknown,
//           as zstd-jni's ZstdOutputStream compresses; a new context per batch.
// With --levels it measures the other levels of KIP-390 instead, curve and speeds for each (the profile's
// "codec_levels" section): gzip 1-9
// (deflate at that level; -1 is 6, the default), lz4 1-17 except 9 (lz4-java's high compressor at that level,
// LZ4_compress_HC per 64 KiB block; liblz4 caps HC levels at 12, so 13-17 compress as 12 does), zstd -5..-1 and
// 1..22 except 3 (the default; 0 means it too).
// Not measured: the JNI crossing and Java stream copies around the native codecs, and Kafka's record
// serialisation, which happens with or without compression.
//
// Payloads (deterministic, from a seeded sim::Rng stream):
//   json    synthetic click-stream events of a few hundred bytes each: JSON objects with the same field names
//           in every record, enumerated values drawn with skew (event types, countries, user agents, pages),
//           and high-entropy fields (event ids, session ids, IP addresses, timestamps, amounts);
//   random  uniformly random bytes of the same record sizes: incompressible, the bound.
// Records are framed as Kafka's v2 records (length, attributes, timestamp and offset deltas, null key, value,
// no headers). The speeds (and the table's single "ratio" column) use the batch Kafka's producer fills with
// batch.size = 16384: with compression the producer fills a batch until 61 + uncompressed x ratio x 1.05 + next
// record > batch.size (MemoryRecordsBuilder.hasRoomFor with the estimate converged to the ratio), so the
// uncompressed batch size depends on the ratio; it is found by fixed-point iteration. The curve's batches are the
// same for every codec and level: each point draws its own stream, past the first 300 events (the session pool
// filling up), so a point's records look like those of a producer that has been running for a while.
//
// Real timing is fine here: this is a measurement tool, not a simulation.
#include <CLI/CLI.hpp>
#include <lz4.h>
#include <lz4hc.h>
#include <snappy-stubs-public.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <time.h>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kafkasim/kafka/producer/record_batch.hpp"
#include "kafkasim/sim/rng.hpp"

namespace {

using kafkasim::kafka::CompressionType;
using kafkasim::sim::Rng;
using Bytes = std::vector<uint8_t>;

// ------------------------------------------------------------------------------------------------
// Codecs, as Kafka drives them.

constexpr size_t kSnappyBlockBytes = 32 * 1024;   // SnappyOutputStream default block size
constexpr size_t kSnappyStreamHeaderBytes = 16;   // snappy-java SnappyCodec header
constexpr size_t kLz4BlockBytes = 64 * 1024;      // Lz4BlockOutputStream BLOCKSIZE_64KB
constexpr size_t kLz4FrameHeaderBytes = 7;        // magic 4, FLG, BD, header checksum
constexpr int kZstdLevel = 3;                     // compression.zstd.level default
constexpr int kGzipLevel = -1;                    // compression.gzip.level default: Z_DEFAULT_COMPRESSION (6)
constexpr int kLz4Level = 9;                      // compression.lz4.level default: lz4-java's fast compressor

struct Codec {
  const char* name;
  CompressionType type;
};
constexpr std::array<Codec, 4> kCodecs = {{{"gzip", CompressionType::gzip},
                                           {"snappy", CompressionType::snappy},
                                           {"lz4", CompressionType::lz4},
                                           {"zstd", CompressionType::zstd}}};

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

void put_u32_le(Bytes& out, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t get_u32_le(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}

// Compresses `in` into `out` (resized to the compressed length) at Kafka's `level` of the codec. A zstd context in
// `zstd_reuse` is reset and used instead of a new one: the same bytes come out, but a reused context skips
// clearing its match tables, hundreds of MB at the highest levels, which is most of their cost on a small batch.
// Only ratio measurements reuse; the timings pay for a new context per batch, as Kafka does.
void compress(CompressionType codec, int level, const Bytes& in, Bytes& out, ZSTD_CCtx* zstd_reuse = nullptr) {
  switch (codec) {
    case CompressionType::gzip: {
      z_stream z{};
      if (deflateInit2(&z, level == -1 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
          Z_OK)
        fail("deflateInit2");
      out.resize(deflateBound(&z, static_cast<uLong>(in.size())) + 32);
      z.next_in = const_cast<Bytes::value_type*>(in.data());
      z.avail_in = static_cast<uInt>(in.size());
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      if (deflate(&z, Z_FINISH) != Z_STREAM_END) fail("deflate did not finish");
      out.resize(z.total_out);
      deflateEnd(&z);
      return;
    }
    case CompressionType::snappy: {
      const size_t blocks = (in.size() + kSnappyBlockBytes - 1) / kSnappyBlockBytes;
      out.resize(kSnappyStreamHeaderBytes + blocks * 4 + snappy::MaxCompressedLength(kSnappyBlockBytes) * blocks);
      size_t pos = kSnappyStreamHeaderBytes;
      for (size_t off = 0; off < in.size(); off += kSnappyBlockBytes) {
        const size_t n = std::min(kSnappyBlockBytes, in.size() - off);
        size_t written = 0;
        snappy::RawCompress(reinterpret_cast<const char*>(in.data() + off), n,
                            reinterpret_cast<char*>(out.data() + pos + 4), &written);
        put_u32_le(out, pos, static_cast<uint32_t>(written));  // snappy-java writes it big-endian; size is what counts
        pos += 4 + written;
      }
      out.resize(pos);
      return;
    }
    case CompressionType::lz4: {
      const size_t blocks = (in.size() + kLz4BlockBytes - 1) / kLz4BlockBytes;
      out.resize(kLz4FrameHeaderBytes + blocks * 4 +
                 static_cast<size_t>(LZ4_compressBound(static_cast<int>(kLz4BlockBytes))) * blocks + 4);
      size_t pos = kLz4FrameHeaderBytes;
      for (size_t off = 0; off < in.size(); off += kLz4BlockBytes) {
        const size_t n = std::min(kLz4BlockBytes, in.size() - off);
        // Lz4BlockOutputStream: the fast compressor at the default level, the high compressor at any other.
        const int c = level == kLz4Level
                          ? LZ4_compress_default(reinterpret_cast<const char*>(in.data() + off),
                                                 reinterpret_cast<char*>(out.data() + pos + 4), static_cast<int>(n),
                                                 LZ4_compressBound(static_cast<int>(n)))
                          : LZ4_compress_HC(reinterpret_cast<const char*>(in.data() + off),
                                            reinterpret_cast<char*>(out.data() + pos + 4), static_cast<int>(n),
                                            LZ4_compressBound(static_cast<int>(n)), level);
        if (c <= 0) fail("LZ4_compress");
        // Lz4BlockOutputStream stores a block uncompressed when compression does not shrink it (high bit set).
        if (static_cast<size_t>(c) >= n) {
          std::memcpy(out.data() + pos + 4, in.data() + off, n);
          put_u32_le(out, pos, static_cast<uint32_t>(n) | 0x80000000u);
          pos += 4 + n;
        } else {
          put_u32_le(out, pos, static_cast<uint32_t>(c));
          pos += 4 + static_cast<size_t>(c);
        }
      }
      put_u32_le(out, pos, 0);  // end mark
      out.resize(pos + 4);
      return;
    }
    case CompressionType::zstd: {
      ZSTD_CCtx* ctx = zstd_reuse;
      if (ctx != nullptr) ZSTD_CCtx_reset(ctx, ZSTD_reset_session_and_parameters);
      else ctx = ZSTD_createCCtx();
      if (ctx == nullptr) fail("ZSTD_createCCtx");
      ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, level);
      out.resize(ZSTD_compressBound(in.size()) + 64);
      ZSTD_outBuffer ob{out.data(), out.size(), 0};
      ZSTD_inBuffer ib{in.data(), in.size(), 0};
      // Stream the data in, then finish: the frame's content size stays unknown, as with zstd-jni's stream.
      while (ib.pos < ib.size)
        if (ZSTD_isError(ZSTD_compressStream2(ctx, &ob, &ib, ZSTD_e_continue))) fail("ZSTD_compressStream2");
      ZSTD_inBuffer empty{nullptr, 0, 0};
      size_t remaining = 1;
      while (remaining != 0) {
        remaining = ZSTD_compressStream2(ctx, &ob, &empty, ZSTD_e_end);
        if (ZSTD_isError(remaining)) fail("ZSTD_compressStream2 end");
      }
      out.resize(ob.pos);
      if (ctx != zstd_reuse) ZSTD_freeCCtx(ctx);
      return;
    }
    case CompressionType::none:
      break;
  }
  fail("no codec");
}

// Decompresses `in` into `out`, whose size is the known uncompressed size.
void decompress(CompressionType codec, const Bytes& in, Bytes& out) {
  switch (codec) {
    case CompressionType::gzip: {
      z_stream z{};
      if (inflateInit2(&z, 15 + 16) != Z_OK) fail("inflateInit2");
      z.next_in = const_cast<Bytes::value_type*>(in.data());
      z.avail_in = static_cast<uInt>(in.size());
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      if (inflate(&z, Z_FINISH) != Z_STREAM_END || z.total_out != out.size()) fail("inflate");
      inflateEnd(&z);
      return;
    }
    case CompressionType::snappy: {
      size_t pos = kSnappyStreamHeaderBytes, at = 0;
      while (pos < in.size()) {
        const size_t n = get_u32_le(in.data() + pos);
        size_t len = 0;
        if (!snappy::GetUncompressedLength(reinterpret_cast<const char*>(in.data() + pos + 4), n, &len) ||
            at + len > out.size() ||
            !snappy::RawUncompress(reinterpret_cast<const char*>(in.data() + pos + 4), n,
                                   reinterpret_cast<char*>(out.data() + at)))
          fail("snappy::RawUncompress");
        at += len;
        pos += 4 + n;
      }
      if (at != out.size()) fail("snappy length");
      return;
    }
    case CompressionType::lz4: {
      size_t pos = kLz4FrameHeaderBytes, at = 0;
      for (;;) {
        const uint32_t word = get_u32_le(in.data() + pos);
        pos += 4;
        if (word == 0) break;
        const size_t n = word & 0x7fffffffu;
        if ((word & 0x80000000u) != 0) {
          std::memcpy(out.data() + at, in.data() + pos, n);
          at += n;
        } else {
          const int d = LZ4_decompress_safe(reinterpret_cast<const char*>(in.data() + pos),
                                            reinterpret_cast<char*>(out.data() + at), static_cast<int>(n),
                                            static_cast<int>(std::min(kLz4BlockBytes, out.size() - at)));
          if (d < 0) fail("LZ4_decompress_safe");
          at += static_cast<size_t>(d);
        }
        pos += n;
      }
      if (at != out.size()) fail("lz4 length");
      return;
    }
    case CompressionType::zstd: {
      ZSTD_DCtx* ctx = ZSTD_createDCtx();
      if (ctx == nullptr) fail("ZSTD_createDCtx");
      ZSTD_inBuffer ib{in.data(), in.size(), 0};
      ZSTD_outBuffer ob{out.data(), out.size(), 0};
      size_t r = 1;
      while (r != 0 && (ib.pos < ib.size || ob.pos < ob.size)) {
        r = ZSTD_decompressStream(ctx, &ob, &ib);
        if (ZSTD_isError(r)) fail("ZSTD_decompressStream");
      }
      if (ob.pos != out.size()) fail("zstd length");
      ZSTD_freeDCtx(ctx);
      return;
    }
    case CompressionType::none:
      break;
  }
  fail("no codec");
}

// ------------------------------------------------------------------------------------------------
// Payloads.

enum class Payload { json, random };

// Skewed choice among `n` items: item i with weight 1/(i+1) (Zipf, exponent 1), so a few values dominate as
// event types, countries and pages do in real click streams.
size_t zipf_index(Rng& rng, size_t n) {
  std::vector<double> w(n);
  for (size_t i = 0; i < n; ++i) w[i] = 1.0 / static_cast<double>(i + 1);
  return rng.weighted_index(std::span<const double>(w));
}

std::string hex(Rng& rng, size_t chars) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(chars, '0');
  for (auto& c : s) c = kDigits[rng.uniform_u64(16)];
  return s;
}

// The state a stream of events carries between records: the clock and the active sessions.
struct EventStream {
  int64_t ts_ms = 1'718'000'000'000;
  std::vector<std::string> sessions;
};

std::string json_event(Rng& rng, EventStream& st) {
  static constexpr const char* kTypes[] = {"page_view", "click", "scroll", "search", "add_to_cart",
                                           "remove_from_cart", "begin_checkout", "purchase", "login", "logout"};
  static constexpr const char* kCountries[] = {"US", "DE", "GB", "FR", "IN", "BR", "JP", "CA", "NL", "ES",
                                               "IT", "PL", "SE", "AU", "MX", "KR", "CH", "AT", "BE", "IE"};
  static constexpr const char* kCities[] = {"New York", "Berlin", "London", "Paris", "Mumbai", "Sao Paulo",
                                            "Tokyo", "Toronto", "Amsterdam", "Madrid", "Milan", "Warsaw"};
  static constexpr const char* kAgents[] = {
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
      "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.113 Mobile Safari/537.36",
      "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
      "okhttp/4.12.0",
      "MyShopApp/3.14.2 (iOS 17.5; iPhone15,2)"};
  static constexpr const char* kDevices[] = {"mobile", "desktop", "tablet"};
  static constexpr const char* kCategories[] = {"shoes", "jackets", "electronics", "books", "garden", "toys",
                                                "kitchen", "sports", "beauty", "music", "office", "pets"};
  static constexpr const char* kReferrers[] = {"https://www.google.com/", "https://www.bing.com/", "",
                                               "https://www.facebook.com/", "https://t.co/", "https://news.ycombinator.com/"};
  static constexpr const char* kWords[] = {"red", "running", "shoes", "wireless", "headphones", "winter", "jacket",
                                           "kids", "usb", "cable", "coffee", "grinder", "yoga", "mat", "lamp"};

  st.ts_ms += static_cast<int64_t>(rng.uniform_u64(40));  // a few events per 10 ms per producer
  if (st.sessions.size() < 300 || rng.chance(1, 50)) {
    if (st.sessions.size() >= 300) st.sessions[rng.uniform_u64(st.sessions.size())] = hex(rng, 16);
    else st.sessions.push_back(hex(rng, 16));
  }
  const size_t type = zipf_index(rng, std::size(kTypes));
  const uint64_t user = rng.uniform_u64(200'000);
  std::ostringstream o;
  o << "{\"event_id\":\"" << hex(rng, 8) << '-' << hex(rng, 4) << '-' << hex(rng, 4) << '-' << hex(rng, 4) << '-'
    << hex(rng, 12) << "\",\"event_type\":\"" << kTypes[type] << "\",\"timestamp\":" << st.ts_ms
    << ",\"user_id\":\"u" << user << "\",\"session_id\":\"" << st.sessions[rng.uniform_u64(st.sessions.size())]
    << "\",\"page\":{\"url\":\"https://shop.example.com/";
  const size_t category = zipf_index(rng, std::size(kCategories));
  switch (rng.uniform_u64(3)) {
    case 0: o << "c/" << kCategories[category]; break;
    case 1: o << "p/" << kCategories[category] << '/' << rng.uniform_u64(50'000); break;
    default:
      o << "search?q=" << kWords[zipf_index(rng, std::size(kWords))] << '+' << kWords[zipf_index(rng, std::size(kWords))];
  }
  o << "\",\"referrer\":\"" << kReferrers[zipf_index(rng, std::size(kReferrers))] << "\"},\"device\":{\"type\":\""
    << kDevices[zipf_index(rng, std::size(kDevices))] << "\",\"user_agent\":\""
    << kAgents[zipf_index(rng, std::size(kAgents))] << "\",\"ip\":\"" << rng.uniform_u64(223) + 1 << '.'
    << rng.uniform_u64(256) << '.' << rng.uniform_u64(256) << '.' << rng.uniform_u64(256)
    << "\"},\"geo\":{\"country\":\"" << kCountries[zipf_index(rng, std::size(kCountries))] << "\",\"city\":\""
    << kCities[zipf_index(rng, std::size(kCities))] << "\"}";
  if (type == 4 || type == 5 || type == 7) {
    const uint64_t cents = 199 + rng.uniform_u64(30'000);
    o << ",\"item\":{\"sku\":\"SKU-" << rng.uniform_u64(1'000'000) << "\",\"quantity\":" << 1 + zipf_index(rng, 5)
      << ",\"price\":" << cents / 100 << '.' << (cents % 100 < 10 ? "0" : "") << cents % 100
      << ",\"currency\":\"" << (rng.chance(3, 4) ? "USD" : "EUR") << "\"}";
  }
  o << ",\"app_version\":\"3.14." << zipf_index(rng, 4) << "\",\"consent\":" << (rng.chance(9, 10) ? "true" : "false")
    << ",\"schema_version\":2}";
  return o.str();
}

// Appends a v2 record (DefaultRecord.writeTo) with a null key, `value`, no headers.
void append_record(Bytes& batch, int32_t offset_delta, int64_t timestamp_delta_ms, const std::string& value) {
  auto varlong = [&batch](int64_t v) {
    uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
    while ((z & ~uint64_t{0x7f}) != 0) {
      batch.push_back(static_cast<uint8_t>((z & 0x7f) | 0x80));
      z >>= 7;
    }
    batch.push_back(static_cast<uint8_t>(z));
  };
  kafkasim::kafka::RecordShape shape;
  shape.value_bytes = static_cast<int32_t>(value.size());
  const int32_t body = 1 + kafkasim::kafka::varlong_size_bytes(timestamp_delta_ms) +
                       kafkasim::kafka::varint_size_bytes(offset_delta) +
                       kafkasim::kafka::record_payload_size_bytes(shape);
  const size_t start = batch.size();
  varlong(body);
  batch.push_back(0);  // attributes
  varlong(timestamp_delta_ms);
  varlong(offset_delta);
  varlong(-1);  // null key
  varlong(static_cast<int64_t>(value.size()));
  batch.insert(batch.end(), value.begin(), value.end());
  varlong(0);  // no headers
  // The framing must agree with the simulator's own record size accounting.
  if (batch.size() - start !=
      static_cast<size_t>(kafkasim::kafka::record_size_in_batch_bytes(offset_delta, timestamp_delta_ms, shape)))
    fail("record framing disagrees with record_size_in_batch_bytes");
}

// The next record's value: a click-stream event, or as many random bytes.
std::string record_value(Rng& rng, EventStream& st, Payload payload) {
  std::string value = json_event(rng, st);
  if (payload == Payload::random)
    for (auto& c : value) c = static_cast<char>(rng.uniform_u64(256));
  return value;
}

const char* stream_name(Payload payload) {
  return payload == Payload::json ? "codec_measure/json" : "codec_measure/random";
}

// The records of one batch as the producer fills it with batch.size bytes and a converged ratio estimate.
Bytes make_batch(Rng& rng, EventStream& st, Payload payload, CompressionType codec, float ratio_estimate,
                 int32_t batch_size_bytes) {
  Bytes records;
  const int64_t base_ts = st.ts_ms;
  for (int32_t i = 0;; ++i) {
    std::string value = record_value(rng, st, payload);
    kafkasim::kafka::RecordShape shape;
    shape.value_bytes = static_cast<int32_t>(value.size());
    const int32_t record_bytes = kafkasim::kafka::record_size_in_batch_bytes(i, st.ts_ms - base_ts, shape);
    const int32_t estimate =
        kafkasim::kafka::estimated_batch_bytes(codec, static_cast<int32_t>(records.size()), ratio_estimate);
    if (i > 0 && batch_size_bytes < estimate + record_bytes) break;
    append_record(records, i, st.ts_ms - base_ts, value);
  }
  return records;
}

std::vector<Bytes> make_batches(uint64_t seed, Payload payload, CompressionType codec, float ratio_estimate,
                                int32_t batch_size_bytes, size_t count) {
  Rng rng = Rng::stream(seed, stream_name(payload));
  EventStream st;
  std::vector<Bytes> batches;
  for (size_t i = 0; i < count; ++i) batches.push_back(make_batch(rng, st, payload, codec, ratio_estimate, batch_size_bytes));
  return batches;
}

// The ratio curve's batches (see the header): batches of exactly 2^k records, k = 0..kCurvePoints-1.
constexpr int kCurvePoints = 11;                  // 1 .. 1024 records
constexpr size_t kCurveBatchesSmall = 64;         // distinct batches a point, up to 128 records
constexpr size_t kCurveBatchesLarge = 16;         // from kCurveLargeFromRecords records on
constexpr int32_t kCurveLargeFromRecords = 256;
constexpr size_t kCurveWarmUpEvents = 300;        // json_event's session pool is full after 300 events

struct CurveSet {
  int32_t records_per_batch = 0;
  std::vector<Bytes> batches;
};

std::vector<CurveSet> make_curve_batches(uint64_t seed, Payload payload) {
  std::vector<CurveSet> sets;
  for (int k = 0; k < kCurvePoints; ++k) {
    CurveSet set;
    set.records_per_batch = int32_t{1} << k;
    const size_t count = set.records_per_batch < kCurveLargeFromRecords ? kCurveBatchesSmall : kCurveBatchesLarge;
    Rng rng = Rng::stream(seed, std::string(stream_name(payload)) + "/curve/" + std::to_string(set.records_per_batch));
    EventStream st;
    for (size_t i = 0; i < kCurveWarmUpEvents; ++i) record_value(rng, st, payload);
    for (size_t b = 0; b < count; ++b) {
      Bytes records;
      const int64_t base_ts = st.ts_ms;
      for (int32_t i = 0; i < set.records_per_batch; ++i) {
        const std::string value = record_value(rng, st, payload);
        append_record(records, i, st.ts_ms - base_ts, value);
      }
      set.batches.push_back(std::move(records));
    }
    sets.push_back(std::move(set));
  }
  return sets;
}

// What the source text says about the curve's batches; `sets` gives the mean record size.
std::string curve_description(const std::vector<CurveSet>& sets) {
  uint64_t bytes = 0, records = 0;
  for (const CurveSet& set : sets)
    for (const Bytes& b : set.batches) {
      bytes += b.size();
      records += static_cast<uint64_t>(set.records_per_batch);
    }
  return "batches of exactly 1, 2, 4, ..., " + std::to_string(int32_t{1} << (kCurvePoints - 1)) +
         " records (mean record " + std::to_string(std::llround(static_cast<double>(bytes) / static_cast<double>(records))) +
         " B), " + std::to_string(kCurveBatchesSmall) + " distinct batches a point up to " +
         std::to_string(kCurveLargeFromRecords / 2) + " records, " + std::to_string(kCurveBatchesLarge) + " from " +
         std::to_string(kCurveLargeFromRecords) + " records on; a point is [mean uncompressed records bytes, total compressed / "
         "total uncompressed bytes of its batches]";
}

// ------------------------------------------------------------------------------------------------
// Measurement.

// One point of a ratio curve, rounded as the profile holds it.
struct CurvePoint {
  int64_t uncompressed_bytes = 0;  // mean uncompressed records bytes of the point's batches
  int64_t ratio_e4 = 0;            // the ratio x 10^4: 4 decimals, exactly
};

struct Result {
  double ratio = 0;                // at the batch the producer fills with batch.size
  double uncompressed_batch_bytes = 0;  // mean records bytes per batch
  double record_bytes = 0;              // mean record size in the batch (framing included)
  double compress_bytes_per_s = 0;
  double decompress_bytes_per_s = 0;
  std::vector<CurvePoint> curve;   // ratio by uncompressed batch size
};

double ratio_of(CompressionType codec, int level, const std::vector<Bytes>& batches) {
  uint64_t in = 0, out = 0;
  Bytes c;
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> zstd(ZSTD_createCCtx(), ZSTD_freeCCtx);
  if (zstd == nullptr) fail("ZSTD_createCCtx");
  for (const Bytes& b : batches) {
    compress(codec, level, b, c, zstd.get());
    in += b.size();
    out += c.size();
  }
  return static_cast<double>(out) / static_cast<double>(in);
}

const char* codec_name(CompressionType codec) {
  for (const Codec& c : kCodecs)
    if (c.type == codec) return c.name;
  return "none";
}

// The ratio curve of `codec` at `level` over the curve's batches, each batch checked to survive the round trip.
// Fails unless the compressed size, uncompressed bytes x ratio as rounded, strictly increases from point to point:
// the simulator interpolates that size between points.
std::vector<CurvePoint> ratio_curve(CompressionType codec, int level, const std::vector<CurveSet>& sets) {
  std::vector<CurvePoint> curve;
  Bytes c, fresh, restored;
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> zstd(ZSTD_createCCtx(), ZSTD_freeCCtx);
  if (zstd == nullptr) fail("ZSTD_createCCtx");
  for (const CurveSet& set : sets) {
    uint64_t in = 0, out = 0;
    for (const Bytes& b : set.batches) {
      compress(codec, level, b, c, zstd.get());
      if (&b == &set.batches.front()) {  // the reused context must give what a new one gives
        compress(codec, level, b, fresh);
        if (fresh != c) fail("a reused zstd context compressed differently from a new one");
      }
      restored.resize(b.size());
      decompress(codec, c, restored);
      if (restored != b) fail("round trip changed the data");
      in += b.size();
      out += c.size();
    }
    CurvePoint p;
    p.uncompressed_bytes = std::llround(static_cast<double>(in) / static_cast<double>(set.batches.size()));
    p.ratio_e4 = std::llround(static_cast<double>(out) / static_cast<double>(in) * 1e4);
    if (!curve.empty()) {
      const CurvePoint& q = curve.back();
      if (p.uncompressed_bytes <= q.uncompressed_bytes)
        fail(std::string(codec_name(codec)) + " level " + std::to_string(level) + ": uncompressed bytes " +
             std::to_string(p.uncompressed_bytes) + " after " + std::to_string(q.uncompressed_bytes) +
             " do not increase along the ratio curve");
      if (p.uncompressed_bytes * p.ratio_e4 <= q.uncompressed_bytes * q.ratio_e4)
        fail(std::string(codec_name(codec)) + " level " + std::to_string(level) +
             ": compressed size does not increase along the ratio curve: " + std::to_string(p.uncompressed_bytes) +
             " B x " + std::to_string(static_cast<double>(p.ratio_e4) / 1e4) + " after " +
             std::to_string(q.uncompressed_bytes) + " B x " + std::to_string(static_cast<double>(q.ratio_e4) / 1e4));
    }
    curve.push_back(p);
  }
  return curve;
}

std::string ratio_text(int64_t ratio_e4) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%04lld", static_cast<long long>(ratio_e4 / 10000),
                static_cast<long long>(ratio_e4 % 10000));
  return buf;
}

// The curve as the profile holds it: [[uncompressed_bytes, ratio], ...] on one line.
std::string curve_json(const std::vector<CurvePoint>& curve) {
  std::string s = "[";
  for (size_t i = 0; i < curve.size(); ++i)
    s += (i == 0 ? "[" : ", [") + std::to_string(curve[i].uncompressed_bytes) + ", " + ratio_text(curve[i].ratio_e4) + "]";
  return s + "]";
}

// The curve for the table: uncompressed_bytes:ratio pairs.
std::string curve_table(const std::vector<CurvePoint>& curve) {
  std::string s;
  for (const CurvePoint& p : curve)
    s += (s.empty() ? "" : " ") + std::to_string(p.uncompressed_bytes) + ":" + ratio_text(p.ratio_e4);
  return s;
}

// This thread's CPU time in seconds.
double thread_cpu_seconds() {
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) fail("clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Throughput of `op` over all batches in one timed round of at least `min_round_s` of CPU time.
template <typename Op>
double round_rate(const std::vector<Bytes>& batches, double min_round_s, Op op) {
  uint64_t bytes_per_pass = 0;
  for (const Bytes& b : batches) bytes_per_pass += b.size();
  uint64_t bytes = 0;
  const double start = thread_cpu_seconds();
  double elapsed = 0;
  while (elapsed < min_round_s) {
    for (size_t i = 0; i < batches.size(); ++i) op(i);
    bytes += bytes_per_pass;
    elapsed = thread_cpu_seconds() - start;
  }
  return static_cast<double>(bytes) / elapsed;
}

// One codec's batches, prepared for timing.
struct Prepared {
  CompressionType codec = CompressionType::none;
  int level = 0;  // Kafka's compression.<codec>.level (none for snappy)
  std::vector<Bytes> batches, compressed, restored;
  Bytes scratch;
  Result result;
};

// Records in a batch's records section: each starts with its body length as a zigzag varint.
uint64_t count_records(const Bytes& records) {
  uint64_t n = 0;
  for (size_t pos = 0; pos < records.size(); ++n) {
    uint64_t z = 0;
    int shift = 0;
    while ((records[pos] & 0x80) != 0) {
      z |= static_cast<uint64_t>(records[pos++] & 0x7f) << shift;
      shift += 7;
    }
    z |= static_cast<uint64_t>(records[pos++]) << shift;
    pos += static_cast<size_t>((z >> 1) ^ (~(z & 1) + 1));
  }
  return n;
}

// Builds the batches a producer with `codec` at `level` fills, checks the round trip, and records ratio and sizes.
Prepared prepare(CompressionType codec, int level, Payload payload, uint64_t seed, int32_t batch_size_bytes,
                 size_t count) {
  // Fixed point: the batch the producer builds depends on the ratio, and the ratio on the batch.
  float estimate = 1.0f;
  for (int i = 0; i < 6; ++i) {
    const double r = ratio_of(codec, level, make_batches(seed, payload, codec, estimate, batch_size_bytes, 16));
    estimate = static_cast<float>(std::min(r, 1.0));
  }
  Prepared p;
  p.codec = codec;
  p.level = level;
  p.batches = make_batches(seed, payload, codec, estimate, batch_size_bytes, count);
  uint64_t in = 0, out = 0, records = 0;
  p.compressed.resize(p.batches.size());
  p.restored.resize(p.batches.size());
  for (size_t i = 0; i < p.batches.size(); ++i) {
    records += count_records(p.batches[i]);
    compress(codec, level, p.batches[i], p.compressed[i]);
    p.restored[i].resize(p.batches[i].size());
    decompress(codec, p.compressed[i], p.restored[i]);
    if (p.restored[i] != p.batches[i]) fail("round trip changed the data");
    in += p.batches[i].size();
    out += p.compressed[i].size();
  }
  p.result.ratio = static_cast<double>(out) / static_cast<double>(in);
  p.result.uncompressed_batch_bytes = static_cast<double>(in) / static_cast<double>(p.batches.size());
  p.result.record_bytes = static_cast<double>(in) / static_cast<double>(records);
  return p;
}

// Times every codec in `rounds` rounds, the codecs interleaved within each round so that a slow spell of the
// machine hits all codecs alike rather than one; each codec keeps its fastest round per direction.
void time_all(std::vector<Prepared>& all, int rounds, double min_round_s) {
  for (int r = 0; r < rounds; ++r) {
    for (Prepared& p : all) {
      const double c = round_rate(p.batches, min_round_s, [&p](size_t i) { compress(p.codec, p.level, p.batches[i], p.scratch); });
      const double d = round_rate(p.batches, min_round_s, [&p](size_t i) { decompress(p.codec, p.compressed[i], p.restored[i]); });
      p.result.compress_bytes_per_s = std::max(p.result.compress_bytes_per_s, c);
      p.result.decompress_bytes_per_s = std::max(p.result.decompress_bytes_per_s, d);
    }
  }
}

// The CPU as /proc/cpuinfo names it, with family and model (a virtual machine often shows only the brand).
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, name = "unknown CPU", family, model;
  auto value = [&line] { return line.substr(line.find(':') + 2); };
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0 && name == "unknown CPU") name = value();
    else if (line.rfind("cpu family", 0) == 0 && family.empty()) family = value();
    else if (line.rfind("model\t", 0) == 0 && model.empty()) model = value();
  }
  if (!family.empty()) name += " (family " + family + ", model " + model + ")";
  return name;
}

std::string today_utc() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&t));
  return buf;
}

// A positive speed rounded to three significant digits, as a whole number of B/s.
long long three_digits(double v) {
  if (!(v > 0)) fail("a speed that is not positive");
  const double unit = std::pow(10.0, std::floor(std::log10(v)) - 2);
  return static_cast<long long>(std::llround(v / unit) * unit);
}

int default_level(CompressionType codec) {
  switch (codec) {
    case CompressionType::gzip: return kGzipLevel;
    case CompressionType::lz4: return kLz4Level;
    case CompressionType::zstd: return kZstdLevel;
    case CompressionType::snappy:
    case CompressionType::none: break;
  }
  return 0;
}

// The other levels of gzip, lz4 and zstd (see the header), timed as the default run times its codecs, the levels of
// a round interleaved; printed as a table or as the profile's "codec_levels" section (one line a level).
void measure_levels(Payload payload, uint64_t seed, int32_t batch_size_bytes, size_t count, int rounds,
                    double min_round_s, bool json_out, const std::string& where,
                    const std::vector<CurveSet>& curve_sets, const std::string& curve_text) {
  struct Level {
    const char* codec_name;
    CompressionType codec;
    int level;
  };
  std::vector<Level> levels;
  for (int l = 1; l <= 9; ++l)
    if (l != 6) levels.push_back({"gzip", CompressionType::gzip, l});  // 6 is the default (-1)
  for (int l = 1; l <= 17; ++l)
    if (l != kLz4Level) levels.push_back({"lz4", CompressionType::lz4, l});
  for (int l = -5; l <= 22; ++l)
    if (l != 0 && l != kZstdLevel) levels.push_back({"zstd", CompressionType::zstd, l});
  std::vector<Prepared> all;
  for (const Level& l : levels) {
    all.push_back(prepare(l.codec, l.level, payload, seed, batch_size_bytes, count));
    all.back().result.curve = ratio_curve(l.codec, l.level, curve_sets);
  }
  time_all(all, rounds, min_round_s);
  if (!json_out) {
    std::printf("%s\n%-7s %6s %7s %16s %14s %16s\n", where.c_str(), "codec", "level", "ratio", "batch (uncomp.)",
                "compress MB/s", "decompress MB/s");
    for (size_t k = 0; k < levels.size(); ++k) {
      const Result& r = all[k].result;
      std::printf("%-7s %6d %7.4f %14.0f B %14.1f %16.0f\n", levels[k].codec_name, levels[k].level, r.ratio,
                  r.uncompressed_batch_bytes, r.compress_bytes_per_s / 1e6, r.decompress_bytes_per_s / 1e6);
    }
    std::printf("\nratio by uncompressed batch bytes (bytes:ratio), %s\n", curve_text.c_str());
    for (size_t k = 0; k < levels.size(); ++k)
      std::printf("%-7s %6d %s\n", levels[k].codec_name, levels[k].level, curve_table(all[k].result.curve).c_str());
    return;
  }
  // Ratios to 4 decimals, speeds to 3 significant digits (the slowest levels run at well under 1 MB/s).
  std::printf("  \"codec_levels\": {\n    \"source\": %s,\n",
              nlohmann::json(where + "; speeds: " + std::to_string(rounds) + " rounds of " + std::to_string(count) +
                             " batches, the fastest; ratio curves: " + curve_text)
                  .dump()
                  .c_str());
  std::printf("    \"note\": \"per level: ratio by uncompressed batch bytes ([[uncompressed records bytes, "
              "compressed/uncompressed]], codec framing included) and one core's compress and decompress speeds in "
              "uncompressed B/s at the batch.size batch, as in the codecs section\"");
  const char* open_codec = nullptr;
  for (size_t k = 0; k < levels.size(); ++k) {
    const Result& r = all[k].result;
    if (open_codec == nullptr || std::strcmp(open_codec, levels[k].codec_name) != 0) {
      std::printf("%s,\n    \"%s\": {\n", open_codec == nullptr ? "" : "\n    }", levels[k].codec_name);
      open_codec = levels[k].codec_name;
    } else {
      std::printf(",\n");
    }
    std::printf("      \"%d\": {\"ratio\": %s, \"compress_bytes_per_s\": %lld, \"decompress_bytes_per_s\": %lld}",
                levels[k].level, curve_json(r.curve).c_str(), three_digits(r.compress_bytes_per_s),
                three_digits(r.decompress_bytes_per_s));
  }
  std::printf("\n    }\n  },\n");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Measures Kafka's compression codecs (ratio, compress and decompress speed per core) on "
               "representative record batches with the Debian codec libraries"};
  uint64_t seed = 1;
  int32_t batch_size_bytes = 16384;
  size_t batches = 200;
  int rounds = 20;
  double min_round_s = 0.1;
  std::string payload_name = "json";
  bool json_out = false;
  app.add_option("--seed", seed, "payload generator seed")->capture_default_str();
  app.add_option("--batch-size", batch_size_bytes, "the producer's batch.size in bytes")->capture_default_str();
  app.add_option("--batches", batches, "distinct batches per codec")->capture_default_str();
  app.add_option("--rounds", rounds, "timed rounds per measurement; the fastest counts")->capture_default_str();
  app.add_option("--min-round-seconds", min_round_s, "minimum length of a timed round")->capture_default_str();
  app.add_option("--payload", payload_name, "json (click-stream events) or random (incompressible)")
      ->check(CLI::IsMember({"json", "random"}))
      ->capture_default_str();
  app.add_flag("--json", json_out, "print the profile's \"codecs\" section (value, unit, source; ratio curves with a note) instead of a table");
  bool levels = false;
  app.add_flag("--levels", levels,
               "measure gzip, lz4 and zstd at their other levels (KIP-390): the profile's \"codec_levels\" section");
  CLI11_PARSE(app, argc, argv);
  const Payload payload = payload_name == "json" ? Payload::json : Payload::random;

  std::string command = "codec_measure";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  std::ostringstream versions;
  versions << "zlib " << zlibVersion() << ", snappy " << SNAPPY_MAJOR << '.' << SNAPPY_MINOR << '.'
           << SNAPPY_PATCHLEVEL << ", lz4 " << LZ4_versionString() << ", zstd " << ZSTD_versionString();
  // The curve does not depend on batch.size; the speeds do.
  const std::string origin = "measured by `" + command + "` (bench/codec_measure.cpp) on " + cpu_model() +
                             ", one core, " + today_utc() + ", " + versions.str() + "; payload " + payload_name +
                             " (seed " + std::to_string(seed) + ")";
  const std::string where = origin + ", batch.size " + std::to_string(batch_size_bytes);

  try {
    const std::vector<CurveSet> curve_sets = make_curve_batches(seed, payload);
    const std::string curve_text = curve_description(curve_sets);
    if (levels) {
      measure_levels(payload, seed, batch_size_bytes, batches, rounds, min_round_s, json_out, where, curve_sets,
                     curve_text);
      return 0;
    }
    // The section as the profile lays it out: an entry's fields one a line, a curve on one line.
    struct Entry {
      std::string key, value, unit, source, note;
    };
    std::vector<Entry> section;
    if (!json_out) {
      std::printf("%s\n", where.c_str());
      std::printf("%-7s %7s %16s %8s %14s %16s\n", "codec", "ratio", "batch (uncomp.)", "record", "compress MB/s",
                  "decompress MB/s");
    }
    std::vector<Prepared> all;
    for (const Codec& c : kCodecs) {
      all.push_back(prepare(c.type, default_level(c.type), payload, seed, batch_size_bytes, batches));
      all.back().result.curve = ratio_curve(c.type, default_level(c.type), curve_sets);
    }
    time_all(all, rounds, min_round_s);
    for (size_t k = 0; k < kCodecs.size(); ++k) {
      const Codec& c = kCodecs[k];
      const Result& r = all[k].result;
      if (json_out) {
        const std::string detail = "; mean uncompressed batch " +
                                   std::to_string(static_cast<int64_t>(r.uncompressed_batch_bytes)) + " B of " +
                                   std::to_string(static_cast<int64_t>(r.record_bytes)) + " B records";
        section.push_back({std::string(c.name) + "_ratio", curve_json(r.curve), "ratio by uncompressed batch bytes",
                           origin + "; " + curve_text,
                           "compressed/uncompressed size of a producer batch by its uncompressed records bytes, codec "
                           "framing included (kafka::CompressionCurve, RecordAccumulator::set_compression); the compressed "
                           "size (bytes x ratio) is interpolated linearly between points, the ratio held outside them"});
        section.push_back({std::string(c.name) + "_compress_bytes_per_s",
                           std::to_string(static_cast<int64_t>(r.compress_bytes_per_s / 1e6) * 1000000), "B/s",
                           where + detail, ""});
        section.push_back({std::string(c.name) + "_decompress_bytes_per_s",
                           std::to_string(static_cast<int64_t>(r.decompress_bytes_per_s / 1e6) * 1000000), "B/s",
                           where + detail, ""});
      } else {
        std::printf("%-7s %7.4f %14.0f B %6.0f B %14.0f %16.0f\n", c.name, r.ratio, r.uncompressed_batch_bytes,
                    r.record_bytes, r.compress_bytes_per_s / 1e6, r.decompress_bytes_per_s / 1e6);
      }
    }
    if (json_out) {
      std::printf("{");
      for (size_t i = 0; i < section.size(); ++i) {
        const Entry& e = section[i];
        std::printf("%s\n  %s: {\n    \"value\": %s,\n    \"unit\": %s,\n    \"source\": %s", i == 0 ? "" : ",",
                    nlohmann::json(e.key).dump().c_str(), e.value.c_str(), nlohmann::json(e.unit).dump().c_str(),
                    nlohmann::json(e.source).dump().c_str());
        if (!e.note.empty()) std::printf(",\n    \"note\": %s", nlohmann::json(e.note).dump().c_str());
        std::printf("\n  }");
      }
      std::printf("\n}\n");
    } else {
      std::printf("\nratio by uncompressed batch bytes (bytes:ratio), %s\n", curve_text.c_str());
      for (size_t k = 0; k < kCodecs.size(); ++k)
        std::printf("%-7s %s\n", kCodecs[k].name, curve_table(all[k].result.curve).c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "codec_measure: %s\n", e.what());
    return 1;
  }
  return 0;
}
