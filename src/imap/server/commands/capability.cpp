// CAPABILITY (RFC 9051 section 6.1.1), and the list the greeting and a login's OK carry too.
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

using namespace protocol;
namespace asio = boost::asio;

std::string Session::capabilities() const {
  std::string c = "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE IDLE";
  const bool tls = conn_.is_tls();
  if (state_ == State::kNotAuthenticated) {
    if (!tls && ctx_.tls) c += " STARTTLS";
    if (access::password_allowed(ctx_, tls, client_ip_)) {
      c += " AUTH=PLAIN AUTH=LOGIN";
    } else {
      c += " LOGINDISABLED";
    }
    return c;
  }
  // The capabilities that announce commands, from the command table (NAMESPACE, UNSELECT,
  // MOVE, QUOTA, SORT...), then those that extend commands.
  for (const CommandSpec& spec : command_specs()) {
    const bool after_login =
        spec.states.has(State::kAuthenticated) || spec.states.has(State::kSelected);
    if (spec.capability.empty() || !after_login) continue;
    if ((" " + c + " ").find(" " + std::string(spec.capability) + " ") == std::string::npos) {
      c += ' ';
      c += spec.capability;
    }
  }
  c += " UIDPLUS CONDSTORE QRESYNC SPECIAL-USE CREATE-SPECIAL-USE LIST-EXTENDED LIST-STATUS"
       " CHILDREN ESEARCH SEARCHRES STATUS=SIZE QUOTA=RES-STORAGE APPENDLIMIT=";
  c += std::to_string(ctx_.config.limits.max_message_size);
  c += " UTF8=ACCEPT BINARY";
  return c;
}

asio::awaitable<void> Session::on_capability(const Command& cmd) {
  out_ += "* CAPABILITY " + capabilities() + "\r\n";
  tagged(cmd, "OK", "CAPABILITY completed");
  co_return;
}

}  // namespace sealpost::imap::server
