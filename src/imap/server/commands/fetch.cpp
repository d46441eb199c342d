// FETCH and UID FETCH (RFC 9051 section 6.4.5): flags, dates, sizes, the ENVELOPE and
// BODYSTRUCTURE cached at delivery, body sections with partials, BINARY (RFC 3516), MODSEQ and
// CHANGEDSINCE/VANISHED (RFC 7162).
//
// What one FETCH holds is bounded whatever it asks: messages are read in batches on the worker
// pool, at most kBatchBytes of message octets per batch (one message more when it is larger),
// and each response is written as it is made, its literals sent in pieces straight from the
// stored octets (Session::send_literal), so the output buffer never holds more than
// kOutputHigh + kOutputPiece. The parser has merged repeated items, so BODY.PEEK[] asked a
// thousand times is sent once per message.
#include <algorithm>

#include "core/strings.hpp"
#include "imap/protocol/fetch_body.hpp"
#include "imap/protocol/response.hpp"
#include "imap/server/session_impl.hpp"
#include "mime/imap_structure.hpp"
#include "mime/message.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;
using store::mailbox::MessageFacts;
using store::mailbox::MessageInfo;
using store::mailbox::MessageStore;

namespace {

// Message octets one batch reads before it is sent: what a FETCH of many large messages holds.
constexpr std::uint64_t kBatchBytes = std::uint64_t{1} << 20;

struct Needs {
  bool facts = false;
  bool raw = false;
  bool whole = false;  // raw: more than the top-level header is needed
  bool sets_seen = false;
  bool flags = false;
  bool uid = false;
  bool modseq = false;
  bool size = false;  // RFC822.SIZE: the listing reads the bodies' sizes
};

Needs needs_of(const std::vector<FetchItem>& items) {
  Needs n;
  for (const auto& i : items) {
    switch (i.attribute) {
      case FetchAttribute::kEnvelope:
      case FetchAttribute::kBody:
      case FetchAttribute::kBodyStructure:
        n.facts = true;
        break;
      case FetchAttribute::kFlags:
        n.flags = true;
        break;
      case FetchAttribute::kUid:
        n.uid = true;
        break;
      case FetchAttribute::kModSeq:
        n.modseq = true;
        break;
      case FetchAttribute::kRfc822:
      case FetchAttribute::kRfc822Text:
        n.raw = n.whole = n.sets_seen = true;
        break;
      case FetchAttribute::kRfc822Header:
        n.raw = true;
        break;
      case FetchAttribute::kBinarySize:
        n.raw = n.whole = true;
        break;
      case FetchAttribute::kBodySection: {
        n.raw = true;
        const auto t = i.section.text;
        const bool header = i.section.part.empty() &&
                            (t == SectionText::kHeader || t == SectionText::kHeaderFields ||
                             t == SectionText::kHeaderFieldsNot);
        if (!header) n.whole = true;
        if (!i.peek) n.sets_seen = true;
        break;
      }
      case FetchAttribute::kBinary:
        n.raw = n.whole = true;
        if (!i.peek) n.sets_seen = true;
        break;
      case FetchAttribute::kRfc822Size:
        n.size = true;
        break;
      case FetchAttribute::kInternalDate:
        break;
    }
  }
  return n;
}

struct Fetched {
  MessageInfo info;
  std::optional<MessageFacts> facts;
  // The stored octets (the whole message or its header) at a fixed address: `parsed` points
  // into them.
  std::unique_ptr<std::string> raw;
  std::optional<mime::Message> parsed;
  bool recent = false;  // IMAP4rev1 \Recent, for this session
};

struct RenderOptions {
  bool add_uid = false;      // UID FETCH, or QRESYNC
  bool add_modseq = false;   // CONDSTORE enabled: MODSEQ goes with FLAGS
  bool with_modseq = false;  // CHANGEDSINCE: MODSEQ goes with every response (RFC 7162 3.1.4.1)
};

// A literal of a FETCH response, sent by the session in pieces.
struct Literal {
  SectionBytes section;
  std::optional<Partial> partial;
  bool binary = false;  // BINARY[]: literal8 when it holds a NUL

