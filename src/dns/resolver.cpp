#include "dns/resolver.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <unbound.h>

#include "dns/rdata.hpp"

namespace sealpost::dns {

namespace asio = boost::asio;

namespace {

constexpr int kTypeA = 1;
constexpr int kTypePtr = 12;
constexpr int kTypeMx = 15;
constexpr int kTypeTxt = 16;
constexpr int kTypeAaaa = 28;
constexpr int kTypeTlsa = 52;
constexpr int kClassIn = 1;
constexpr int kRcodeNxDomain = 3;

// What one query produced, before the typed parsing.
struct Raw {
  Status status = Status::kTempFail;
  Security security = Security::kInsecure;
  std::vector<std::vector<std::uint8_t>> rdata;
  int ttl = 0;
};

// Answers kept in the process for their TTL (at most an hour; temporary failures and bogus
// answers never), so the same sender's records cost one libunbound round trip, not one per
// message. Bounded: when full, it is emptied.
class AnswerCache {
 public:
  static constexpr std::size_t kMaxEntries = 16384;
  static constexpr int kMaxTtl = 3600;

  std::optional<Raw> get(const std::string& name, int type) {
    // The filter asks for a few dozen names a message, nearly all here: the key is made in a
    // buffer of the thread's, not allocated each time.
    thread_local std::string k;
    make_key(k, name, type);
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(k);
    if (it == entries_.end()) return std::nullopt;
    const auto now = std::chrono::steady_clock::now();
    if (now >= it->second.expires) {
      entries_.erase(it);
      return std::nullopt;
    }
    Raw raw = it->second.raw;
    // What is left of the TTL, so whoever keeps the answer further stops when this cache would.
    raw.ttl =
        static_cast<int>(std::chrono::ceil<std::chrono::seconds>(it->second.expires - now).count());
    return raw;
  }

  void put(const std::string& name, int type, const Raw& raw) {
    if (raw.status == Status::kTempFail || raw.security == Security::kBogus || raw.ttl <= 0) return;
    std::lock_guard lock(mutex_);
    if (entries_.size() >= kMaxEntries) entries_.clear();
    std::string k;
    make_key(k, name, type);
    entries_[std::move(k)] = Entry{
        raw, std::chrono::steady_clock::now() + std::chrono::seconds(std::min(raw.ttl, kMaxTtl))};
  }

 private:
  struct Entry {
    Raw raw;
    std::chrono::steady_clock::time_point expires;
  };
  // The name in lower case, then the type's two octets.
  static void make_key(std::string& k, const std::string& name, int type) {
    k.resize(name.size() + 2);
    for (std::size_t i = 0; i < name.size(); ++i) {
      const char c = name[i];
      k[i] = static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    k[name.size()] = static_cast<char>((type >> 8) & 0xff);
    k[name.size() + 1] = static_cast<char>(type & 0xff);
  }
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

// One query in flight. The waiter sleeps on `wake` (on its own executor); libunbound's callback
// (on the resolver's strand) fills `raw` and wakes it.
struct Pending {
  explicit Pending(const asio::any_io_executor& ex) : wake(ex) {}
  asio::steady_timer wake;
  std::mutex mutex;
  bool done = false;
  Raw raw;
  int async_id = 0;
  void* callback_arg = nullptr;  // freed by the callback, or by cancel() when none will come
  std::string name;              // for the cache
  int type = 0;
};

bool valid_query_name(const std::string& name) {
  if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.') return false;
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (++label > 63 || static_cast<unsigned char>(c) < 33 || c == 127) {
      return false;
    }
  }
  return true;
}

// What the cache holds for a query, as the query would answer (a name that is not valid is
// never asked: no data), or nullopt.
std::optional<Raw> known_raw(AnswerCache& cache, const std::string& name, int type) {
  if (!valid_query_name(name)) {
    Raw raw;
    raw.status = Status::kNoData;
    return raw;
  }
  return cache.get(name, type);
}

}  // namespace

struct Resolver::Impl : std::enable_shared_from_this<Impl> {
  Impl(const asio::any_io_executor& ex, ub_ctx* c, std::chrono::milliseconds t)
      : strand(asio::make_strand(ex)), ctx(c), fd(strand), timeout(t) {}
  ~Impl() {
    fd.release();  // libunbound owns the descriptor
    ub_ctx_delete(ctx);
    // No callback comes after ub_ctx_delete: free what the unanswered queries would have.
    for (auto& [key, pending] : inflight) {
      delete static_cast<std::pair<Impl*, Pending*>*>(pending->callback_arg);
    }
  }

