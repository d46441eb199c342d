// SORT and UID SORT (RFC 5256 section 3): the messages SEARCH criteria select, in the order of
// the sort keys, ties in sequence order.
#include <algorithm>
#include <compare>

#include "core/strings.hpp"
#include "imap/server/search_program.hpp"
#include "imap/server/session_impl.hpp"
#include "mime/encoded_word.hpp"
#include "mime/header.hpp"
#include "mime/imap_structure.hpp"
#include "mime/message.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;
using store::mailbox::MessageInfo;
using store::mailbox::MessageStore;

namespace {

struct SortFields {
  std::string subject;
  std::string from;
  std::string to;
  std::string cc;
  std::int64_t date = 0;
};

std::string first_mailbox(const mime::Part& root, std::string_view field) {
  const auto* f = mime::find_field(root, field);
  if (!f) return {};
  const auto addrs = mime::parse_envelope_addresses(mime::unfold(f->value), 4);
  for (const auto& a : addrs) {
    if (a.mailbox && a.host) return to_lower_ascii(*a.mailbox);
  }
  return {};
}

SortFields sort_fields(MessageStore& s, std::int64_t folder, const MessageInfo& m,
                       const std::vector<SortCriterion>& order) {
  SortFields f;
  f.date = m.internal_date;
  bool need_header = false;
  bool need_date = false;
  for (const auto& c : order) {
    if (c.key == SortKey::kSubject || c.key == SortKey::kFrom || c.key == SortKey::kTo ||
        c.key == SortKey::kCc) {
      need_header = true;
    }
    if (c.key == SortKey::kDate) need_date = true;
  }
  if (need_date) {
    const auto facts = s.facts(folder, m.uid);
    if (facts && facts->sent_date) f.date = facts->sent_date;
  }
  if (need_header) {
    const auto raw = s.raw(folder, m.uid);
    if (raw) {
      const auto parsed = mime::parse_message(*raw);
      if (parsed) {
        const auto& root = parsed->root;
        if (const auto* subj = mime::find_field(root, "Subject"))
          f.subject = base_subject(subj->value);
        f.from = first_mailbox(root, "From");
        f.to = first_mailbox(root, "To");
        f.cc = first_mailbox(root, "Cc");
      }
    }
  }
  return f;
}

}  // namespace

asio::awaitable<void> Session::on_sort(const Command& cmd) {
  const auto& args = std::get<Sort>(cmd.arguments);
  if (refused_charset(cmd, args.charset)) co_return;
  const auto id = sel_->folder_id;
  const auto sorted = co_await search_store(args.criteria, [&, id](MessageStore& s) {
    bool uses_modseq = false;
    const bool by_size =
        std::any_of(args.order.begin(), args.order.end(),
                    [](const SortCriterion& c) { return c.key == SortKey::kSize; });
    auto matches = run_search(s, id, sel_->uids, sel_->saved, sel_->recent, args.criteria,
                              uses_modseq, by_size);
    std::vector<std::pair<SortFields, Match>> rows;
    rows.reserve(matches.size());
    for (auto& m : matches) rows.emplace_back(sort_fields(s, id, m.info, args.order), std::move(m));
    std::stable_sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
      for (const auto& c : args.order) {
        std::strong_ordering cmp = std::strong_ordering::equal;
        switch (c.key) {
          case SortKey::kArrival:
            cmp = a.second.info.internal_date <=> b.second.info.internal_date;
            break;
          case SortKey::kDate:
            cmp = a.first.date <=> b.first.date;
            break;
          case SortKey::kSize:
            cmp = a.second.info.size <=> b.second.info.size;
            break;
          case SortKey::kSubject:
            cmp = a.first.subject <=> b.first.subject;
            break;
          case SortKey::kFrom:
            cmp = a.first.from <=> b.first.from;
            break;
          case SortKey::kTo:
            cmp = a.first.to <=> b.first.to;
            break;
          case SortKey::kCc:
            cmp = a.first.cc <=> b.first.cc;
            break;
        }
        if (cmp != 0) return c.reverse ? cmp > 0 : cmp < 0;
      }
      return a.second.seq < b.second.seq;
    });
    std::vector<std::uint32_t> out;
    for (const auto& r : rows) out.push_back(cmd.uid ? r.second.info.uid : r.second.seq);
    return out;
  });
  out_ += "* SORT";
  if (!co_await send_numbers(sorted)) {
    closing_ = true;
    co_return;
  }
  out_ += "\r\n";
  co_await refresh(cmd.uid);
  tagged(cmd, "OK", "SORT completed");
}

}  // namespace sealpost::imap::server
