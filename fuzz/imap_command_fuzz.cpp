// The IMAP command reader and parser on arbitrary bytes, fed whole and in pieces, as a session
// drives them (literals accepted, refusals discarded, IDLE and AUTHENTICATE followed by plain
// lines). Invariants a server depends on: what is framed does not depend on how the bytes
// arrived; feed() never consumes more than it is given and stops early only to hand something
// to the session; no command passes the reader's limits; every parsed value is within the
// parser's limits; what the response helpers write parses back to the same value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "imap/protocol/command.hpp"
#include "imap/protocol/response.hpp"

namespace {

using namespace sealpost::imap::protocol;

struct Run {
  std::string log;
  std::size_t consumed = 0;
};

struct Config {
  ReaderLimits limits;
  ParseOptions options;
};

void check_set(const SequenceSet& s, const ParseOptions& o) {
  if (s.ranges.size() > o.max_ranges) __builtin_trap();
  if (s.saved != s.ranges.empty()) __builtin_trap();
  for (const SeqRange& r : s.ranges) {
    (void)s.contains(r.first, 7);
  }
  const auto iv = s.intervals(100);
  for (std::size_t i = 0; i < iv.size(); ++i) {
    if (iv[i].first > iv[i].second) __builtin_trap();
    if (i > 0 && iv[i].first <= iv[i - 1].second) __builtin_trap();
  }
}

// Returns the depth of `k`; traps past the limit.
std::size_t check_key(const SearchKey& k, const ParseOptions& o, std::size_t depth,
                      std::size_t& count) {
  if (depth > o.max_depth) __builtin_trap();
  ++count;
  if (k.type == SearchKeyType::kUid || k.type == SearchKeyType::kSequenceSet) check_set(k.set, o);
  if (k.type == SearchKeyType::kNot && k.children.size() != 1) __builtin_trap();
  if (k.type == SearchKeyType::kOr && k.children.size() != 2) __builtin_trap();
  for (const SearchKey& c : k.children) check_key(c, o, depth + 1, count);
  return count;
}

void check_search(const SearchKey& root, const ParseOptions& o) {
  if (root.type != SearchKeyType::kAnd || root.children.empty()) __builtin_trap();
  std::size_t count = 0;
  for (const SearchKey& k : root.children) check_key(k, o, 1, count);
  if (count > o.max_search_keys) __builtin_trap();
}

void round_trip_mailbox(const std::string& name, const ParseOptions& o) {
  std::string line = "t SELECT ";
  append_astring(line, name, o.utf8);
  auto again = parse_command(line, o);
  if (!again || std::get<Select>(again->arguments).mailbox != name) __builtin_trap();
  if (auto decoded = decode_mutf7(name)) {
    auto encoded = encode_mutf7(*decoded);
    if (!encoded || decode_mutf7(*encoded) != decoded) __builtin_trap();
  }
  if (auto encoded = encode_mutf7(name)) {
    if (decode_mutf7(*encoded) != name) __builtin_trap();
  }
}

void check_command(const Command& c, std::string_view text, const ParseOptions& o) {
  if (c.tag.empty() || c.tag.size() > text.size()) __builtin_trap();
  if (const auto* s = std::get_if<Select>(&c.arguments)) {
    round_trip_mailbox(s->mailbox, o);
    if (s->qresync && s->qresync->known_uids) check_set(*s->qresync->known_uids, o);
  } else if (const auto* a = std::get_if<Append>(&c.arguments)) {
    if (a->message.data() < text.data() ||
        a->message.data() + a->message.size() > text.data() + text.size()) {
      __builtin_trap();
    }
    if (a->flags.size() > o.max_items) __builtin_trap();
  } else if (const auto* f = std::get_if<Fetch>(&c.arguments)) {
    check_set(f->set, o);
    if (f->items.empty() || f->items.size() > o.max_items + 5) __builtin_trap();
    if (f->vanished && (!c.uid || !f->changed_since)) __builtin_trap();
    // Repeated items are merged; the distinct ones that send octets are bounded.
    std::size_t sections = 0;
    for (std::size_t i = 0; i < f->items.size(); ++i) {
      const FetchItem& a = f->items[i];
      const FetchAttribute t = a.attribute;
      if (t == FetchAttribute::kBodySection || t == FetchAttribute::kBinary ||
          t == FetchAttribute::kRfc822 || t == FetchAttribute::kRfc822Header ||
          t == FetchAttribute::kRfc822Text) {
        ++sections;
      }
      for (std::size_t j = 0; j < i; ++j) {
        const FetchItem& b = f->items[j];
        if (a.attribute == b.attribute && a.section.part == b.section.part &&
            a.section.text == b.section.text && a.section.fields == b.section.fields &&
            a.partial.has_value() == b.partial.has_value() &&
            (!a.partial ||
             (a.partial->offset == b.partial->offset && a.partial->length == b.partial->length))) {
          __builtin_trap();
        }
      }
    }
    if (sections > o.max_fetch_sections) __builtin_trap();
    for (const FetchItem& item : f->items) {
      if (item.attribute != FetchAttribute::kBodySection) continue;
      std::string line = "t FETCH 1 BODY[";
      append_section(line, item.section);
      line += ']';
      auto again = parse_command(line, o);
      if (!again) __builtin_trap();
      const Section& s = std::get<Fetch>(again->arguments).items.at(0).section;
      if (s.part != item.section.part || s.text != item.section.text ||
          s.fields != item.section.fields) {
        __builtin_trap();
      }
    }
  } else if (const auto* s = std::get_if<Search>(&c.arguments)) {
    check_search(s->criteria, o);
  } else if (const auto* so = std::get_if<Sort>(&c.arguments)) {
    check_search(so->criteria, o);
    if (so->order.empty()) __builtin_trap();
  } else if (const auto* t = std::get_if<Thread>(&c.arguments)) {
    check_search(t->criteria, o);
  } else if (const auto* st = std::get_if<Store>(&c.arguments)) {
    check_set(st->set, o);
    std::string flags;
    append_flag_list(flags, st->flags);
  } else if (const auto* cm = std::get_if<CopyMove>(&c.arguments)) {
    check_set(cm->set, o);
    round_trip_mailbox(cm->mailbox, o);
  } else if (const auto* l = std::get_if<List>(&c.arguments)) {
    if (l->patterns.empty()) __builtin_trap();
  } else if (const auto* id = std::get_if<Id>(&c.arguments)) {
    if (id->fields.size() > 30) __builtin_trap();
  }
}

Run feed_in_pieces(std::string_view input, std::size_t piece, const Config& cfg) {
  CommandReader reader(cfg.limits);
  Run r;
  bool plain = false;
  while (r.consumed < input.size()) {
    const std::string_view chunk = input.substr(r.consumed, piece);
    std::size_t n = SIZE_MAX;
    const ReadStatus status = reader.feed(chunk, n);
    if (n > chunk.size()) __builtin_trap();
    r.consumed += n;
    switch (status) {
      case ReadStatus::kNeedMore:
        if (n != chunk.size()) __builtin_trap();
        break;
      case ReadStatus::kReady: {
        const std::string_view text = reader.command();
        if (text.size() > cfg.limits.max_command) __builtin_trap();
        if (reader.literals().size() > cfg.limits.max_literals) __builtin_trap();
        for (const LiteralInfo& lit : reader.literals()) {
          if (lit.offset > text.size() || lit.size > text.size() - lit.offset) __builtin_trap();
          if (lit.size > cfg.limits.max_literal) __builtin_trap();
        }
        r.log += plain ? 'L' : 'R';
        r.log.append(text);
        r.log += '\n';
        bool next_plain = false;
        if (plain) {
          (void)is_idle_done(text);
          if (auto sasl = parse_sasl_response(text); sasl && !sasl->cancelled) {
            if (sasl->base64.size() % 4 != 0) __builtin_trap();
          }
        } else if (auto parsed = parse_command(text, cfg.options)) {
          check_command(*parsed, text, cfg.options);
          Command wiped = *parsed;
          wipe_credentials(wiped);
          if (const auto* l = std::get_if<Login>(&wiped.arguments)) {
            if (!l->password.empty() || !l->user.empty()) __builtin_trap();
          }
          next_plain = parsed->name == CommandName::kIdle ||
                       (parsed->name == CommandName::kAuthenticate &&
                        !std::get<Authenticate>(parsed->arguments).initial_response);
          r.log += 'P';
        } else {
          if (parsed.error().tag.empty() || parsed.error().reason.empty()) __builtin_trap();
          r.log += 'E';
        }
        plain = next_plain;
        reader.next();
        if (plain) reader.expect_line();
        break;
      }
      case ReadStatus::kContinue: {
        const LiteralInfo& lit = reader.pending_literal();
        if (!lit.synchronizing || lit.size > cfg.limits.max_literal) __builtin_trap();
        r.log += 'C' + std::to_string(lit.size) + '\n';
        reader.accept_literal();
        break;
      }
      case ReadStatus::kTooLarge:
        if (reader.overflow() == Overflow::kNone) __builtin_trap();
        r.log += 'T' + std::to_string(static_cast<int>(reader.overflow())) +
                 std::string(reader.tag()) + '\n';
        plain = false;
        reader.discard();
        break;
    }
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t piece = data[0] % 64 + 1;
  const std::uint8_t flags = data[1];
  const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);

  Config cfg;
  cfg.limits.literal_plus = (flags & 1) != 0;
  cfg.options.utf8 = (flags & 2) != 0;
  cfg.limits.wipe = (flags & 8) != 0;
  if ((flags & 4) != 0) {
    cfg.limits.max_line = 64;
    cfg.limits.max_literal = 48;
    cfg.limits.max_argument_literal = 16;
    cfg.limits.max_command = 256;
    cfg.limits.max_literals = 4;
    cfg.options.max_depth = 6;
    cfg.options.max_search_keys = 12;
    cfg.options.max_ranges = 5;
    cfg.options.max_items = 6;
    cfg.options.max_fetch_sections = 3;
  }

  const Run whole = feed_in_pieces(input, input.size() + 1, cfg);
  const Run split = feed_in_pieces(input, piece, cfg);
  if (whole.log != split.log || whole.consumed != split.consumed) __builtin_trap();
  if (whole.consumed != input.size()) __builtin_trap();

  // The parser alone, on the input as one command.
  if (auto parsed = parse_command(input, cfg.options)) check_command(*parsed, input, cfg.options);
  return 0;
}