  asio::strand<asio::any_io_executor> strand;
  ub_ctx* ctx;
  asio::posix::stream_descriptor fd;
  std::chrono::milliseconds timeout;
  std::unordered_map<Pending*, std::shared_ptr<Pending>> inflight;  // strand only
  AnswerCache cache;
  std::atomic<std::uint64_t> sent{0};
  bool stopped = false;  // strand only

  static void on_result(void* arg, int err, ub_result* result) {
    auto* self_and_pending = static_cast<std::pair<Impl*, Pending*>*>(arg);
    Impl* self = self_and_pending->first;
    Pending* key = self_and_pending->second;
    delete self_and_pending;
    const auto it = self->inflight.find(key);
    if (it == self->inflight.end()) {
      if (result) ub_resolve_free(result);
      return;
    }
    std::shared_ptr<Pending> p = std::move(it->second);
    self->inflight.erase(it);
    Raw raw;
    if (err == 0 && result) {
      raw.security = result->bogus    ? Security::kBogus
                     : result->secure ? Security::kSecure
                                      : Security::kInsecure;
      // A negative answer's TTL is the one libunbound derives from the zone's SOA (RFC 2308):
      // it is kept as long as a positive one, so a client not on a blocklist costs one round
      // trip per TTL and not one per message.
      raw.ttl = result->ttl;
      if (!result->bogus && (result->nxdomain || result->rcode == kRcodeNxDomain)) {
        raw.status = Status::kNxDomain;
      } else if (result->bogus || result->rcode != 0) {
        raw.status = Status::kTempFail;
      } else if (!result->havedata) {
        raw.status = Status::kNoData;
      } else {
        raw.status = Status::kOk;
        for (int i = 0; result->data[i] != nullptr; ++i) {
          const auto* b = reinterpret_cast<const std::uint8_t*>(result->data[i]);
          raw.rdata.emplace_back(b, b + result->len[i]);
        }
      }
    }
    if (result) ub_resolve_free(result);
    self->cache.put(p->name, p->type, raw);
    {
      std::lock_guard lock(p->mutex);
      p->raw = std::move(raw);
      p->done = true;
    }
    // The waiter's timer belongs to the waiter's executor: wake it there.
    asio::post(p->wake.get_executor(), [p] { p->wake.cancel(); });
  }

  asio::awaitable<void> process_loop() {
    auto self = shared_from_this();
    while (!stopped) {
      auto [ec] = co_await fd.async_wait(asio::posix::stream_descriptor::wait_read,
                                         asio::as_tuple(asio::use_awaitable));
      if (ec || stopped) break;
      ub_process(ctx);
    }
  }

  // Starts a query; runs on the strand.
  void submit(const std::shared_ptr<Pending>& p, const std::string& name, int type) {
    sent.fetch_add(1, std::memory_order_relaxed);
    auto* arg = new std::pair<Impl*, Pending*>(this, p.get());
    inflight.emplace(p.get(), p);
    int id = 0;
    const int rc = ub_resolve_async(ctx, name.c_str(), type, kClassIn, arg, &Impl::on_result, &id);
    if (rc != 0) {
      delete arg;
      inflight.erase(p.get());
      {
        std::lock_guard lock(p->mutex);
        p->done = true;  // raw stays kTempFail
      }
      asio::post(p->wake.get_executor(), [p] { p->wake.cancel(); });
      return;
    }
    p->async_id = id;
    p->callback_arg = arg;
  }