  [[nodiscard]] std::string_view bytes() const { return apply_partial(section.bytes(), partial); }
};

// Whether every BINARY item can be answered: a message with a part nobody can decode gets no
// FETCH response at all (a BINARY.SIZE of 0 would be cached as true) and the command ends in
// NO [UNKNOWN-CTE]. Checked before the response starts, as it is sent while it is made.
bool binary_answerable(const Fetched& m, const std::vector<FetchItem>& items) {
  if (!m.parsed) return true;
  return std::none_of(items.begin(), items.end(), [&](const FetchItem& i) {
    return (i.attribute == FetchAttribute::kBinary || i.attribute == FetchAttribute::kBinarySize) &&
           !binary_decodable(*m.parsed, i.section.part);
  });
}

// One "* n FETCH (...)" response, item by item: item() appends an item's name and value to
// `out` and returns the octets of its literal, which the caller sends after it; finish() ends
// the response.
class FetchResponse {
 public:
  FetchResponse(std::string& out, std::uint32_t seq, const Fetched& m, bool seen_set,
                const RenderOptions& o)
      : out_(out), m_(m), seen_set_(seen_set), o_(o) {
    out_ += "* ";
    out_ += std::to_string(seq);
    out_ += " FETCH (";
  }

  std::optional<Literal> item(const FetchItem& item) {
    switch (item.attribute) {
      case FetchAttribute::kUid:
        if (has_uid_) break;
        has_uid_ = true;
        sep();
        out_ += "UID " + std::to_string(m_.info.uid);
        break;
      case FetchAttribute::kFlags:
        if (has_flags_) break;
        has_flags_ = true;
        sep();
        out_ += "FLAGS ";
        append_flags(out_, m_.info.flags, m_.info.keywords, m_.recent);
        break;
      case FetchAttribute::kInternalDate:
        sep();
        out_ += "INTERNALDATE " + internal_date(m_.info.internal_date);
        break;
      case FetchAttribute::kRfc822Size:
        sep();
        out_ += "RFC822.SIZE " + std::to_string(m_.info.size);
        break;
      case FetchAttribute::kModSeq:
        if (has_modseq_) break;
        has_modseq_ = true;
        sep();
        out_ += "MODSEQ (" + std::to_string(m_.info.modseq) + ")";
        break;
      case FetchAttribute::kEnvelope:
      case FetchAttribute::kBody:
      case FetchAttribute::kBodyStructure:
        structure(item.attribute);
        break;
      case FetchAttribute::kRfc822:
      case FetchAttribute::kRfc822Header:
      case FetchAttribute::kRfc822Text: {
        sep();
        Section s;
        if (item.attribute == FetchAttribute::kRfc822Header) s.text = SectionText::kHeader;
        if (item.attribute == FetchAttribute::kRfc822Text) s.text = SectionText::kText;
        out_ += item.attribute == FetchAttribute::kRfc822         ? "RFC822 "
                : item.attribute == FetchAttribute::kRfc822Header ? "RFC822.HEADER "
                                                                  : "RFC822.TEXT ";
        Literal l;
        if (m_.parsed) {
          if (auto bytes = body_section(*m_.parsed, s)) l.section = std::move(*bytes);
        }
        return l;
      }
      case FetchAttribute::kBodySection: {
        sep();
        out_ += "BODY[";
        append_section(out_, item.section);
        out_ += ']';
        if (item.partial) out_ += "<" + std::to_string(item.partial->offset) + ">";
        out_ += ' ';
        // A part that is not there is empty, as Dovecot answers ("{0}"; NIL is allowed too).
        Literal l;
        if (m_.parsed) {
          if (auto bytes = body_section(*m_.parsed, item.section)) {
            l.section = std::move(*bytes);
            l.partial = item.partial;
          }
        }
        return l;
      }
      case FetchAttribute::kBinary:
      case FetchAttribute::kBinarySize: {
        sep();
        const bool size = item.attribute == FetchAttribute::kBinarySize;
        out_ += size ? "BINARY.SIZE[" : "BINARY[";
        out_ += part_path(item.section.part);
        out_ += ']';
        if (!size && item.partial) out_ += "<" + std::to_string(item.partial->offset) + ">";
        out_ += ' ';
        // binary_answerable() has ruled out an encoding we cannot undo: an error here is a
        // part that is not there, empty as for BODY[].
        auto bytes =
            m_.parsed ? binary_section(*m_.parsed, item.section.part)
                      : Result<SectionBytes, SectionError>(unexpected(SectionError::kNoSuchPart));
        if (size) {
          out_ += bytes ? std::to_string(bytes->bytes().size()) : "0";
          break;
        }
        Literal l;
        l.binary = true;
        if (bytes) {
          l.section = std::move(*bytes);
          l.partial = item.partial;
        }
        return l;
      }
    }
    return std::nullopt;
  }

