// FETCH and UID FETCH (RFC 9051 section 6.4.5): flags, dates, sizes, the ENVELOPE and
// BODYSTRUCTURE cached at delivery, body sections with partials, BINARY (RFC 3516), MODSEQ and
// CHANGEDSINCE/VANISHED (RFC 7162). Messages are read in batches on the worker pool and the
// responses written as they are made, so a FETCH of a large folder holds little memory.
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

void append_literal(std::string& out, std::string_view bytes) {
  out += '{';
  out += std::to_string(bytes.size());
  out += "}\r\n";
  out += bytes;
}

struct Fetched {
  MessageInfo info;
  std::optional<MessageFacts> facts;
  std::optional<std::string> raw;
  bool recent = false;  // IMAP4rev1 \Recent, for this session
};

struct RenderOptions {
  bool add_flags = false;    // \Seen was set by this FETCH: FLAGS goes with the response
  bool add_uid = false;      // UID FETCH, or QRESYNC
  bool add_modseq = false;   // CONDSTORE enabled: MODSEQ goes with FLAGS
  bool with_modseq = false;  // CHANGEDSINCE: MODSEQ goes with every response (RFC 7162 3.1.4.1)
};

// Appends one "* n FETCH (...)" response. False when a BINARY part has an encoding we cannot
// undo (the command then ends with NO [UNKNOWN-CTE]).
bool render(std::string& out, std::uint32_t seq, const Fetched& m,
            const std::vector<FetchItem>& items, const RenderOptions& o) {
  std::optional<mime::Message> parsed;
  if (m.raw) {
    auto p = mime::parse_message(*m.raw);
    if (p) parsed = std::move(p.value());
  }
  bool ok = true;
  out += "* ";
  out += std::to_string(seq);
  out += " FETCH (";
  bool first = true;
  const auto sep = [&] {
    if (!first) out += ' ';
    first = false;
  };
  bool has_flags = false;
  bool has_uid = false;
  bool has_modseq = false;
  for (const auto& item : items) {
    switch (item.attribute) {
      case FetchAttribute::kUid:
        if (has_uid) break;
        has_uid = true;
        sep();
        out += "UID " + std::to_string(m.info.uid);
        break;
      case FetchAttribute::kFlags:
        if (has_flags) break;
        has_flags = true;
        sep();
        out += "FLAGS ";
        append_flags(out, m.info.flags, m.info.keywords, m.recent);
        break;
      case FetchAttribute::kInternalDate:
        sep();
        out += "INTERNALDATE " + internal_date(m.info.internal_date);
        break;
      case FetchAttribute::kRfc822Size:
        sep();
        out += "RFC822.SIZE " + std::to_string(m.info.size);
        break;
      case FetchAttribute::kModSeq:
        if (has_modseq) break;
        has_modseq = true;
        sep();
        out += "MODSEQ (" + std::to_string(m.info.modseq) + ")";
        break;
      case FetchAttribute::kEnvelope:
      case FetchAttribute::kBody:
      case FetchAttribute::kBodyStructure: {
        sep();
        const bool env = item.attribute == FetchAttribute::kEnvelope;
        const bool bs = item.attribute == FetchAttribute::kBodyStructure;
        out += env ? "ENVELOPE " : bs ? "BODYSTRUCTURE " : "BODY ";
        if (m.facts && !(env  ? m.facts->envelope
                         : bs ? m.facts->bodystructure
                              : m.facts->body)
                            .empty()) {
          out += env ? m.facts->envelope : bs ? m.facts->bodystructure : m.facts->body;
        } else if (parsed) {
          // Stored without facts (should not happen): compute them now.
          const auto s = mime::imap_structure(*parsed);
          out += env ? s.envelope : bs ? s.body_structure : s.body;
        } else {
          out += env ? "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"
                     : "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 0 0)";
        }
        break;
      }
      case FetchAttribute::kRfc822:
      case FetchAttribute::kRfc822Header:
      case FetchAttribute::kRfc822Text: {
        sep();
        Section s;
        if (item.attribute == FetchAttribute::kRfc822Header) s.text = SectionText::kHeader;
        if (item.attribute == FetchAttribute::kRfc822Text) s.text = SectionText::kText;
        out += item.attribute == FetchAttribute::kRfc822         ? "RFC822 "
               : item.attribute == FetchAttribute::kRfc822Header ? "RFC822.HEADER "
                                                                 : "RFC822.TEXT ";
        const auto bytes =
            parsed ? body_section(*parsed, s) : Result<std::string, SectionError>(std::string());
        append_literal(out, bytes ? std::string_view(*bytes) : std::string_view());
        break;
      }
      case FetchAttribute::kBodySection: {
        sep();
        out += "BODY[";
        append_section(out, item.section);
        out += ']';
        if (item.partial) out += "<" + std::to_string(item.partial->offset) + ">";
        out += ' ';
        const auto bytes =
            parsed ? body_section(*parsed, item.section)
                   : Result<std::string, SectionError>(unexpected(SectionError::kNoSuchPart));
        if (!bytes) {
          // A part that is not there is empty, as Dovecot answers ("{0}"; NIL is allowed too).
          append_literal(out, {});
        } else {
          append_literal(out, apply_partial(*bytes, item.partial));
        }
        break;
      }
      case FetchAttribute::kBinary:
      case FetchAttribute::kBinarySize: {
        sep();
        const bool size = item.attribute == FetchAttribute::kBinarySize;
        out += size ? "BINARY.SIZE[" : "BINARY[";
        out += part_path(item.section.part);
        out += ']';
        if (!size && item.partial) out += "<" + std::to_string(item.partial->offset) + ">";
        out += ' ';
        const auto bytes =
            parsed ? binary_section(*parsed, item.section.part)
                   : Result<std::string, SectionError>(unexpected(SectionError::kNoSuchPart));
        if (!bytes) {
          const bool unknown = bytes.error() == SectionError::kUnknownEncoding;
          if (unknown) ok = false;
          if (size) {
            out += '0';
          } else if (unknown) {
            out += "NIL";
          } else {
            append_literal(out, {});  // no such part: empty, as for BODY[]
          }
        } else if (size) {
          out += std::to_string(bytes->size());
        } else {
          const auto view = apply_partial(*bytes, item.partial);
          if (view.find('\0') != std::string_view::npos) {
            append_literal8(out, view);
          } else {
            append_literal(out, view);
          }
        }
        break;
      }
    }
  }
  if (o.add_uid && !has_uid) {
    sep();
    out += "UID " + std::to_string(m.info.uid);
  }
  if (o.add_flags && !has_flags) {
    sep();
    out += "FLAGS ";
    append_flags(out, m.info.flags, m.info.keywords, m.recent);
    has_flags = true;
  }
  if (((o.add_modseq && has_flags) || o.with_modseq) && !has_modseq) {
    sep();
    out += "MODSEQ (" + std::to_string(m.info.modseq) + ")";
  }
  out += ")\r\n";
  return ok;
}

}  // namespace

