// SEARCH and UID SEARCH (RFC 9051 section 6.4.4) with ESEARCH (RFC 4731), SEARCHRES (RFC 5182)
// and CONDSTORE's MODSEQ (RFC 7162).
#include <algorithm>
#include <span>

#include "imap/protocol/response.hpp"
#include "imap/server/search_program.hpp"
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;
using store::mailbox::MessageStore;

asio::awaitable<void> Session::on_search(const Command& cmd) {
  const auto& args = std::get<Search>(cmd.arguments);
  if (refused_charset(cmd, args.charset)) co_return;
  const auto id = sel_->folder_id;
  bool uses_modseq = false;
  const auto matches = co_await search_store(args.criteria, [&, id](MessageStore& s) {
    return run_search(s, id, sel_->uids, sel_->saved, sel_->recent, args.criteria, uses_modseq);
  });
  if (uses_modseq) condstore_ = true;
  std::vector<std::uint32_t> numbers;
  std::uint64_t highest = 0;
  for (const auto& m : matches) {
    numbers.push_back(cmd.uid ? m.info.uid : m.seq);
    highest = std::max(highest, m.info.modseq);
  }
  const auto& r = args.returns;
  if (r.save) {
    std::vector<std::uint32_t> saved;
    if ((r.min || r.max) && !r.all && !r.count) {
      // RFC 5182 section 2.4: with MIN and/or MAX alone only those are saved.
      if (!matches.empty() && r.min) saved.push_back(matches.front().info.uid);
      if (!matches.empty() && r.max && (saved.empty() || saved.back() != matches.back().info.uid)) {
        saved.push_back(matches.back().info.uid);
      }
    } else {
      for (const auto& m : matches) saved.push_back(m.info.uid);
    }
    std::sort(saved.begin(), saved.end());
    sel_->saved = std::move(saved);
  }
  if (args.esearch || rev2_) {
    const bool only_save = r.save && !r.min && !r.max && !r.all && !r.count;
    if (!only_save) {
      const bool all = r.all || (!r.min && !r.max && !r.count);
      out_ += "* ESEARCH (TAG ";
      append_string(out_, cmd.tag);
      out_ += ')';
      if (cmd.uid) out_ += " UID";
      if (!numbers.empty()) {
        if (r.min) out_ += " MIN " + std::to_string(numbers.front());
        if (r.max) out_ += " MAX " + std::to_string(numbers.back());
      }
      if (r.count) out_ += " COUNT " + std::to_string(numbers.size());
      if (all && !numbers.empty()) {
        out_ += " ALL ";
        // In pieces: a run that spans two of them is written as two ranges, still one set.
        constexpr std::size_t kPiece = 16 * 1024;
        const std::span<const std::uint32_t> all_numbers(numbers);
        for (std::size_t i = 0; i < numbers.size(); i += kPiece) {
          if (i > 0) out_ += ',';
          append_sequence_set(out_, all_numbers.subspan(i, std::min(kPiece, numbers.size() - i)));
          if (!co_await flush_if_large()) {
            closing_ = true;
            co_return;
          }
        }
      }
      if (uses_modseq && !numbers.empty()) out_ += " MODSEQ " + std::to_string(highest);
      out_ += "\r\n";
    }
  } else {
    out_ += "* SEARCH";
    if (!co_await send_numbers(numbers)) {
      closing_ = true;
      co_return;
    }
    if (uses_modseq && !numbers.empty()) out_ += " (MODSEQ " + std::to_string(highest) + ")";
    out_ += "\r\n";
  }
  co_await refresh(cmd.uid);
  tagged(cmd, "OK", "SEARCH completed");
}

}  // namespace sealpost::imap::server