  void finish() {
    if (o_.add_uid && !has_uid_) {
      sep();
      out_ += "UID " + std::to_string(m_.info.uid);
    }
    if (seen_set_ && !has_flags_) {
      sep();
      out_ += "FLAGS ";
      append_flags(out_, m_.info.flags, m_.info.keywords, m_.recent);
      has_flags_ = true;
    }
    if (((o_.add_modseq && has_flags_) || o_.with_modseq) && !has_modseq_) {
      sep();
      out_ += "MODSEQ (" + std::to_string(m_.info.modseq) + ")";
    }
    out_ += ")\r\n";
  }

 private:
  void sep() {
    if (!first_) out_ += ' ';
    first_ = false;
  }

  void structure(FetchAttribute attribute) {
    sep();
    const bool env = attribute == FetchAttribute::kEnvelope;
    const bool bs = attribute == FetchAttribute::kBodyStructure;
    out_ += env ? "ENVELOPE " : bs ? "BODYSTRUCTURE " : "BODY ";
    if (m_.facts && !(env  ? m_.facts->envelope
                      : bs ? m_.facts->bodystructure
                           : m_.facts->body)
                         .empty()) {
      out_ += env ? m_.facts->envelope : bs ? m_.facts->bodystructure : m_.facts->body;
    } else if (m_.parsed) {
      // Stored without facts (should not happen): compute them now.
      const auto s = mime::imap_structure(*m_.parsed);
      out_ += env ? s.envelope : bs ? s.body_structure : s.body;
    } else {
      out_ += env ? "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"
                  : "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 0 0)";
    }
  }

  std::string& out_;
  const Fetched& m_;
  bool seen_set_;
  const RenderOptions& o_;
  bool first_ = true;
  bool has_flags_ = false;
  bool has_uid_ = false;
  bool has_modseq_ = false;
};

}  // namespace

