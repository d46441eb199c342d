// AUTHENTICATE (RFC 9051 section 6.2.2) with PLAIN (RFC 4616) and LOGIN, and SASL-IR (RFC 4959).
#include "core/base64.hpp"
#include "core/strings.hpp"
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

using namespace protocol;
namespace asio = boost::asio;

asio::awaitable<void> Session::on_authenticate(const Command& cmd) {
  const auto& args = std::get<Authenticate>(cmd.arguments);
  if (refused_password(cmd)) co_return;
  const bool plain = iequals(args.mechanism, "PLAIN");
  const bool login = iequals(args.mechanism, "LOGIN");
  if (!plain && !login) {
    tagged(cmd, "NO", "Unsupported authentication mechanism");
    count_error();
    co_return;
  }
  reader_.next();
  reader_advanced_ = true;
  std::vector<std::string> responses;
  responses.reserve(2);  // never reallocated: a move would leave short strings' copies behind
  std::optional<std::string> initial = args.initial_response;
  const std::size_t steps = plain ? 1 : 2;
  // Decodes one base64 response into `responses`; false after answering BAD.
  const auto take = [&](std::string_view base64) {
    auto decoded = core::base64_decode(base64, core::Base64Mode::kStrict);
    if (!decoded) {
      tagged(cmd, "BAD", "Invalid base64");
      count_error();
      return false;
    }
    responses.push_back(std::move(*decoded));
    wipe(*decoded);
    return true;
  };
  while (responses.size() < steps) {
    if (responses.empty() && initial) {
      if (*initial == "=") {
        responses.emplace_back();
      } else if (!take(*initial)) {
        co_return;
      }
      wipe(*initial);
      continue;
    }
    // RFC 4616: an empty challenge; the LOGIN mechanism's "Username:" and "Password:".
    if (plain) {
      out_ += "+ \r\n";
    } else {
      out_ += responses.empty() ? "+ VXNlcm5hbWU6\r\n" : "+ UGFzc3dvcmQ6\r\n";
    }
    reader_.expect_line();
    const auto status = co_await next_unit();
    if (!status || *status != ReadStatus::kReady) {
      if (status) {
        reader_.discard();
        tagged(cmd, "BAD", "Response too long");
        count_error();
      } else {
        closing_ = true;
      }
      co_return;
    }
    const auto response = parse_sasl_response(reader_.command());
    if (!response || response->cancelled) {
      reader_.next();
      tagged(cmd, "BAD", response ? "Authentication cancelled" : "Invalid base64");
      count_error();
      co_return;
    }
    const bool taken = take(response->base64);
    reader_.next();  // the reader wipes the line (before login, ReaderLimits::wipe)
    if (!taken) co_return;
  }
  std::string user;
  std::string password;
  if (plain) {
    auto creds = access::parse_sasl_plain(responses[0]);
    if (!creds) {
      tagged(cmd, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
      count_error();
      for (auto& r : responses) wipe(r);
      co_return;
    }
    user = std::move(creds->user);
    password = std::move(creds->password);
    wipe(creds->password);
  } else {
    user = responses[0];
    password = responses[1];
  }
  for (auto& r : responses) wipe(r);
  co_await finish_login(cmd, std::move(user), std::move(password));
}

}  // namespace sealpost::imap::server
