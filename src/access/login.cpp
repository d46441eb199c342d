#include "access/login.hpp"

#include <boost/asio/ip/address.hpp>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include "core/base64.hpp"
#include "core/domain.hpp"
#include "core/strings.hpp"
#include "net/admission.hpp"
#include "net/blocking.hpp"
#include "store/mailbox/mailboxes.hpp"

namespace sealpost::access {

namespace asio = boost::asio;

SessionCounter::Ticket& SessionCounter::Ticket::operator=(Ticket&& o) noexcept {
  if (this != &o) {
    release();
    owner_ = o.owner_;
    address_ = std::move(o.address_);
    o.owner_ = nullptr;
  }
  return *this;
}

void SessionCounter::Ticket::release() noexcept {
  if (!owner_) return;
  const std::lock_guard lock(owner_->mutex_);
  const auto it = owner_->counts_.find(address_);
  if (it != owner_->counts_.end() && --it->second == 0) owner_->counts_.erase(it);
  owner_ = nullptr;
}

SessionCounter::Ticket SessionCounter::acquire(const std::string& address) {
  const std::lock_guard lock(mutex_);
  auto& n = counts_[address];
  if (n >= per_user_) {
    if (n == 0) counts_.erase(address);
    return {};
  }
  ++n;
  return {this, address};
}

std::uint32_t SessionCounter::count(const std::string& address) {
  const std::lock_guard lock(mutex_);
  const auto it = counts_.find(address);
  return it == counts_.end() ? 0 : it->second;
}

bool password_allowed(const AccessContext& ctx, bool tls, const std::string& client_ip) {
  if (tls) return true;
  if (!ctx.config.access.allow_plaintext_on_loopback) return false;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(client_ip, ec);
  return !ec && address.is_loopback();
}

namespace {

// The account's normalised address; the user name as typed when it is not an address (it can
// only fail, after the same work).
std::string account_key(std::string_view user) {
  const auto parts = core::split_address(user);
  if (!parts) return std::string(user);
  const auto domain = core::to_a_label(std::string(parts->second));
  if (!domain) return std::string(user);
  return to_lower_ascii(parts->first) + "@" + *domain;
}

}  // namespace

asio::awaitable<LoginResult> login(AccessContext& ctx, const std::string& client_ip,
                                   std::string_view user, std::string password) {
  struct Wipe {
    std::string& s;
    ~Wipe() { sodium_memzero(s.data(), s.capacity()); }
  } wipe{password};
  LoginResult result;
  result.address = account_key(user);
  const std::string client =
      ctx.client_hasher.hash(net::client_network(client_ip, ctx.config.limits.ipv6_client_prefix));
  const auto blocked = [&ctx, &client, &result] {
    return ctx.throttle.wait_before(client, result.address, net::LoginThrottle::Clock::now()) >
           net::LoginThrottle::Clock::duration{};
  };
  if (blocked()) {
    result.status = LoginStatus::kThrottled;
    spdlog::info("login refused client={} reason=throttled", client);
    co_return result;
  }

  // Argon2id on its own pool. The attempt is judged and counted when its work starts, not when
  // it ends: parallel attempts from one client are each known before the next one runs.
  struct Unlock {
    bool throttled = false;
    std::optional<store::mailbox::Unlocked> keys;
  };
  auto unlocked = co_await ctx.kdf.run([&ctx, &client, &result, &password, &blocked] {
    Unlock u;
    if (blocked()) {
      u.throttled = true;
      return u;
    }
    ctx.throttle.attempting(client, result.address, net::LoginThrottle::Clock::now());
    u.keys = store::mailbox::unlock(ctx.metadata, result.address, password, ctx.login_options.cost);
    sodium_memzero(password.data(), password.capacity());
    return u;
  });
  if (!unlocked) {
    result.status = LoginStatus::kBusy;
    spdlog::info("login refused client={} reason=kdf_busy", client);
    co_return result;
  }
  if (unlocked->throttled) {
    result.status = LoginStatus::kThrottled;
    spdlog::info("login refused client={} reason=throttled", client);
    co_return result;
  }
  if (!unlocked->keys) {
    result.status = LoginStatus::kFailed;
    spdlog::info("login failed client={}", client);
    co_return result;
  }
  ctx.throttle.succeeded(client, result.address, net::LoginThrottle::Clock::now());
  result.ticket = ctx.sessions.acquire(result.address);
  if (!result.ticket) {
    result.status = LoginStatus::kTooManySessions;
    spdlog::info("login refused client={} reason=sessions_per_user", client);
    co_return result;
  }
  // Opening the database and moving the spool in is mailbox I/O: the worker pool's.
  result.mailbox = co_await net::run_blocking(
      ctx.blocking, [&ctx, &unlocked] { return ctx.mailboxes.open(*unlocked->keys); });
  unlocked->keys.reset();  // the unwrapped keys are wiped here; the database keeps SQLite's copy
  result.status = LoginStatus::kOk;
  co_return result;
}

std::optional<PlainCredentials> parse_sasl_plain(std::string_view raw) {
  const auto first = raw.find('\0');
  const auto second = first == std::string_view::npos ? first : raw.find('\0', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const std::string_view authz = raw.substr(0, first);
  PlainCredentials c{std::string(raw.substr(first + 1, second - first - 1)),
                     std::string(raw.substr(second + 1))};
  if ((!authz.empty() && authz != c.user) || c.user.empty() ||
      c.password.find('\0') != std::string::npos) {
    sodium_memzero(c.password.data(), c.password.size());
    return std::nullopt;
  }
  return c;
}

std::optional<PlainCredentials> decode_sasl_plain(std::string_view base64) {
  auto raw = core::base64_decode(base64, core::Base64Mode::kStrict);
  if (!raw) return std::nullopt;
  auto out = parse_sasl_plain(*raw);
  sodium_memzero(raw->data(), raw->size());
  return out;
}

}  // namespace sealpost::access