asio::awaitable<void> Session::on_fetch(const Command& cmd) {
  const auto& args = std::get<Fetch>(cmd.arguments);
  std::vector<std::uint32_t> uids;
  if (!resolve_or_refuse(cmd, args.set, uids)) co_return;
  if (args.vanished && !qresync_) {
    tagged(cmd, "BAD", "VANISHED needs QRESYNC enabled");
    count_error();
    co_return;
  }
  const Needs needs = needs_of(args.items);
  if (args.changed_since || needs.modseq) condstore_ = true;
  const auto id = sel_->folder_id;
  const bool set_seen = needs.sets_seen && !sel_->read_only;

  if (args.vanished && args.changed_since) {
    // RFC 7162 section 3.2.6: the UIDs in the set expunged since the given MODSEQ.
    const auto since = *args.changed_since;
    const auto gone =
        co_await read_store([id, since](MessageStore& s) { return s.expunged_since(id, since); });
    const std::uint32_t largest = sel_->uids.empty() ? 0 : sel_->uids.back();
    std::vector<std::uint32_t> vanished;
    for (const auto u : gone) {
      if (args.set.contains(u, std::max(largest, u))) vanished.push_back(u);
    }
    if (!vanished.empty()) {
      out_ += "* VANISHED (EARLIER) ";
      append_sequence_set(out_, vanished);
      out_ += "\r\n";
    }
  }

  RenderOptions options;
  options.add_uid = cmd.uid || qresync_;
  options.add_modseq = condstore_;
  options.with_modseq = args.changed_since.has_value();
  bool cte_failed = false;
  const std::size_t batch_size = needs.whole ? 32 : 512;
  // The UIDs whose \Seen this command set: their responses carry FLAGS. A batch may stop
  // short of its UIDs (kBatchBytes), so this outlives the batch that set them.
  std::vector<std::uint32_t> seen_set;
  std::size_t start = 0;
  while (start < uids.size()) {
    const std::vector<std::uint32_t> batch(
        uids.begin() + static_cast<std::ptrdiff_t>(start),
        uids.begin() + static_cast<std::ptrdiff_t>(std::min(uids.size(), start + batch_size)));
    std::vector<std::uint64_t> seen_modseqs;
    std::vector<Fetched> fetched;
    std::size_t done = batch.size();  // the UIDs of `batch` this round has read
    co_await net::run_blocking(ctx_.blocking, [&] {
      const auto load = [&](MessageStore& s) {
        if (set_seen) {
          const auto r =
              s.store_flags(id, batch, MessageStore::FlagChange::kAdd, store::mailbox::kSeen, {});
          for (const auto& c : r.changed) {
            seen_modseqs.push_back(c.modseq);
            seen_set.push_back(c.uid);
          }
        }
        const auto detail = needs.size ? MessageStore::Detail::kAll : MessageStore::Detail::kFlags;
        std::uint64_t octets = 0;
        for (auto& info : s.messages(id, uid_intervals(batch), detail)) {
          if (octets >= kBatchBytes) {
            done = static_cast<std::size_t>(std::lower_bound(batch.begin(), batch.end(), info.uid) -
                                            batch.begin());
            break;
          }
          if (args.changed_since && info.modseq <= *args.changed_since) continue;
          Fetched f;
          f.recent = is_recent(info.uid);
          if (needs.facts) f.facts = s.facts(id, info.uid);
          // Header fields only (what a client's message list asks for): the header alone is
          // read, parsed as a message without a body.
          if (needs.raw) {
            auto raw = needs.whole ? s.raw(id, info.uid) : s.header(id, info.uid);
            if (raw) {
              octets += raw->size();
              f.raw = std::make_unique<std::string>(std::move(*raw));
              auto p = mime::parse_message(*f.raw);
              if (p) f.parsed = std::move(p.value());
            }
          }
          f.info = std::move(info);
          fetched.push_back(std::move(f));
        }
      };
      // Setting \Seen writes; anything else reads beside the other sessions.
      if (set_seen) {
        mailbox_->with(load);
      } else {
        mailbox_->read(load);
      }
    });
    start += done;
    if (!seen_modseqs.empty()) {
      own_modseqs_.insert(seen_modseqs.begin(), seen_modseqs.end());
      mailbox_->changed();
      std::sort(seen_set.begin(), seen_set.end());
    }
    for (auto& f : fetched) {
      const auto seq = sequence_of(f.info.uid);
      if (!seq) continue;
      if (!binary_answerable(f, args.items)) {
        cte_failed = true;
        continue;
      }
      const bool seen_now = std::binary_search(seen_set.begin(), seen_set.end(), f.info.uid);
      FetchResponse response(out_, seq, f, seen_now, options);
      for (const auto& item : args.items) {
        const auto literal = response.item(item);
        if (literal && !co_await send_literal(literal->bytes(), literal->binary)) {
          closing_ = true;
          co_return;
        }
      }
      response.finish();
      // The message's octets are sent: let them go before the next one is made.
      f = Fetched{};
      if (!co_await flush_if_large()) {
        closing_ = true;
        co_return;
      }
    }
  }
  co_await refresh(cmd.uid);
  if (cte_failed) {
    tagged(cmd, "NO",
           "[UNKNOWN-CTE] A part has a Content-Transfer-Encoding that cannot be decoded");
    co_return;
  }
  tagged(cmd, "OK", "FETCH completed");
}

}  // namespace sealpost::imap::server
