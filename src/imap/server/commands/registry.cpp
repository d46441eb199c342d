// The handler of each command, in the order of the command table (imap/protocol/command.cpp),
// which names its states, UID form, capability and grammar. Session::dispatch refuses a command
// in a state its row does not name and otherwise calls the handler here.
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

using protocol::CommandName;

// One row per command; a command without a row here fails the build.
const std::array<Session::Handler, protocol::kCommandCount> Session::kHandlers = [] {
  struct Row {
    CommandName id;
    Handler handler;
  };
  // A row left out leaves a zero row at the end, out of order: the assertion below fails.
  constexpr std::array<Row, protocol::kCommandCount> kRows{{
      {CommandName::kCapability, &Session::on_capability},
      {CommandName::kNoop, &Session::on_noop},
      {CommandName::kLogout, &Session::on_logout},
      {CommandName::kStarttls, &Session::on_starttls},
      {CommandName::kAuthenticate, &Session::on_authenticate},
      {CommandName::kLogin, &Session::on_login},
      {CommandName::kEnable, &Session::on_enable},
      {CommandName::kSelect, &Session::on_select},
      {CommandName::kExamine, &Session::on_select},
      {CommandName::kCreate, &Session::on_create},
      {CommandName::kDelete, &Session::on_delete},
      {CommandName::kRename, &Session::on_rename},
      {CommandName::kSubscribe, &Session::on_subscribe},
      {CommandName::kUnsubscribe, &Session::on_subscribe},
      {CommandName::kList, &Session::on_list},
      {CommandName::kLsub, &Session::on_list},
      {CommandName::kNamespace, &Session::on_namespace},
      {CommandName::kStatus, &Session::on_status},
      {CommandName::kAppend, &Session::on_append},
      {CommandName::kIdle, &Session::on_idle},
      {CommandName::kCheck, &Session::on_noop},
      {CommandName::kClose, &Session::on_close},
      {CommandName::kUnselect, &Session::on_close},
      {CommandName::kExpunge, &Session::on_expunge},
      {CommandName::kSearch, &Session::on_search},
      {CommandName::kFetch, &Session::on_fetch},
      {CommandName::kStore, &Session::on_store},
      {CommandName::kCopy, &Session::on_copy},
      {CommandName::kMove, &Session::on_copy},
      {CommandName::kSort, &Session::on_sort},
      {CommandName::kThread, &Session::on_thread},
      {CommandName::kId, &Session::on_id},
      {CommandName::kGetQuota, &Session::on_quota},
      {CommandName::kGetQuotaRoot, &Session::on_quota},
      {CommandName::kSetQuota, &Session::on_quota},
  }};
  static_assert(
      [&] {
        for (std::size_t i = 0; i < kRows.size(); ++i) {
          if (static_cast<std::size_t>(kRows[i].id) != i) return false;
        }
        return true;
      }(),
      "one handler per command, in CommandName order");
  std::array<Handler, protocol::kCommandCount> handlers{};
  for (std::size_t i = 0; i < kRows.size(); ++i) handlers[i] = kRows[i].handler;
  return handlers;
}();

}  // namespace sealpost::imap::server
