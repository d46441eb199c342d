// ENABLE (RFC 5161): CONDSTORE, QRESYNC, UTF8=ACCEPT and IMAP4rev2.
#include "core/strings.hpp"
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

using namespace protocol;
namespace asio = boost::asio;

asio::awaitable<void> Session::on_enable(const Command& cmd) {
  std::string enabled;
  for (const auto& c : std::get<Enable>(cmd.arguments).capabilities) {
    std::string_view name;
    if (iequals(c, "CONDSTORE")) {
      name = "CONDSTORE";
      condstore_ = true;
    } else if (iequals(c, "QRESYNC")) {
      name = "QRESYNC";
      qresync_ = condstore_ = true;
    } else if (iequals(c, "UTF8=ACCEPT")) {
      name = "UTF8=ACCEPT";
      utf8_ = true;
    } else if (iequals(c, "IMAP4rev2")) {
      name = "IMAP4rev2";
      rev2_ = true;
      utf8_ = true;  // IMAP4rev2 mailbox names are UTF-8
    } else {
      continue;
    }
    if (enabled.find(name) == std::string::npos) {
      enabled += ' ';
      enabled += name;
    }
  }
  out_ += "* ENABLED" + enabled + "\r\n";
  tagged(cmd, "OK", "ENABLE completed");
  co_return;
}

}  // namespace sealpost::imap::server
