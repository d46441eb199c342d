#include "smtp/client/forwarder.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "auth/srs/srs.hpp"
#include "core/domain.hpp"

namespace sealpost::smtp::client {

namespace asio = boost::asio;
using protocol::ServerReply;

namespace {

constexpr std::size_t kAcceptedMemoryEntries = 1'000'000;

bool is_email_like(std::string_view word) {
  const auto at = word.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < word.size();
}

std::string enhanced_or(const ServerReply& r, std::string_view fallback) {
  if (!r.enhanced.empty() && r.enhanced[0] == std::to_string(r.code)[0]) return r.enhanced;
  return std::string(fallback);
}

}  // namespace

std::string sanitize_remote_text(std::string_view text) {
  constexpr std::size_t kMax = 200;
  // The enhanced code is reported in our own reply already.
  const auto enhanced = protocol::leading_enhanced_code(text);
  if (!enhanced.empty()) text.remove_prefix(std::min(text.size(), enhanced.size() + 1));
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size() && out.size() < kMax) {
    const auto end = text.find(' ', pos);
    std::string_view word = text.substr(pos, end == std::string_view::npos ? text.npos : end - pos);
    pos = end == std::string_view::npos ? text.size() : end + 1;
    if (word.empty()) continue;
    if (!out.empty()) out += ' ';
    if (is_email_like(word)) {
      out += "<address>";
      continue;
    }
    for (unsigned char c : word) {
      out += (c < 32 || c > 126) ? '?' : static_cast<char>(c);
    }
  }
  if (out.size() > kMax) out.resize(kMax);
  return out;
}

Forwarder::Forwarder(const core::Config& config, asio::any_io_executor executor,
                     dns::Resolver& resolver, const auth::srs::Srs& srs,
                     asio::ssl::context* client_tls, asio::ssl::context* verified_tls,
                     StsPolicies* sts, asio::ssl::context* dane_tls, TlsResults* results)
    : srs_(srs),
      relay_(config, std::move(executor), resolver, client_tls, verified_tls, sts, dane_tls,
             results),
      memory_(config.limits.accepted_memory, kAcceptedMemoryEntries) {}

asio::awaitable<Forwarder::DomainResult> Forwarder::deliver_domain(const std::string& domain,
                                                                   const RelayEnvelope& envelope,
                                                                   const RelayMessage& message) {
  auto outcome = co_await relay_.deliver(domain, envelope, message);
  co_return DomainResult{std::move(outcome.per_recipient)};
}

asio::awaitable<DeliveryReport> Forwarder::deliver(const DeliveryRequest& request) {
  DeliveryReport report;
  const auto digest = memory_.message_digest(request.sender, request.content);

  // One envelope per destination domain, skipping destinations that already took this message.
  std::map<std::string, RelayEnvelope> by_domain;
  const std::string mail_from =
      request.sender.empty() ? std::string() : srs_.forward(request.sender);
  for (const auto& dest : request.destinations) {
    if (memory_.contains(digest, dest)) {
      ++report.already_delivered;
      continue;
    }
    const auto parts = core::split_address(dest);
    if (!parts) continue;
    auto& env = by_domain[std::string(parts->second)];
    env.mail_from = mail_from;
    env.smtputf8 = request.smtputf8;
    env.eightbit = request.eightbit;
    env.recipients.push_back(dest);
  }

  const RelayMessage message{request.trace, request.content};
  std::vector<std::pair<const RelayEnvelope*, DomainResult>> results;
  results.reserve(by_domain.size());
  for (auto& [domain, env] : by_domain) results.emplace_back(&env, DomainResult{});

  if (by_domain.size() == 1) {
    results[0].second =
        co_await deliver_domain(by_domain.begin()->first, *results[0].first, message);
  } else if (!by_domain.empty()) {
    // All domains at once, on this session's strand; the last one to finish wakes us.
    struct Join {
      explicit Join(const asio::any_io_executor& ex) : timer(ex) {}
      asio::steady_timer timer;
      std::size_t pending = 0;
    };
    const auto ex = co_await asio::this_coro::executor;
    auto join = std::make_shared<Join>(ex);
    join->timer.expires_at(asio::steady_timer::time_point::max());
    join->pending = by_domain.size();
    std::size_t i = 0;
    for (auto& [domain, env] : by_domain) {
      auto* slot = &results[i++].second;
      const auto* envp = &env;
      asio::co_spawn(ex, deliver_domain(domain, env, message),
                     [join, slot, envp](const std::exception_ptr& e, DomainResult r) {
                       if (e) {
                         r.per_recipient.assign(envp->recipients.size(),
                                                local_reply(451, "4.3.0", "Local delivery error"));
                       }
                       *slot = std::move(r);
                       if (--join->pending == 0) join->timer.cancel();
                     });
    }
    co_await join->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  const ServerReply* first_deferred = nullptr;
  const ServerReply* first_rejected = nullptr;
  for (const auto& [env, result] : results) {
    for (std::size_t k = 0; k < env->recipients.size() && k < result.per_recipient.size(); ++k) {
      const ServerReply& r = result.per_recipient[k];
      if (r.positive()) {
        ++report.accepted;
        memory_.remember(digest, env->recipients[k]);
      } else if (r.permanent()) {
        ++report.rejected;
        if (!first_rejected) first_rejected = &r;
      } else {
        ++report.deferred;
        if (!first_deferred) first_deferred = &r;
      }
    }
  }

  // A temporary failure anywhere wins: the sender retries, destinations that accepted are
  // remembered and skipped, and a permanent failure is reported on that retry.
  if (first_deferred) {
    report.reply = protocol::make_reply(451, enhanced_or(*first_deferred, "4.4.0"),
                                        "Temporary failure at a destination, please retry: " +
                                            sanitize_remote_text(first_deferred->text()));
  } else if (first_rejected) {
    const int code =
        first_rejected->code >= 550 && first_rejected->code <= 554 ? first_rejected->code : 550;
    report.reply = protocol::make_reply(
        code, enhanced_or(*first_rejected, "5.0.0"),
        "Delivery to a destination failed: " + sanitize_remote_text(first_rejected->text()));
  } else {
    report.reply = protocol::make_reply(250, "2.0.0", "Message forwarded");
  }
  co_return report;
}

}  // namespace sealpost::smtp::client