  // Gives up on a query; runs on the strand. libunbound will not call back after ub_cancel.
  void cancel(const std::shared_ptr<Pending>& p) {
    if (inflight.erase(p.get()) > 0 && p->async_id != 0 && ub_cancel(ctx, p->async_id) == 0) {
      delete static_cast<std::pair<Impl*, Pending*>*>(p->callback_arg);
    }
  }
};

namespace {

asio::awaitable<std::shared_ptr<Pending>> start_query(std::shared_ptr<Resolver::Impl> impl,
                                                      std::string name, int type) {
  const auto ex = co_await asio::this_coro::executor;
  auto p = std::make_shared<Pending>(ex);
  p->wake.expires_after(impl->timeout);
  if (auto known = known_raw(impl->cache, name, type)) {
    p->done = true;
    p->raw = std::move(*known);
    co_return p;
  }
  p->name = name;
  p->type = type;
  asio::post(impl->strand,
             [impl, p, name = std::move(name), type] { impl->submit(p, name, type); });
  co_return p;
}

asio::awaitable<Raw> finish_query(std::shared_ptr<Resolver::Impl> impl,
                                  std::shared_ptr<Pending> p) {
  {
    std::lock_guard lock(p->mutex);
    if (p->done) co_return std::move(p->raw);
  }
  (void)co_await p->wake.async_wait(asio::as_tuple(asio::use_awaitable));
  std::lock_guard lock(p->mutex);
  if (p->done) co_return std::move(p->raw);
  // Timed out: the answer, if it ever comes, is dropped.
  asio::post(impl->strand, [impl, p] { impl->cancel(p); });
  co_return Raw{};
}

// A and AAAA RDATA of the expected size (anything else is dropped).
std::vector<asio::ip::address_v4> v4_records(const Raw& raw) {
  std::vector<asio::ip::address_v4> out;
  for (const auto& r : raw.rdata) {
    if (r.size() == 4) out.emplace_back(asio::ip::address_v4::bytes_type{r[0], r[1], r[2], r[3]});
  }
  return out;
}

std::vector<asio::ip::address_v6> v6_records(const Raw& raw) {
  std::vector<asio::ip::address_v6> out;
  for (const auto& r : raw.rdata) {
    if (r.size() != 16) continue;
    asio::ip::address_v6::bytes_type b;
    std::copy(r.begin(), r.end(), b.begin());
    out.emplace_back(b);
  }
  return out;
}

template <class T>
Answer<T> answer_of(const Raw& raw) {
  Answer<T> a;
  a.status = raw.status;
  a.security = raw.security;
  a.ttl = raw.ttl > 0 ? static_cast<std::uint32_t>(raw.ttl) : 0;
  return a;
}

Answer<asio::ip::address_v4> a_answer(const Raw& raw) {
  auto a = answer_of<asio::ip::address_v4>(raw);
  a.records = v4_records(raw);
  return a;
}

Answer<asio::ip::address_v6> aaaa_answer(const Raw& raw) {
  auto a = answer_of<asio::ip::address_v6>(raw);
  a.records = v6_records(raw);
  return a;
}

Answer<std::string> ptr_answer(const Raw& raw) {
  auto a = answer_of<std::string>(raw);
  for (const auto& r : raw.rdata) {
    if (auto host = parse_ptr(r)) a.records.push_back(std::move(host).value());
  }
  return a;
}

}  // namespace

Resolver::Resolver(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Resolver::~Resolver() {
  // Stop watching the descriptor; queries still waiting time out on their own timers.
  auto impl = impl_;
  asio::post(impl->strand, [impl] {
    impl->stopped = true;
    boost::system::error_code ignored;
    impl->fd.cancel(ignored);
  });
}

std::uint64_t Resolver::queries_sent() const noexcept {
  return impl_->sent.load(std::memory_order_relaxed);
}

std::unique_ptr<Resolver> Resolver::create(const asio::any_io_executor& executor,
                                           const Options& options) {
  ub_ctx* ctx = ub_ctx_create();
  if (!ctx) throw std::runtime_error("dns: cannot create a libunbound context");
  const auto check = [ctx](int rc, const std::string& what) {
    if (rc != 0) {
      const std::string reason = ub_strerror(rc);
      ub_ctx_delete(ctx);
      throw std::runtime_error("dns: " + what + ": " + reason);
    }
  };
  // Forwarding to a resolver on this machine (127.0.0.1) is a normal setup.
  check(ub_ctx_set_option(ctx, "do-not-query-localhost:", "no"), "do-not-query-localhost");
  if (options.servers.empty()) {
    check(ub_ctx_resolvconf(ctx, nullptr), "reading /etc/resolv.conf");
    check(ub_ctx_hosts(ctx, nullptr), "reading /etc/hosts");
  } else {
    for (const auto& s : options.servers) {
      check(ub_ctx_set_fwd(ctx, (s.host + "@" + std::to_string(s.port)).c_str()),
            "forwarder " + s.to_string());
    }
  }
  if (!options.trust_anchor_file.empty()) {
    check(ub_ctx_add_ta_file(ctx, options.trust_anchor_file.c_str()),
          "trust anchor " + options.trust_anchor_file);
  }
  check(ub_ctx_async(ctx, 1), "async mode");
  if (!options.servers.empty()) {
    // RFC 6761 lets a resolver answer "test." names negatively by itself, and libunbound does by
    // default; with resolvers of the operator's choosing, ask them instead (test setups use such
    // names). This finalises the context, so it comes after every setting.
    check(ub_ctx_zone_remove(ctx, "test."), "local zone test.");
  }
  const int fd = ub_fd(ctx);
  if (fd < 0) {
    ub_ctx_delete(ctx);
    throw std::runtime_error("dns: libunbound gave no file descriptor");
  }
  auto impl = std::make_shared<Impl>(executor, ctx, options.timeout);
  impl->fd.assign(fd);
  asio::co_spawn(impl->strand, impl->process_loop(), asio::detached);
  return std::unique_ptr<Resolver>(new Resolver(std::move(impl)));
}

asio::awaitable<Answer<MxHost>> Resolver::mx_records(std::string name) {
  auto p = co_await start_query(impl_, std::move(name), kTypeMx);
  const Raw raw = co_await finish_query(impl_, std::move(p));
  auto a = answer_of<MxHost>(raw);
  for (const auto& r : raw.rdata) {
    if (auto mx = parse_mx(r)) a.records.push_back(MxHost{mx->preference, std::move(mx->host)});
  }
  if (a.status == Status::kOk && a.records.empty()) a.status = Status::kTempFail;  // all malformed
  co_return a;
}

asio::awaitable<Answer<asio::ip::address_v4>> Resolver::a(std::string name) {
  auto p = co_await start_query(impl_, std::move(name), kTypeA);
  co_return a_answer(co_await finish_query(impl_, std::move(p)));
}

std::optional<Answer<asio::ip::address_v4>> Resolver::known_a(const std::string& name) {
  if (auto raw = known_raw(impl_->cache, name, kTypeA)) return a_answer(*raw);
  return std::nullopt;
}

asio::awaitable<Answer<asio::ip::address_v6>> Resolver::aaaa(std::string name) {
  auto p = co_await start_query(impl_, std::move(name), kTypeAaaa);
  co_return aaaa_answer(co_await finish_query(impl_, std::move(p)));
}

std::optional<Answer<asio::ip::address_v6>> Resolver::known_aaaa(const std::string& name) {
  if (auto raw = known_raw(impl_->cache, name, kTypeAaaa)) return aaaa_answer(*raw);
  return std::nullopt;
}

asio::awaitable<Answer<std::string>> Resolver::ptr(std::string name) {
  auto p = co_await start_query(impl_, std::move(name), kTypePtr);
  co_return ptr_answer(co_await finish_query(impl_, std::move(p)));
}

std::optional<Answer<std::string>> Resolver::known_ptr(const std::string& name) {
  if (auto raw = known_raw(impl_->cache, name, kTypePtr)) return ptr_answer(*raw);
  return std::nullopt;
}

asio::awaitable<Answer<TlsaRecord>> Resolver::tlsa(std::string name) {
  auto p = co_await start_query(impl_, std::move(name), kTypeTlsa);
  const Raw raw = co_await finish_query(impl_, std::move(p));
  auto a = answer_of<TlsaRecord>(raw);
  for (const auto& r : raw.rdata) {
    if (auto t = parse_tlsa(r)) {
      a.records.push_back(TlsaRecord{t->usage, t->selector, t->matching_type, std::move(t->data)});
    }
  }
  co_return a;
}

asio::awaitable<Answer<MxHost>> Resolver::mx(std::string domain) {
  auto a = co_await mx_records(std::move(domain));
  thread_local std::mt19937 rng{std::random_device{}()};
  std::shuffle(a.records.begin(), a.records.end(), rng);
  std::stable_sort(a.records.begin(), a.records.end(),
                   [](const MxHost& x, const MxHost& y) { return x.preference < y.preference; });
  co_return a;
}

asio::awaitable<Answer<asio::ip::address>> Resolver::addresses(std::string host) {
  auto p4 = co_await start_query(impl_, host, kTypeA);
  auto p6 = co_await start_query(impl_, std::move(host), kTypeAaaa);
  const Raw r4 = co_await finish_query(impl_, std::move(p4));
  const Raw r6 = co_await finish_query(impl_, std::move(p6));
  Answer<asio::ip::address> a;
  for (const auto& v4 : v4_records(r4)) a.records.emplace_back(v4);
  for (const auto& v6 : v6_records(r6)) a.records.emplace_back(v6);
  a.security = (r4.security == Security::kSecure && r6.security == Security::kSecure)
                   ? Security::kSecure
                   : Security::kInsecure;
  if (!a.records.empty()) {
    a.status = Status::kOk;
  } else if (r4.status == Status::kNxDomain) {
    a.status = Status::kNxDomain;
  } else if (r4.status == Status::kTempFail || r6.status == Status::kTempFail) {
    a.status = Status::kTempFail;
  } else {
    a.status = Status::kNoData;
  }
  co_return a;
}

asio::awaitable<Answer<std::string>> Resolver::txt(std::string name) {
  auto p = co_await start_query(impl_, std::move(name), kTypeTxt);
  const Raw raw = co_await finish_query(impl_, std::move(p));
  auto a = answer_of<std::string>(raw);
  for (const auto& r : raw.rdata) {
    if (auto strings = parse_txt(r)) {
      std::string joined;
      for (const auto& s : *strings) joined += s;
      a.records.push_back(std::move(joined));
    }
  }
  co_return a;
}

}  // namespace sealpost::dns
