// CREATE (RFC 9051 section 6.3.4) with CREATE-SPECIAL-USE (RFC 6154 section 3).
#include "core/strings.hpp"
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;
using store::mailbox::MessageStore;
using store::mailbox::SpecialUse;

namespace {

std::optional<SpecialUse> parse_special_use(std::string_view s) {
  static const std::pair<std::string_view, SpecialUse> kUses[] = {
      {"\\Sent", SpecialUse::kSent},
      {"\\Drafts", SpecialUse::kDrafts},
      {"\\Junk", SpecialUse::kJunk},
      {"\\Trash", SpecialUse::kTrash},
      {"\\Archive", SpecialUse::kArchive}};
  for (const auto& [name, use] : kUses) {
    if (iequals(name, s)) return use;
  }
  return std::nullopt;
}

}  // namespace

asio::awaitable<void> Session::on_create(const Command& cmd) {
  const auto& args = std::get<Create>(cmd.arguments);
  auto name = decode_name(args.mailbox);
  if (name && !name->empty() && name->back() == kDelimiter) name->pop_back();  // "a/" creates "a"
  if (!name || name->empty()) {
    tagged(cmd, "NO", "[CANNOT] Invalid mailbox name");
    co_return;
  }
  SpecialUse use = SpecialUse::kNone;
  for (const auto& u : args.special_use) {
    const auto parsed = parse_special_use(u);
    if (!parsed || use != SpecialUse::kNone) {
      tagged(cmd, "NO", "[USEATTR] Unsupported special-use attribute");
      co_return;
    }
    use = *parsed;
  }
  std::string error;
  co_await with_store([&](MessageStore& s) {
    try {
      s.create_folder(*name, use);
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  if (!error.empty()) {
    tagged(cmd, "NO", std::string(store_error_code(error)) + "Cannot create: " + error);
    co_return;
  }
  mailbox_->changed();
  if (state_ == State::kSelected) co_await refresh(true);
  tagged(cmd, "OK", "CREATE completed");
}

}  // namespace sealpost::imap::server