asio::awaitable<void> Session::on_fetch(const Command& cmd) {
  const auto& args = std::get<Fetch>(cmd.arguments);
  std::vector<std::uint32_t> uids;
  std::string error;
  if (!resolve(args.set, cmd.uid, uids, error)) {
    tagged(cmd, "BAD", error);
    count_error();
    co_return;
  }
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
  for (std::size_t start = 0; start < uids.size(); start += batch_size) {
    const std::vector<std::uint32_t> batch(
        uids.begin() + static_cast<std::ptrdiff_t>(start),
        uids.begin() + static_cast<std::ptrdiff_t>(std::min(uids.size(), start + batch_size)));
    std::vector<std::uint64_t> seen_modseqs;
    std::string rendered;
    bool batch_ok = true;
    co_await net::run_blocking(ctx_.blocking, [&] {
      std::vector<Fetched> fetched;
      const auto load = [&](MessageStore& s) {
        if (set_seen) {
          const auto r =
              s.store_flags(id, batch, MessageStore::FlagChange::kAdd, store::mailbox::kSeen, {});
          for (const auto& c : r.changed) seen_modseqs.push_back(c.modseq);
        }
        const auto detail = needs.size ? MessageStore::Detail::kAll : MessageStore::Detail::kFlags;
        for (auto& info : s.messages(id, uid_intervals(batch), detail)) {
          if (args.changed_since && info.modseq <= *args.changed_since) continue;
          Fetched f;
          f.recent = is_recent(info.uid);
          if (needs.facts) f.facts = s.facts(id, info.uid);
          // Header fields only (what a client's message list asks for): the header alone is
          // read, parsed as a message without a body.
          if (needs.raw) f.raw = needs.whole ? s.raw(id, info.uid) : s.header(id, info.uid);
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
      RenderOptions o = options;
      o.add_flags = !seen_modseqs.empty();
      for (const auto& f : fetched) {
        const auto seq = sequence_of(f.info.uid);
        if (!seq) continue;
        // A message with a part nobody can decode gets no FETCH response at all (a BINARY.SIZE
        // of 0 would be cached as true); the command ends in NO [UNKNOWN-CTE].
        std::string one;
        if (render(one, seq, f, args.items, o)) {
          rendered += one;
        } else {
          batch_ok = false;
        }
      }
    });
    if (!seen_modseqs.empty()) {
      own_modseqs_.insert(seen_modseqs.begin(), seen_modseqs.end());
      mailbox_->changed();
    }
    if (!batch_ok) cte_failed = true;
    out_ += rendered;
    if (out_.size() > std::size_t{256} * 1024 && !co_await flush()) {
      closing_ = true;
      co_return;
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
