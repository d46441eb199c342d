#include "imap/protocol/command.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "core/base64.hpp"
#include "core/strings.hpp"
#include "core/utf8.hpp"
#include "mime/charset.hpp"

namespace sealpost::imap::protocol {
namespace {

// ---------------------------------------------------------------------------------------------
// Character classes (RFC 9051 section 9)

enum CharClass : std::uint8_t {
  kAtomChar = 1,     // ATOM-CHAR
  kAstringChar = 2,  // ASTRING-CHAR = ATOM-CHAR / "]"
  kTagChar = 4,      // ASTRING-CHAR except "+"
  kListChar = 8,     // list-char = ATOM-CHAR / list-wildcards / resp-specials
  kLabelChar = 16,   // letters, digits and ".-_:" : command names, keywords, tagged-ext-label
  kBase64Char = 32,  // ALPHA / DIGIT / "+" / "/"
};

constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0x21; c < 0x7F; ++c) {
    const bool special = c == '(' || c == ')' || c == '{' || c == '%' || c == '*' || c == '"' ||
                         c == '\\' || c == ']';
    std::uint8_t v = 0;
    if (!special) v |= kAtomChar | kAstringChar | kListChar;
    if (c == ']') v |= kAstringChar | kListChar;
    if (c == '%' || c == '*') v |= kListChar;
    if ((v & kAstringChar) != 0 && c != '+') v |= kTagChar;
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum || c == '.' || c == '-' || c == '_' || c == ':') v |= kLabelChar;
    if (alnum || c == '+' || c == '/') v |= kBase64Char;
    t[static_cast<std::size_t>(c)] = v;
  }
  return t;
}

constexpr std::array<std::uint8_t, 256> kClasses = make_classes();

constexpr bool has_class(char c, CharClass k) noexcept {
  return (kClasses[static_cast<unsigned char>(c)] & k) != 0;
}

std::size_t span_of(std::string_view s, CharClass k) noexcept {
  std::size_t i = 0;
  while (i < s.size() && has_class(s[i], k)) ++i;
  return i;
}

// A literal header ("{n}", "{n+}", "~{n}", "~{n+}") at the end of `line` (its line end removed).
struct LiteralHeader {
  std::uint64_t size = 0;
  bool too_large = false;  // more digits than a number64 holds
  bool non_sync = false;
  bool binary = false;
};

bool literal_header_at_end(std::string_view line, LiteralHeader& h) {
  if (line.empty() || line.back() != '}') return false;
  std::size_t end = line.size() - 1;
  h.non_sync = end > 0 && line[end - 1] == '+';
  if (h.non_sync) --end;
  std::size_t begin = end;
  while (begin > 0 && is_ascii_digit(line[begin - 1])) --begin;
  if (begin == end || begin == 0 || line[begin - 1] != '{') return false;
  h.binary = begin >= 2 && line[begin - 2] == '~';
  const std::string_view digits = line.substr(begin, end - begin);
  const auto value = parse_decimal(digits, 19);
  h.too_large = !value || *value > static_cast<std::uint64_t>(INT64_MAX);
  h.size = h.too_large ? UINT64_MAX : *value;
  return true;
}

std::string_view tag_prefix(std::string_view line) noexcept {
  const std::size_t n = span_of(line, kTagChar);
  if (n == 0 || n >= line.size() || line[n] != ' ') return {};
  return line.substr(0, n);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// CommandReader

namespace {

// Zeroes a string's whole buffer, its capacity past its size included: a string that shrank
// keeps its old octets there.
void wipe_string(std::string& s) noexcept {
  s.resize(s.capacity());  // within the capacity: neither allocates nor throws
  explicit_bzero(s.data(), s.size());
  s.clear();
}

}  // namespace

void CommandReader::append(const char* data, std::size_t size) {
  if (limits_.wipe && buffer_.size() + size > buffer_.capacity()) {
    // Grown by hand: a reallocation would free the old buffer with the octets still in it.
    std::string grown;
    grown.reserve(std::max(buffer_.size() + size, buffer_.capacity() * 2));
    grown.append(buffer_);
    wipe_string(buffer_);
    buffer_.swap(grown);
  }
  buffer_.append(data, size);
}

void CommandReader::wipe() noexcept {
  wipe_string(buffer_);
}

ReadStatus CommandReader::feed(std::string_view input, std::size_t& consumed) {
  consumed = 0;
  for (;;) {
    const std::string_view rest = input.substr(consumed);
    switch (state_) {
      case State::kReady:
        return ReadStatus::kReady;
      case State::kContinue:
        return ReadStatus::kContinue;
      case State::kTooLarge:
        return ReadStatus::kTooLarge;
      case State::kLine: {
        if (rest.empty()) return ReadStatus::kNeedMore;
        const std::size_t have = buffer_.size() - line_start_;
        const std::size_t room = limits_.max_line > have ? limits_.max_line - have : 0;
        const std::size_t scan = std::min(rest.size(), room);
        const void* lf = scan == 0 ? nullptr : std::memchr(rest.data(), '\n', scan);
        if (lf == nullptr) {
          append(rest.data(), scan);
          consumed += scan;
          // max_line octets and no line end yet: the line cannot fit.
          if (have + scan >= limits_.max_line) return refuse(Overflow::kLine, false);
          return ReadStatus::kNeedMore;
        }
        const std::size_t n =
            static_cast<std::size_t>(static_cast<const char*>(lf) - rest.data()) + 1;
        append(rest.data(), n);
        consumed += n;
        const ReadStatus status = end_of_line();
        if (status != ReadStatus::kNeedMore) return status;
        break;
      }
      case State::kLiteral: {
        if (rest.empty()) return ReadStatus::kNeedMore;
        const auto n =
            static_cast<std::size_t>(std::min<std::uint64_t>(literal_left_, rest.size()));
        append(rest.data(), n);
        consumed += n;
        literal_left_ -= n;
        if (literal_left_ == 0) {
          state_ = State::kLine;
          line_start_ = buffer_.size();
        }
        break;
      }
      case State::kSkipLine: {
        if (rest.empty()) return ReadStatus::kNeedMore;
        const void* lf = std::memchr(rest.data(), '\n', rest.size());
        if (lf == nullptr) {
          note_skipped(rest);
          consumed += rest.size();
          return ReadStatus::kNeedMore;
        }
        const auto n = static_cast<std::size_t>(static_cast<const char*>(lf) - rest.data());
        note_skipped(rest.substr(0, n));
        consumed += n + 1;
        std::string_view tail(tail_, tail_size_);
        if (!tail.empty() && tail.back() == '\r') tail.remove_suffix(1);
        LiteralHeader h;
        tail_size_ = 0;
        // A non-synchronising literal follows at once; after a synchronising one the client
        // waits for a continuation that will not come (it has had the tagged answer).
        if (!skip_plain_ && literal_header_at_end(tail, h) && h.non_sync && !h.too_large) {
          literal_left_ = h.size;
          state_ = literal_left_ == 0 ? State::kSkipLine : State::kSkipLiteral;
        } else {
          skip_plain_ = false;
          state_ = State::kLine;
        }
        break;
      }
      case State::kSkipLiteral: {
        if (rest.empty()) return ReadStatus::kNeedMore;
        const auto n =
            static_cast<std::size_t>(std::min<std::uint64_t>(literal_left_, rest.size()));
        consumed += n;
        literal_left_ -= n;
        if (literal_left_ == 0) state_ = State::kSkipLine;
        break;
      }
    }
  }
}

ReadStatus CommandReader::end_of_line() {
  // buffer_ ends with the line's LF.
  std::size_t end = buffer_.size() - 1;
  if (end > line_start_ && buffer_[end - 1] == '\r') --end;
  const std::string_view line(buffer_.data() + line_start_, end - line_start_);
  if (plain_line_) {
    plain_line_ = false;
    buffer_.resize(end);
    state_ = State::kReady;
    return ReadStatus::kReady;
  }
  if (line_start_ == 0) {
    // Empty lines between commands are not commands (a person at a terminal presses Enter).
    if (line.empty()) {
      buffer_.clear();
      return ReadStatus::kNeedMore;
    }
    const std::string_view tag = tag_prefix(line);
    append_ = !tag.empty() && istarts_with(line.substr(tag.size() + 1), "APPEND ");
  }
  LiteralHeader h;
  if (!literal_header_at_end(line, h)) {
    buffer_.resize(end);
    if (buffer_.size() > limits_.max_command) return refuse(Overflow::kCommand, true);
    state_ = State::kReady;
    return ReadStatus::kReady;
  }
  pending_ = LiteralInfo{buffer_.size(), h.size, !h.non_sync, h.binary};
  const std::uint64_t limit = append_ ? limits_.max_literal : limits_.max_argument_literal;
  const bool waiting = pending_.synchronizing;
  if (h.too_large || h.size > limit) return refuse(Overflow::kLiteral, waiting);
  if (h.non_sync && !limits_.literal_plus && h.size > kLiteralMinusMax) {
    return refuse(Overflow::kNonSyncLiteral, false);
  }
  if (literals_.size() >= limits_.max_literals) return refuse(Overflow::kLiteralCount, waiting);
  if (buffer_.size() > limits_.max_command || h.size > limits_.max_command - buffer_.size()) {
    return refuse(Overflow::kCommand, waiting);
  }
  literals_.push_back(pending_);
  if (pending_.synchronizing) {
    state_ = State::kContinue;
    return ReadStatus::kContinue;
  }
  start_literal();
  return ReadStatus::kNeedMore;
}

void CommandReader::accept_literal() noexcept {
  if (state_ == State::kContinue) start_literal();
}

void CommandReader::start_literal() noexcept {
  literal_left_ = pending_.size;
  if (literal_left_ == 0) {
    state_ = State::kLine;
    line_start_ = buffer_.size();
  } else {
    state_ = State::kLiteral;
  }
}

ReadStatus CommandReader::refuse(Overflow what, bool waiting) {
  overflow_ = what;
  waiting_ = waiting;
  state_ = State::kTooLarge;
  return ReadStatus::kTooLarge;
}

std::string_view CommandReader::tag() const noexcept {
  return tag_prefix(buffer_);
}

void CommandReader::next() {
  if (state_ != State::kReady) return;
  reset_command();
  state_ = State::kLine;
}

void CommandReader::reset_command() {
  if (limits_.wipe) wipe_string(buffer_);
  // A large APPEND leaves a large buffer: give it back rather than keep it per connection.
  if (buffer_.capacity() > std::size_t{1} << 20) {
    std::string().swap(buffer_);
  } else {
    buffer_.clear();
  }
  literals_.clear();
  line_start_ = 0;
  literal_left_ = 0;
  pending_ = LiteralInfo{};
  overflow_ = Overflow::kNone;
  waiting_ = false;
  append_ = false;
}

void CommandReader::start_skipping_line() {
  // The part of the line read so far: its end may matter if the line ends right after it.
  tail_size_ = 0;
  const std::string_view line = std::string_view(buffer_).substr(line_start_);
  note_skipped(line);
}

void CommandReader::discard() {
  switch (state_) {
    case State::kReady:
      next();
      return;
    case State::kContinue:
      reset_command();
      state_ = State::kLine;
      return;
    case State::kTooLarge:
      break;
    default:
      return;
  }
  if (waiting_) {
    reset_command();
    state_ = State::kLine;
    return;
  }
  if (overflow_ == Overflow::kLine) {
    skip_plain_ = plain_line_;
    plain_line_ = false;
    start_skipping_line();
    reset_command();
    state_ = State::kSkipLine;
    return;
  }
  // A refused non-synchronising literal: its octets follow, then the rest of the command.
  const std::uint64_t left = pending_.size;
  reset_command();
  tail_size_ = 0;
  literal_left_ = left;
  skip_plain_ = false;
  state_ = left == 0 ? State::kSkipLine : State::kSkipLiteral;
}

void CommandReader::note_skipped(std::string_view bytes) {
  constexpr std::size_t kTail = sizeof(tail_);
  if (bytes.size() >= kTail) {
    std::memcpy(tail_, bytes.data() + bytes.size() - kTail, kTail);
    tail_size_ = kTail;
    return;
  }
  const std::size_t keep = std::min(tail_size_, kTail - bytes.size());
  std::memmove(tail_, tail_ + tail_size_ - keep, keep);
  std::memcpy(tail_ + keep, bytes.data(), bytes.size());
  tail_size_ = keep + bytes.size();
}

// ---------------------------------------------------------------------------------------------
// Values

bool SequenceSet::has_star() const noexcept {
  return std::any_of(ranges.begin(), ranges.end(),
                     [](const SeqRange& r) { return r.first == kSeqStar || r.last == kSeqStar; });
}

bool SequenceSet::contains(std::uint32_t n, std::uint32_t largest) const noexcept {
  for (const SeqRange& r : ranges) {
    const std::uint32_t a = r.first == kSeqStar ? largest : r.first;
    const std::uint32_t b = r.last == kSeqStar ? largest : r.last;
    if (n >= std::min(a, b) && n <= std::max(a, b)) return true;
  }
  return false;
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> SequenceSet::intervals(
    std::uint32_t largest) const {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> v;
  v.reserve(ranges.size());
  for (const SeqRange& r : ranges) {
    const std::uint32_t a = r.first == kSeqStar ? largest : r.first;
    const std::uint32_t b = r.last == kSeqStar ? largest : r.last;
    v.emplace_back(std::min(a, b), std::max(a, b));
  }
  std::sort(v.begin(), v.end());
  std::size_t out = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (out > 0 && (v[out - 1].second == UINT32_MAX || v[i].first <= v[out - 1].second + 1)) {
      v[out - 1].second = std::max(v[out - 1].second, v[i].second);
    } else {
      v[out++] = v[i];
    }
  }
  v.resize(out);
  return v;
}

namespace {

bool is_leap(int y) noexcept {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) noexcept {
  static constexpr std::array<int, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[static_cast<std::size_t>(m - 1)];
}

// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(int y, int m, int d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}

}  // namespace

std::int64_t DateTime::unix_time() const noexcept {
  const std::int64_t seconds = std::int64_t{hour} * 3600 + std::int64_t{minute} * 60 + second -
                               std::int64_t{zone_minutes} * 60;
  return days_from_civil(date.year, date.month, date.day) * 86400 + seconds;
}

// ---------------------------------------------------------------------------------------------
// The parser: recursive descent over the framed command, one function per grammar rule. Every
// rule returns false with the first failure's reason kept; reasons are static strings.

namespace {

constexpr std::uint64_t kMaxNumber = UINT32_MAX;   // number, nz-number
constexpr std::uint64_t kMaxNumber64 = INT64_MAX;  // number64, mod-sequence-value
constexpr std::array<std::string_view, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

enum class KeyArgument : std::uint8_t {
  kNone,
  kString,
  kDate,
  kNumber,
  kKeyword,
  kHeader,
  kSet,
  kNot,
  kOr,
  kModSeq
};

struct NamedKey {
  std::string_view name;
  SearchKeyType type;
  KeyArgument argument;
};

constexpr std::array<NamedKey, 36> kSearchKeys{{
    {"ALL", SearchKeyType::kAll, KeyArgument::kNone},
    {"ANSWERED", SearchKeyType::kAnswered, KeyArgument::kNone},
    {"DELETED", SearchKeyType::kDeleted, KeyArgument::kNone},
    {"DRAFT", SearchKeyType::kDraft, KeyArgument::kNone},
    {"FLAGGED", SearchKeyType::kFlagged, KeyArgument::kNone},
    {"NEW", SearchKeyType::kNew, KeyArgument::kNone},
    {"OLD", SearchKeyType::kOld, KeyArgument::kNone},
    {"RECENT", SearchKeyType::kRecent, KeyArgument::kNone},
    {"SEEN", SearchKeyType::kSeen, KeyArgument::kNone},
    {"UNANSWERED", SearchKeyType::kUnanswered, KeyArgument::kNone},
    {"UNDELETED", SearchKeyType::kUndeleted, KeyArgument::kNone},
    {"UNDRAFT", SearchKeyType::kUndraft, KeyArgument::kNone},
    {"UNFLAGGED", SearchKeyType::kUnflagged, KeyArgument::kNone},
    {"UNSEEN", SearchKeyType::kUnseen, KeyArgument::kNone},
    {"KEYWORD", SearchKeyType::kKeyword, KeyArgument::kKeyword},
    {"UNKEYWORD", SearchKeyType::kUnkeyword, KeyArgument::kKeyword},
    {"BCC", SearchKeyType::kBcc, KeyArgument::kString},
    {"BODY", SearchKeyType::kBody, KeyArgument::kString},
    {"CC", SearchKeyType::kCc, KeyArgument::kString},
    {"FROM", SearchKeyType::kFrom, KeyArgument::kString},
    {"SUBJECT", SearchKeyType::kSubject, KeyArgument::kString},
    {"TEXT", SearchKeyType::kText, KeyArgument::kString},
    {"TO", SearchKeyType::kTo, KeyArgument::kString},
    {"HEADER", SearchKeyType::kHeader, KeyArgument::kHeader},
    {"BEFORE", SearchKeyType::kBefore, KeyArgument::kDate},
    {"ON", SearchKeyType::kOn, KeyArgument::kDate},
    {"SINCE", SearchKeyType::kSince, KeyArgument::kDate},
    {"SENTBEFORE", SearchKeyType::kSentBefore, KeyArgument::kDate},
    {"SENTON", SearchKeyType::kSentOn, KeyArgument::kDate},
    {"SENTSINCE", SearchKeyType::kSentSince, KeyArgument::kDate},
    {"LARGER", SearchKeyType::kLarger, KeyArgument::kNumber},
    {"SMALLER", SearchKeyType::kSmaller, KeyArgument::kNumber},
    {"MODSEQ", SearchKeyType::kModSeq, KeyArgument::kModSeq},
    {"UID", SearchKeyType::kUid, KeyArgument::kSet},
    {"NOT", SearchKeyType::kNot, KeyArgument::kNot},
    {"OR", SearchKeyType::kOr, KeyArgument::kOr},
}};

struct NamedStatus {
  std::string_view name;
  StatusItem item;
};

constexpr std::array<NamedStatus, 9> kStatusItems{{
    {"MESSAGES", StatusItem::kMessages},
    {"UIDNEXT", StatusItem::kUidNext},
    {"UIDVALIDITY", StatusItem::kUidValidity},
    {"UNSEEN", StatusItem::kUnseen},
    {"DELETED", StatusItem::kDeleted},
    {"SIZE", StatusItem::kSize},
    {"RECENT", StatusItem::kRecent},
    {"HIGHESTMODSEQ", StatusItem::kHighestModSeq},
    {"APPENDLIMIT", StatusItem::kAppendLimit},
}};

struct NamedSortKey {
  std::string_view name;
  SortKey key;
};

constexpr std::array<NamedSortKey, 7> kSortKeys{{
    {"ARRIVAL", SortKey::kArrival},
    {"CC", SortKey::kCc},
    {"DATE", SortKey::kDate},
    {"FROM", SortKey::kFrom},
    {"SIZE", SortKey::kSize},
    {"SUBJECT", SortKey::kSubject},
    {"TO", SortKey::kTo},
}};

template <typename Table>
auto find_named(const Table& table, std::string_view name) -> decltype(&table[0]) {
  for (const auto& entry : table) {
    if (iequals(entry.name, name)) return &entry;
  }
  return nullptr;
}

}  // namespace

// The grammar, one rule per member function. Its per-command rules are the ArgumentRules of the
// command table below.
class Parser {
 public:
  Parser(std::string_view in, const ParseOptions& options) : in_(in), opt_(options) {}

  Result<Command, ParseError> run() {
    Command c;
    if (command(c)) {
      Result<Command, ParseError> parsed(std::move(c));
      wipe_credentials(c);  // a short string is copied, not moved: the copy left here goes
      return parsed;
    }
    wipe_credentials(c);
    return unexpected(ParseError{tag_.empty() ? std::string("*") : std::string(tag_),
                                 std::string(error_ != nullptr ? error_ : "Syntax error")});
  }

 private:
  // ---- primitives

  [[nodiscard]] bool at_end() const noexcept { return pos_ >= in_.size(); }
  [[nodiscard]] bool peek_is(char c) const noexcept { return pos_ < in_.size() && in_[pos_] == c; }
  [[nodiscard]] bool peek_digit() const noexcept {
    return pos_ < in_.size() && is_ascii_digit(in_[pos_]);
  }
  // The end of a token: a space, a closing parenthesis or the end.
  [[nodiscard]] bool at_delimiter() const noexcept {
    return at_end() || in_[pos_] == ' ' || in_[pos_] == ')';
  }

  bool fail(const char* reason) {
    if (error_ == nullptr) error_ = reason;
    return false;
  }

  bool sp() {
    if (peek_is(' ')) {
      ++pos_;
      return true;
    }
    return fail(at_end() ? "Missing arguments" : "Expected a space");
  }

  bool expect(char c, const char* reason) {
    if (peek_is(c)) {
      ++pos_;
      return true;
    }
    return fail(reason);
  }

  std::string_view take(CharClass k) {
    const std::size_t n = span_of(in_.substr(pos_), k);
    const std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }

  // A keyword, command name or tagged-ext-label.
  std::string_view label() { return take(kLabelChar); }

  // Consumes `word` (any case) when it comes next as a whole label.
  bool accept_word(std::string_view word) {
    const std::size_t n = span_of(in_.substr(pos_), kLabelChar);
    if (!iequals(in_.substr(pos_, n), word)) return false;
    pos_ += n;
    return true;
  }

  bool count_item(std::size_t size) {
    if (size >= opt_.max_items) return fail("Too many items in a list");
    return true;
  }

  bool number(std::uint64_t& out, std::uint64_t max) {
    const std::size_t start = pos_;
    std::uint64_t v = 0;
    while (peek_digit()) {
      const auto d = static_cast<std::uint64_t>(in_[pos_] - '0');
      if (v > (max - d) / 10) return fail("Number out of range");
      v = v * 10 + d;
      ++pos_;
    }
    if (pos_ == start) return fail("Expected a number");
    out = v;
    return true;
  }

  bool number32(std::uint32_t& out) {
    std::uint64_t v = 0;
    if (!number(v, kMaxNumber)) return false;
    out = static_cast<std::uint32_t>(v);
    return true;
  }

  // nz-number = digit-nz *DIGIT
  bool nz_number(std::uint32_t& out) {
    if (peek_is('0')) return fail("Expected a non-zero number");
    return number32(out);
  }

  bool nz_number64(std::uint64_t& out) {
    if (peek_is('0')) return fail("Expected a non-zero number");
    return number(out, kMaxNumber64);
  }

  // ---- strings

  // quoted = DQUOTE *QUOTED-CHAR DQUOTE; UTF-8 only under UTF8=ACCEPT.
  bool quoted(std::string& out) {
    ++pos_;  // DQUOTE
    out.clear();
    bool eight_bit = false;
    for (;;) {
      const std::size_t start = pos_;
      while (pos_ < in_.size()) {
        const auto u = static_cast<unsigned char>(in_[pos_]);
        if (u == '"' || u == '\\' || u == '\r' || u == '\n' || u == 0) break;
        eight_bit |= u >= 0x80;
        ++pos_;
      }
      out.append(in_.data() + start, pos_ - start);
      if (at_end()) return fail("Unterminated quoted string");
      const char c = in_[pos_];
      if (c == '"') {
        ++pos_;
        break;
      }
      if (c != '\\') return fail("Invalid character in quoted string");
      ++pos_;
      if (!peek_is('"') && !peek_is('\\')) return fail("Invalid escape in quoted string");
      out += in_[pos_++];
    }
    if (eight_bit && (!opt_.utf8 || !core::is_valid_utf8(out))) {
      return fail(opt_.utf8 ? "Invalid UTF-8 in quoted string"
                            : "8-bit text in a quoted string needs UTF8=ACCEPT");
    }
    return true;
  }

  // literal = "{" number64 ["+"] "}" CRLF *CHAR8; literal8 = "~{" ... *OCTET when allowed.
  bool literal(std::string_view& out, bool allow_literal8, bool* binary = nullptr) {
    bool is8 = false;
    if (peek_is('~')) {
      if (!allow_literal8) return fail("literal8 is only allowed in APPEND");
      is8 = true;
      ++pos_;
    }
    if (!expect('{', "Expected a literal")) return false;
    std::uint64_t size = 0;
    if (!number(size, kMaxNumber64)) return false;
    if (peek_is('+')) ++pos_;
    if (!expect('}', "Invalid literal")) return false;
    if (peek_is('\r')) ++pos_;
    if (!expect('\n', "A literal must end the line")) return false;
    if (size > in_.size() - pos_) return fail("Literal is incomplete");
    out = in_.substr(pos_, static_cast<std::size_t>(size));
    if (!is8 && out.find('\0') != std::string_view::npos) return fail("NUL in a literal");
    pos_ += static_cast<std::size_t>(size);
    if (binary != nullptr) *binary = is8;
    return true;
  }

  // string = quoted / literal
  bool string(std::string& out) {
    if (peek_is('"')) return quoted(out);
    if (peek_is('{')) {
      std::string_view v;
      if (!literal(v, false)) return false;
      out.assign(v);
      return true;
    }
    return fail("Expected a string");
  }

  // astring = 1*ASTRING-CHAR / string
  bool astring(std::string& out) {
    if (peek_is('"') || peek_is('{')) return string(out);
    const std::string_view a = take(kAstringChar);
    if (a.empty()) return fail(at_end() ? "Missing arguments" : "Expected a string");
    out.assign(a);
    return true;
  }

  bool nstring(std::optional<std::string>& out) {
    if (peek_is('"') || peek_is('{')) {
      out.emplace();
      return string(*out);
    }
    const std::size_t save = pos_;
    if (accept_word("NIL")) {
      out.reset();
      return true;
    }
    pos_ = save;
    return fail("Expected a string or NIL");
  }

  // list-mailbox = 1*list-char / string
  bool list_mailbox(std::string& out) {
    if (peek_is('"') || peek_is('{')) return string(out);
    const std::string_view a = take(kListChar);
    if (a.empty()) return fail("Expected a mailbox pattern");
    out.assign(a);
    return true;
  }

  // atom, for flags, capabilities, mechanisms, charsets
  bool atom(std::string& out, const char* reason) {
    const std::string_view a = take(kAtomChar);
    if (a.empty()) return fail(reason);
    out.assign(a);
    return true;
  }

  // flag = "\" atom / atom (system flags are "\" atom; keywords are atoms)
  bool flag(std::string& out) {
    const std::size_t start = pos_;
    if (peek_is('\\')) ++pos_;
    if (take(kAtomChar).empty()) return fail("Invalid flag");
    out.assign(in_.substr(start, pos_ - start));
    return true;
  }

  bool flag_list(std::vector<std::string>& out) {
    if (!expect('(', "Expected a flag list")) return false;
    if (peek_is(')')) {
      ++pos_;
      return true;
    }
    for (;;) {
      if (!count_item(out.size())) return false;
      if (!flag(out.emplace_back())) return false;
      if (peek_is(')')) {
        ++pos_;
        return true;
      }
      if (!sp()) return false;
    }
  }

  // ---- sequence sets

  bool seq_number(std::uint32_t& out) {
    if (peek_is('*')) {
      ++pos_;
      out = kSeqStar;
      return true;
    }
    if (!peek_digit()) return fail("Invalid sequence set");
    return nz_number(out);
  }

  // sequence-set = (seq-number / seq-range) ["," sequence-set] / "$"
  bool sequence_set(SequenceSet& out, bool allow_star = true) {
    out = SequenceSet{};
    if (peek_is('$')) {
      ++pos_;
      out.saved = true;
      if (!at_delimiter()) return fail("Invalid sequence set");
      return true;
    }
    for (;;) {
      SeqRange r;
      if (!seq_number(r.first)) return false;
      r.last = r.first;
      if (peek_is(':')) {
        ++pos_;
        if (!seq_number(r.last)) return false;
      }
      if (!allow_star && (r.first == kSeqStar || r.last == kSeqStar)) {
        return fail("\"*\" is not allowed here");
      }
      if (out.ranges.size() >= opt_.max_ranges) return fail("Too many ranges in a sequence set");
      out.ranges.push_back(r);
      if (!peek_is(',')) break;
      ++pos_;
    }
    if (!at_delimiter()) return fail("Invalid sequence set");
    return true;
  }

  bool known_set(SequenceSet& out) {
    if (!sequence_set(out, false)) return false;
    if (out.saved) return fail("\"$\" is not allowed here");
    return true;
  }

  // ---- dates

  bool digits(int count, int& out) {
    out = 0;
    for (int i = 0; i < count; ++i) {
      if (!peek_digit()) return fail("Invalid date");
      out = out * 10 + (in_[pos_++] - '0');
    }
    return true;
  }

  bool month(int& out) {
    const std::string_view m = in_.substr(pos_, 3);
    for (std::size_t i = 0; i < kMonths.size(); ++i) {
      if (iequals(m, kMonths[i])) {
        pos_ += 3;
        out = static_cast<int>(i) + 1;
        return true;
      }
    }
    return fail("Invalid month");
  }

  bool valid_date(const Date& d) {
    if (d.day < 1 || d.day > days_in_month(d.year, d.month)) return fail("Invalid date");
    return true;
  }

  // date = date-text / DQUOTE date-text DQUOTE; date-text = date-day "-" date-month "-" date-year
  bool date(Date& d) {
    const bool q = peek_is('"');
    if (q) ++pos_;
    if (!digits(1, d.day)) return false;
    if (peek_digit()) d.day = d.day * 10 + (in_[pos_++] - '0');
    if (!expect('-', "Invalid date") || !month(d.month) || !expect('-', "Invalid date") ||
        !digits(4, d.year)) {
      return false;
    }
    if (q && !expect('"', "Invalid date")) return false;
    return valid_date(d);
  }

  // date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
  bool date_time(DateTime& t) {
    if (!expect('"', "Invalid date-time")) return false;
    if (peek_is(' ')) {
      ++pos_;
      if (!digits(1, t.date.day)) return false;
    } else if (!digits(2, t.date.day)) {
      return false;
    }
    int zone = 0;
    if (!expect('-', "Invalid date-time") || !month(t.date.month) ||
        !expect('-', "Invalid date-time") || !digits(4, t.date.year) ||
        !expect(' ', "Invalid date-time") || !digits(2, t.hour) ||
        !expect(':', "Invalid date-time") || !digits(2, t.minute) ||
        !expect(':', "Invalid date-time") || !digits(2, t.second) ||
        !expect(' ', "Invalid date-time")) {
      return false;
    }
    const bool east = peek_is('+');
    if (!east && !peek_is('-')) return fail("Invalid time zone");
    ++pos_;
    if (!digits(4, zone) || !expect('"', "Invalid date-time")) return false;
    if (t.hour > 23 || t.minute > 59 || t.second > 60 || zone % 100 > 59) {
      return fail("Invalid date-time");
    }
    t.zone_minutes = (zone / 100 * 60 + zone % 100) * (east ? 1 : -1);
    return valid_date(t.date);
  }

  // ---- the command

  bool command(Command& c);

 public:
  // An ArgumentRule: a T in the command's arguments, filled by `rule` after the SP that ends the
  // command's name.
  template <typename T, bool (Parser::*Rule)(T&)>
  static bool rule(Parser& p, Command& c) {
    T& args = c.arguments.emplace<T>();
    return p.sp() && (p.*Rule)(args);
  }
  // EXPUNGE takes arguments only in its UID form.
  static bool expunge(Parser& p, Command& c) {
    return !c.uid || rule<Expunge, &Parser::uid_expunge>(p, c);
  }

  // ---- per command (each starts after the command name and its SP)

  bool uid_expunge(Expunge& e) { return sequence_set(e.set); }

  // authenticate = "AUTHENTICATE" SP auth-type [SP initial-resp]; initial-resp = base64 / "="
  bool authenticate(Authenticate& a) {
    if (!atom(a.mechanism, "Expected a SASL mechanism")) return false;
    if (at_end()) return true;
    if (!sp()) return false;
    const std::size_t start = pos_;
    while (pos_ < in_.size() && (has_class(in_[pos_], kBase64Char) || in_[pos_] == '=')) ++pos_;
    const std::string_view ir = in_.substr(start, pos_ - start);
    if (ir != "=" && (ir.empty() || !core::is_base64(ir))) return fail("Invalid initial response");
    a.initial_response.emplace(ir);
    return true;
  }

  bool login(Login& l) {
    if (!astring(l.user) || !sp()) return false;
    // Room for the longest password the command can hold: a quoted one grows as it is
    // unescaped, and a reallocation would leave copies behind.
    l.password.reserve(in_.size() - pos_);
    return astring(l.password);
  }

  // enable = "ENABLE" 1*(SP capability)
  bool enable(Enable& e) {
    for (;;) {
      if (!count_item(e.capabilities.size())) return false;
      if (!atom(e.capabilities.emplace_back(), "Expected a capability")) return false;
      if (at_end()) return true;
      if (!sp()) return false;
    }
  }

  // select = "SELECT" SP mailbox [SP "(" select-param *(SP select-param) ")"]
  bool select(Select& s) {
    if (!astring(s.mailbox)) return false;
    if (at_end()) return true;
    if (!sp() || !expect('(', "Expected SELECT parameters")) return false;
    for (;;) {
      const std::string_view name = label();
      if (iequals(name, "CONDSTORE")) {
        s.condstore = true;
      } else if (iequals(name, "QRESYNC")) {
        if (s.qresync) return fail("Duplicate QRESYNC parameter");
        if (!sp() || !qresync(s.qresync.emplace())) return false;
      } else {
        return fail("Unknown SELECT parameter");
      }
      if (peek_is(')')) {
        ++pos_;
        return true;
      }
      if (!sp()) return false;
    }
  }

  // "QRESYNC" SP "(" uidvalidity SP mod-sequence-value [SP known-uids]
  //     [SP "(" known-sequence-set SP known-uid-set ")"] ")"   (RFC 7162 section 7)
  bool qresync(Qresync& q) {
    if (!expect('(', "Expected QRESYNC parameters") || !nz_number(q.uidvalidity) || !sp() ||
        !nz_number64(q.modseq)) {
      return false;
    }
    if (peek_is(' ') && pos_ + 1 < in_.size() && in_[pos_ + 1] != '(') {
      ++pos_;
      if (!known_set(q.known_uids.emplace())) return false;
    }
    if (peek_is(' ')) {
      ++pos_;
      if (!expect('(', "Expected QRESYNC sequence match data") ||
          !known_set(q.known_sequence_set.emplace()) || !sp() ||
          !known_set(q.known_uid_set.emplace()) || !expect(')', "Expected \")\"")) {
        return false;
      }
    }
    return expect(')', "Expected \")\"");
  }

  // create = "CREATE" SP mailbox [SP "(" "USE" SP "(" [use-attr *(SP use-attr)] ")" ")"]
  bool create(Create& c) {
    if (!astring(c.mailbox)) return false;
    if (at_end()) return true;
    if (!sp() || !expect('(', "Expected CREATE parameters")) return false;
    for (;;) {
      if (!accept_word("USE")) return fail("Unknown CREATE parameter");
      if (!sp() || !expect('(', "Expected special-use attributes")) return false;
      while (!peek_is(')')) {
        if (!count_item(c.special_use.size())) return false;
        if (!peek_is('\\')) return fail("Invalid special-use attribute");
        if (!flag(c.special_use.emplace_back())) return false;
        if (!peek_is(')') && !sp()) return false;
      }
      ++pos_;
      if (peek_is(')')) {
        ++pos_;
        return true;
      }
      if (!sp()) return false;
    }
  }

  bool mailbox_argument(MailboxArgument& m) { return astring(m.mailbox); }

  bool rename(Rename& r) { return astring(r.from) && sp() && astring(r.to); }

  // lsub = "LSUB" SP mailbox SP list-mailbox
  bool lsub(List& l) {
    return astring(l.reference) && sp() && list_mailbox(l.patterns.emplace_back());
  }

  // list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
  bool list(List& l) {
    if (peek_is('(')) {
      l.extended = true;
      if (!list_selection(l.selection) || !sp()) return false;
    }
    if (!astring(l.reference) || !sp()) return false;
    if (peek_is('(')) {
      l.extended = true;
      ++pos_;
      for (;;) {
        if (!count_item(l.patterns.size())) return false;
        if (!list_mailbox(l.patterns.emplace_back())) return false;
        if (peek_is(')')) {
          ++pos_;
          break;
        }
        if (!sp()) return false;
      }
    } else if (!list_mailbox(l.patterns.emplace_back())) {
      return false;
    }
    if (at_end()) return true;
    l.extended = true;
    if (!sp() || !accept_word("RETURN")) return fail("Expected RETURN options");
    return sp() && list_return(l.returns);
  }

  bool list_selection(ListSelection& s) {
    ++pos_;  // "("
    bool base = false;
    while (!peek_is(')')) {
      const std::string_view o = label();
      if (iequals(o, "SUBSCRIBED")) {
        s.subscribed = base = true;
      } else if (iequals(o, "REMOTE")) {
        s.remote = true;
      } else if (iequals(o, "RECURSIVEMATCH")) {
        s.recursive_match = true;
      } else if (iequals(o, "SPECIAL-USE")) {
        s.special_use = base = true;
      } else {
        return fail("Unknown LIST selection option");
      }
      if (!peek_is(')') && !sp()) return false;
    }
    ++pos_;
    // RFC 5258 section 3.1: RECURSIVEMATCH alone (or with REMOTE only) is a BAD.
    if (s.recursive_match && !base) return fail("RECURSIVEMATCH needs another selection option");
    return true;
  }

  bool list_return(ListReturn& r) {
    if (!expect('(', "Expected RETURN options")) return false;
    while (!peek_is(')')) {
      const std::string_view o = label();
      if (iequals(o, "SUBSCRIBED")) {
        r.subscribed = true;
      } else if (iequals(o, "CHILDREN")) {
        r.children = true;
      } else if (iequals(o, "SPECIAL-USE")) {
        r.special_use = true;
      } else if (iequals(o, "STATUS")) {
        if (r.status) return fail("Duplicate STATUS return option");
        r.status = true;
        if (!sp() || !status_items(r.status_items)) return false;
      } else {
        return fail("Unknown LIST return option");
      }
      if (!peek_is(')') && !sp()) return false;
    }
    ++pos_;
    return true;
  }

  // "(" status-att *(SP status-att) ")"
  bool status_items(std::vector<StatusItem>& items) {
    if (!expect('(', "Expected status items")) return false;
    for (;;) {
      const NamedStatus* s = find_named(kStatusItems, label());
      if (s == nullptr) return fail("Unknown STATUS item");
      if (!count_item(items.size())) return false;
      items.push_back(s->item);
      if (peek_is(')')) {
        ++pos_;
        return true;
      }
      if (!sp()) return false;
    }
  }

  bool status(Status& s) { return astring(s.mailbox) && sp() && status_items(s.items); }

  // append = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP append-data
  // append-data = literal / literal8 / "UTF8" SP "(" literal8 ")"   (RFC 3516, RFC 6855)
  bool append(Append& a) {
    if (!astring(a.mailbox) || !sp()) return false;
    if (peek_is('(')) {
      if (!flag_list(a.flags) || !sp()) return false;
    }
    if (peek_is('"')) {
      if (!date_time(a.date_time.emplace()) || !sp()) return false;
    }
    if (peek_is('{') || peek_is('~')) {
      if (!literal(a.message, true, &a.binary)) return false;
    } else if (accept_word("UTF8")) {
      a.utf8 = true;
      if (!sp() || !expect('(', "Expected \"(\"")) return false;
      if (!peek_is('~')) return fail("UTF8 needs a literal8");
      if (!literal(a.message, true, &a.binary) || !expect(')', "Expected \")\"")) return false;
    } else {
      return fail("Expected the message as a literal");
    }
    if (peek_is(' ')) return fail("MULTIAPPEND is not supported");
    return true;
  }

  // search = "SEARCH" [SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")"]
  //          SP ["CHARSET" SP charset SP] search-key *(SP search-key)
  bool search(Search& s) {
    if (accept_word("RETURN")) {
      s.esearch = true;
      if (!sp() || !expect('(', "Expected RETURN options")) return false;
      while (!peek_is(')')) {
        const std::string_view o = label();
        if (iequals(o, "MIN")) {
          s.returns.min = true;
        } else if (iequals(o, "MAX")) {
          s.returns.max = true;
        } else if (iequals(o, "ALL")) {
          s.returns.all = true;
        } else if (iequals(o, "COUNT")) {
          s.returns.count = true;
        } else if (iequals(o, "SAVE")) {
          s.returns.save = true;
        } else {
          return fail("Unknown SEARCH return option");
        }
        if (!peek_is(')') && !sp()) return false;
      }
      ++pos_;
      // RFC 4731 section 3.1: "RETURN ()" is RETURN (ALL).
      const SearchReturn& r = s.returns;
      if (!r.min && !r.max && !r.all && !r.count && !r.save) s.returns.all = true;
      if (!sp()) return false;
    }
    const std::size_t save = pos_;
    if (accept_word("CHARSET") && peek_is(' ')) {
      ++pos_;
      if (!astring(s.charset.emplace()) || !sp()) return false;
    } else {
      pos_ = save;
    }
    return search_keys(s.criteria);
  }

  // search-key *(SP search-key), as an AND
  bool search_keys(SearchKey& root) {
    root.type = SearchKeyType::kAnd;
    for (;;) {
      if (!search_key(root.children.emplace_back(), 1)) return false;
      if (!peek_is(' ')) return true;
      ++pos_;
    }
  }

  bool search_key(SearchKey& k, std::size_t depth) {
    if (depth > opt_.max_depth) return fail("Search keys nested too deeply");
    if (++keys_ > opt_.max_search_keys) return fail("Too many search keys");
    if (peek_is('(')) {
      ++pos_;
      k.type = SearchKeyType::kAnd;
      for (;;) {
        if (!search_key(k.children.emplace_back(), depth + 1)) return false;
        if (peek_is(')')) {
          ++pos_;
          return true;
        }
        if (!sp()) return false;
      }
    }
    if (peek_digit() || peek_is('*') || peek_is('$')) {
      k.type = SearchKeyType::kSequenceSet;
      return sequence_set(k.set);
    }
    const std::string_view name = label();
    const NamedKey* named = find_named(kSearchKeys, name);
    if (named == nullptr || !at_delimiter()) {
      return fail(name.empty() && at_end() ? "Missing search key" : "Unknown search key");
    }
    k.type = named->type;
    switch (named->argument) {
      case KeyArgument::kNone:
        return true;
      case KeyArgument::kString:
        return sp() && astring(k.text);
      case KeyArgument::kDate:
        return sp() && date(k.date);
      case KeyArgument::kNumber:
        return sp() && number(k.number, kMaxNumber64);
      case KeyArgument::kKeyword:
        return sp() && atom(k.text, "Expected a keyword");
      case KeyArgument::kHeader:
        return sp() && astring(k.text) && sp() && astring(k.value);
      case KeyArgument::kSet:
        return sp() && sequence_set(k.set);
      case KeyArgument::kNot:
        return sp() && search_key(k.children.emplace_back(), depth + 1);
      case KeyArgument::kOr:
        k.children.reserve(2);
        return sp() && search_key(k.children.emplace_back(), depth + 1) && sp() &&
               search_key(k.children.emplace_back(), depth + 1);
      case KeyArgument::kModSeq:
        return sp() && modseq_key(k);
    }
    return fail("Unknown search key");
  }

  // "MODSEQ" [SP entry-name SP entry-type-req] SP mod-sequence-valzer   (RFC 7162 section 7)
  bool modseq_key(SearchKey& k) {
    if (peek_is('"')) {
      if (!quoted(k.text)) return false;
      if (!istarts_with(k.text, "/flags/") || k.text.size() == 7) {
        return fail("Invalid MODSEQ entry name");
      }
      if (!sp()) return false;
      const std::string_view type = label();
      if (!iequals(type, "priv") && !iequals(type, "shared") && !iequals(type, "all")) {
        return fail("Invalid MODSEQ entry type");
      }
      k.value.assign(type);
      if (!sp()) return false;
    }
    return number(k.number, kMaxNumber64);
  }

  // fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att /
  //         "(" fetch-att *(SP fetch-att) ")") [fetch-modifiers]
  bool fetch(Fetch& f) {
    if (!sequence_set(f.set) || !sp()) return false;
    if (peek_is('(')) {
      ++pos_;
      for (;;) {
        if (!count_item(f.items.size())) return false;
        if (!fetch_att(f.items)) return false;
        if (peek_is(')')) {
          ++pos_;
          break;
        }
        if (!sp()) return false;
      }
    } else {
      const std::size_t save = pos_;
      const std::string_view m = label();
      const bool all = iequals(m, "ALL");
      const bool full = iequals(m, "FULL");
      if ((all || full || iequals(m, "FAST")) && at_delimiter()) {
        for (FetchAttribute a :
             {FetchAttribute::kFlags, FetchAttribute::kInternalDate, FetchAttribute::kRfc822Size}) {
          f.items.push_back(FetchItem{a, false, {}, {}});
        }
        if (all || full) f.items.push_back(FetchItem{FetchAttribute::kEnvelope, false, {}, {}});
        if (full) f.items.push_back(FetchItem{FetchAttribute::kBody, false, {}, {}});
      } else {
        pos_ = save;
        if (!fetch_att(f.items)) return false;
      }
    }
    if (!merge_fetch_items(f.items)) return false;
    if (at_end()) return true;
    // fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")"   (RFC 4466, RFC 7162)
    if (!sp() || !expect('(', "Expected FETCH modifiers")) return false;
    for (;;) {
      const std::string_view m = label();
      if (iequals(m, "CHANGEDSINCE")) {
        if (f.changed_since) return fail("Duplicate CHANGEDSINCE");
        if (!sp() || !nz_number64(f.changed_since.emplace())) return false;
      } else if (iequals(m, "VANISHED")) {
        f.vanished = true;
      } else {
        return fail("Unknown FETCH modifier");
      }
      if (peek_is(')')) {
        ++pos_;
        break;
      }
      if (!sp()) return false;
    }
    // RFC 7162 section 3.2.6: VANISHED only in UID FETCH, and only with CHANGEDSINCE.
    if (f.vanished && (!uid_ || !f.changed_since)) {
      return fail("VANISHED needs UID FETCH with CHANGEDSINCE");
    }
    return true;
  }

  // The same item asked twice is answered once: BODY[] and BODY.PEEK[] are one item (the
  // response names both BODY[]) that sets \Seen if either does. What remains is bounded by
  // max_fetch_sections literals per message.
  bool merge_fetch_items(std::vector<FetchItem>& items) {
    std::vector<FetchItem> merged;
    std::size_t sections = 0;
    for (auto& item : items) {
      const auto same = std::find_if(merged.begin(), merged.end(),
                                     [&](const FetchItem& m) { return same_fetch_item(m, item); });
      if (same != merged.end()) {
        same->peek = same->peek && item.peek;
        continue;
      }
      if (sends_octets(item.attribute) && ++sections > opt_.max_fetch_sections) {
        return fail("Too many distinct body sections in one FETCH");
      }
      merged.push_back(std::move(item));
    }
    items = std::move(merged);
    return true;
  }

  static bool sends_octets(FetchAttribute a) {
    return a == FetchAttribute::kBodySection || a == FetchAttribute::kBinary ||
           a == FetchAttribute::kRfc822 || a == FetchAttribute::kRfc822Header ||
           a == FetchAttribute::kRfc822Text;
  }

  static bool same_fetch_item(const FetchItem& a, const FetchItem& b) {
    if (a.attribute != b.attribute || a.section.part != b.section.part ||
        a.section.text != b.section.text || a.section.fields.size() != b.section.fields.size()) {
      return false;
    }
    if (a.partial.has_value() != b.partial.has_value()) return false;
    if (a.partial &&
        (a.partial->offset != b.partial->offset || a.partial->length != b.partial->length)) {
      return false;
    }
    return std::equal(a.section.fields.begin(), a.section.fields.end(), b.section.fields.begin(),
                      [](const std::string& x, const std::string& y) { return iequals(x, y); });
  }

  bool fetch_att(std::vector<FetchItem>& items) {
    struct Simple {
      std::string_view name;
      FetchAttribute attribute;
    };
    static constexpr std::array<Simple, 10> kSimple{{
        {"ENVELOPE", FetchAttribute::kEnvelope},
        {"FLAGS", FetchAttribute::kFlags},
        {"INTERNALDATE", FetchAttribute::kInternalDate},
        {"RFC822", FetchAttribute::kRfc822},
        {"RFC822.HEADER", FetchAttribute::kRfc822Header},
        {"RFC822.SIZE", FetchAttribute::kRfc822Size},
        {"RFC822.TEXT", FetchAttribute::kRfc822Text},
        {"BODYSTRUCTURE", FetchAttribute::kBodyStructure},
        {"UID", FetchAttribute::kUid},
        {"MODSEQ", FetchAttribute::kModSeq},
    }};
    const std::size_t start = pos_;
    while (pos_ < in_.size() &&
           (is_ascii_alpha(in_[pos_]) || is_ascii_digit(in_[pos_]) || in_[pos_] == '.')) {
      ++pos_;
    }
    const std::string_view name = in_.substr(start, pos_ - start);
    FetchItem item;
    for (const Simple& s : kSimple) {
      if (iequals(name, s.name)) {
        if (!at_delimiter()) return fail("Invalid FETCH item");
        item.attribute = s.attribute;
        items.push_back(std::move(item));
        return true;
      }
    }
    bool binary = false;
    bool size = false;
    if (iequals(name, "BODY")) {
      if (!peek_is('[')) {
        if (!at_delimiter()) return fail("Invalid FETCH item");
        item.attribute = FetchAttribute::kBody;
        items.push_back(std::move(item));
        return true;
      }
    } else if (iequals(name, "BODY.PEEK")) {
      item.peek = true;
    } else if (iequals(name, "BINARY")) {
      binary = true;
    } else if (iequals(name, "BINARY.PEEK")) {
      binary = item.peek = true;
    } else if (iequals(name, "BINARY.SIZE")) {
      binary = size = true;
    } else {
      return fail("Unknown FETCH item");
    }
    item.attribute = size     ? FetchAttribute::kBinarySize
                     : binary ? FetchAttribute::kBinary
                              : FetchAttribute::kBodySection;
    if (!expect('[', "Expected a section")) return false;
    if (!(binary ? section_part(item.section) : section(item.section))) return false;
    if (!expect(']', "Expected \"]\"")) return false;
    if (!size && peek_is('<')) {
      ++pos_;
      Partial& p = item.partial.emplace();
      if (!number(p.offset, kMaxNumber64) || !expect('.', "Invalid partial") ||
          !nz_number64(p.length) || !expect('>', "Invalid partial")) {
        return false;
      }
    }
    if (!at_delimiter()) return fail("Invalid FETCH item");
    items.push_back(std::move(item));
    return true;
  }

  // section-part = nz-number *("." nz-number), optional here
  bool section_part(Section& s) {
    while (peek_digit()) {
      if (!count_item(s.part.size())) return false;
      if (!nz_number(s.part.emplace_back())) return false;
      if (!peek_is('.') || pos_ + 1 >= in_.size() || !is_ascii_digit(in_[pos_ + 1])) break;
      ++pos_;
    }
    return true;
  }

  // section-spec = section-msgtext / (section-part ["." section-text])
  bool section(Section& s) {
    if (peek_is(']')) return true;
    if (peek_digit()) {
      if (!section_part(s)) return false;
      if (!peek_is('.')) return true;
      ++pos_;
    }
    const std::size_t start = pos_;
    while (pos_ < in_.size() && (is_ascii_alpha(in_[pos_]) || in_[pos_] == '.')) ++pos_;
    const std::string_view t = in_.substr(start, pos_ - start);
    if (iequals(t, "HEADER")) {
      s.text = SectionText::kHeader;
    } else if (iequals(t, "TEXT")) {
      s.text = SectionText::kText;
    } else if (iequals(t, "MIME") && !s.part.empty()) {
      s.text = SectionText::kMime;
    } else if (iequals(t, "HEADER.FIELDS") || iequals(t, "HEADER.FIELDS.NOT")) {
      s.text = t.size() == 13 ? SectionText::kHeaderFields : SectionText::kHeaderFieldsNot;
      // header-list = "(" header-fld-name *(SP header-fld-name) ")"
      if (!sp() || !expect('(', "Expected a header list")) return false;
      for (;;) {
        if (!count_item(s.fields.size())) return false;
        if (!astring(s.fields.emplace_back())) return false;
        if (peek_is(')')) {
          ++pos_;
          break;
        }
        if (!sp()) return false;
      }
    } else {
      return fail("Invalid section");
    }
    return true;
  }

  // store = "STORE" SP sequence-set [SP "(" "UNCHANGEDSINCE" SP mod-sequence-valzer ")"] SP
  //         (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
  bool store(Store& s) {
    if (!sequence_set(s.set) || !sp()) return false;
    if (peek_is('(')) {
      ++pos_;
      for (;;) {
        if (!accept_word("UNCHANGEDSINCE")) return fail("Unknown STORE modifier");
        if (s.unchanged_since) return fail("Duplicate UNCHANGEDSINCE");
        if (!sp() || !number(s.unchanged_since.emplace(), kMaxNumber64)) return false;
        if (peek_is(')')) {
          ++pos_;
          break;
        }
        if (!sp()) return false;
      }
      if (!sp()) return false;
    }
    if (peek_is('+')) {
      s.mode = StoreMode::kAdd;
      ++pos_;
    } else if (peek_is('-')) {
      s.mode = StoreMode::kRemove;
      ++pos_;
    }
    const std::string_view item = label();
    if (iequals(item, "FLAGS.SILENT")) {
      s.silent = true;
    } else if (!iequals(item, "FLAGS")) {
      return fail("Expected FLAGS, +FLAGS or -FLAGS");
    }
    if (!sp()) return false;
    if (peek_is('(')) return flag_list(s.flags);
    for (;;) {
      if (!count_item(s.flags.size())) return false;
      if (!flag(s.flags.emplace_back())) return false;
      if (!peek_is(' ')) return true;
      ++pos_;
    }
  }

  bool copy_move(CopyMove& c) { return sequence_set(c.set) && sp() && astring(c.mailbox); }

  // charset = atom / quoted
  bool charset(std::string& out) {
    if (peek_is('"')) return quoted(out);
    return atom(out, "Expected a charset");
  }

  // sort = ["UID" SP] "SORT" SP sort-criteria SP search-criteria
  // sort-criteria = "(" sort-criterion *(SP sort-criterion) ")"
  // sort-criterion = ["REVERSE" SP] sort-key; search-criteria = charset 1*(SP search-key)
  bool sort(Sort& s) {
    if (!expect('(', "Expected sort criteria")) return false;
    std::size_t criteria = 0;
    for (;;) {
      SortCriterion c;
      std::string_view k = label();
      if (iequals(k, "REVERSE")) {
        c.reverse = true;
        if (!sp()) return false;
        k = label();
      }
      const NamedSortKey* named = find_named(kSortKeys, k);
      if (named == nullptr) return fail("Unknown sort criterion");
      c.key = named->key;
      if (!count_item(criteria++)) return false;
      // A key already given decides nothing more (the earlier one found the two equal):
      // dropped, so a thousand SUBJECTs cost one comparison, not a thousand.
      if (std::none_of(s.order.begin(), s.order.end(),
                       [&](const SortCriterion& o) { return o.key == c.key; })) {
        s.order.push_back(c);
      }
      if (peek_is(')')) {
        ++pos_;
        break;
      }
      if (!sp()) return false;
    }
    return sp() && charset(s.charset) && sp() && search_keys(s.criteria);
  }

  // thread = ["UID" SP] "THREAD" SP thread-alg SP search-criteria
  bool thread(Thread& t) {
    const std::string_view alg = label();
    if (iequals(alg, "REFERENCES")) {
      t.algorithm = ThreadAlgorithm::kReferences;
    } else if (iequals(alg, "ORDEREDSUBJECT")) {
      t.algorithm = ThreadAlgorithm::kOrderedSubject;
    } else {
      return fail("Unknown threading algorithm");
    }
    return sp() && charset(t.charset) && sp() && search_keys(t.criteria);
  }

  // id = "ID" SP id-params-list; id-params-list = "(" *(string SP nstring) ")" / nil
  // RFC 2971 section 3.3: at most 30 pairs, fields up to 30 octets, values up to 1024.
  bool id(Id& d) {
    const std::size_t save = pos_;
    if (accept_word("NIL")) return true;
    pos_ = save;
    if (!expect('(', "Expected ID parameters")) return false;
    while (!peek_is(')')) {
      if (d.fields.size() >= 30) return fail("Too many ID fields");
      auto& [field, value] = d.fields.emplace_back();
      if (!string(field) || !sp() || !nstring(value)) return false;
      if (field.size() > 30 || (value && value->size() > 1024)) return fail("ID field too long");
      if (!peek_is(')') && !sp()) return false;
    }
    ++pos_;
    return true;
  }

  bool get_quota(GetQuota& q) { return astring(q.root); }

  // setquota = "SETQUOTA" SP quota-root-name SP "(" [setquota-resource *(SP ...)] ")"
  // setquota-resource = resource-name SP resource-limit   (RFC 9208 section 7)
  bool set_quota(SetQuota& q) {
    if (!astring(q.root) || !sp() || !expect('(', "Expected quota limits")) return false;
    while (!peek_is(')')) {
      if (!count_item(q.limits.size())) return false;
      auto& [resource, limit] = q.limits.emplace_back();
      if (!atom(resource, "Expected a resource name") || !sp() || !number(limit, kMaxNumber64)) {
        return false;
      }
      if (!peek_is(')') && !sp()) return false;
    }
    ++pos_;
    return true;
  }

 private:
  std::string_view in_;
  const ParseOptions& opt_;
  std::size_t pos_ = 0;
  std::string_view tag_;
  const char* error_ = nullptr;
  std::size_t keys_ = 0;
  bool uid_ = false;
};

namespace {

constexpr States kAnyState{State::kNotAuthenticated, State::kAuthenticated, State::kSelected};
constexpr States kBeforeLogin{State::kNotAuthenticated};
constexpr States kLoggedIn{State::kAuthenticated, State::kSelected};
constexpr States kSelectedOnly{State::kSelected};
constexpr States kBeforeSelect{State::kAuthenticated};

template <typename T, bool (Parser::*Rule)(T&)>
constexpr ArgumentRule kRule = &Parser::rule<T, Rule>;

// Every command, in CommandName order. To add one: its CommandName and arguments type
// (command.hpp), a row here with its grammar rule, and its handler's row in
// imap/server/commands/registry.cpp.
constexpr std::array<CommandSpec, kCommandCount> kCommands{{
    // name, id, states, UID form, capability, arguments
    {"CAPABILITY", CommandName::kCapability, kAnyState, false, "", nullptr},
    {"NOOP", CommandName::kNoop, kAnyState, false, "", nullptr},
    {"LOGOUT", CommandName::kLogout, kAnyState, false, "", nullptr},
    {"STARTTLS", CommandName::kStarttls, kBeforeLogin, false, "STARTTLS", nullptr},
    {"AUTHENTICATE", CommandName::kAuthenticate, kBeforeLogin, false, "",
     kRule<Authenticate, &Parser::authenticate>},
    {"LOGIN", CommandName::kLogin, kBeforeLogin, false, "", kRule<Login, &Parser::login>},
    {"ENABLE", CommandName::kEnable, kBeforeSelect, false, "ENABLE",
     kRule<Enable, &Parser::enable>},
    {"SELECT", CommandName::kSelect, kLoggedIn, false, "", kRule<Select, &Parser::select>},
    {"EXAMINE", CommandName::kExamine, kLoggedIn, false, "", kRule<Select, &Parser::select>},
    {"CREATE", CommandName::kCreate, kLoggedIn, false, "", kRule<Create, &Parser::create>},
    {"DELETE", CommandName::kDelete, kLoggedIn, false, "",
     kRule<MailboxArgument, &Parser::mailbox_argument>},
    {"RENAME", CommandName::kRename, kLoggedIn, false, "", kRule<Rename, &Parser::rename>},
    {"SUBSCRIBE", CommandName::kSubscribe, kLoggedIn, false, "",
     kRule<MailboxArgument, &Parser::mailbox_argument>},
    {"UNSUBSCRIBE", CommandName::kUnsubscribe, kLoggedIn, false, "",
     kRule<MailboxArgument, &Parser::mailbox_argument>},
    {"LIST", CommandName::kList, kLoggedIn, false, "", kRule<List, &Parser::list>},
    {"LSUB", CommandName::kLsub, kLoggedIn, false, "", kRule<List, &Parser::lsub>},
    {"NAMESPACE", CommandName::kNamespace, kLoggedIn, false, "NAMESPACE", nullptr},
    {"STATUS", CommandName::kStatus, kLoggedIn, false, "", kRule<Status, &Parser::status>},
    {"APPEND", CommandName::kAppend, kLoggedIn, false, "", kRule<Append, &Parser::append>},
    {"IDLE", CommandName::kIdle, kLoggedIn, false, "IDLE", nullptr},
    {"CHECK", CommandName::kCheck, kSelectedOnly, false, "", nullptr},
    {"CLOSE", CommandName::kClose, kSelectedOnly, false, "", nullptr},
    {"UNSELECT", CommandName::kUnselect, kSelectedOnly, false, "UNSELECT", nullptr},
    {"EXPUNGE", CommandName::kExpunge, kSelectedOnly, true, "", &Parser::expunge},
    {"SEARCH", CommandName::kSearch, kSelectedOnly, true, "", kRule<Search, &Parser::search>},
    {"FETCH", CommandName::kFetch, kSelectedOnly, true, "", kRule<Fetch, &Parser::fetch>},
    {"STORE", CommandName::kStore, kSelectedOnly, true, "", kRule<Store, &Parser::store>},
    {"COPY", CommandName::kCopy, kSelectedOnly, true, "", kRule<CopyMove, &Parser::copy_move>},
    {"MOVE", CommandName::kMove, kSelectedOnly, true, "MOVE", kRule<CopyMove, &Parser::copy_move>},
    {"SORT", CommandName::kSort, kSelectedOnly, true, "SORT", kRule<Sort, &Parser::sort>},
    {"THREAD", CommandName::kThread, kSelectedOnly, true, "THREAD=REFERENCES",
     kRule<Thread, &Parser::thread>},
    {"ID", CommandName::kId, kAnyState, false, "ID", kRule<Id, &Parser::id>},
    {"GETQUOTA", CommandName::kGetQuota, kLoggedIn, false, "QUOTA",
     kRule<GetQuota, &Parser::get_quota>},
    {"GETQUOTAROOT", CommandName::kGetQuotaRoot, kLoggedIn, false, "QUOTA",
     kRule<MailboxArgument, &Parser::mailbox_argument>},
    {"SETQUOTA", CommandName::kSetQuota, kLoggedIn, false, "QUOTA",
     kRule<SetQuota, &Parser::set_quota>},
}};

constexpr bool in_command_order() {
  for (std::size_t i = 0; i < kCommands.size(); ++i) {
    if (static_cast<std::size_t>(kCommands[i].id) != i) return false;
  }
  return true;
}
static_assert(in_command_order(), "kCommands is indexed by CommandName");

}  // namespace

bool Parser::command(Command& c) {
  tag_ = take(kTagChar);
  if (tag_.empty()) return fail(at_end() ? "Empty command" : "Missing or invalid tag");
  if (!peek_is(' ')) {
    tag_ = {};
    return fail("Missing or invalid tag");
  }
  c.tag.assign(tag_);
  ++pos_;
  std::string_view name = label();
  if (name.empty()) return fail("Missing command");
  if (iequals(name, "UID")) {
    if (!peek_is(' ')) return fail("UID needs a command");
    ++pos_;
    c.uid = true;
    name = label();
  }
  const CommandSpec* spec = find_named(kCommands, name);
  if (spec == nullptr || (!at_end() && !peek_is(' '))) return fail("Unknown command");
  c.name = spec->id;
  if (c.uid && !spec->uid) return fail("Not a UID command");
  uid_ = c.uid;
  if (spec->arguments != nullptr && !spec->arguments(*this, c)) return false;
  if (!at_end()) return fail("Unexpected extra arguments");
  return true;
}

std::span<const CommandSpec> command_specs() noexcept {
  return kCommands;
}

const CommandSpec& command_spec(CommandName name) noexcept {
  return kCommands[static_cast<std::size_t>(name)];
}

std::string_view command_name(CommandName name) noexcept {
  return command_spec(name).name;
}

Result<Command, ParseError> parse_command(std::string_view command, const ParseOptions& options) {
  return Parser(command, options).run();
}

void wipe_credentials(Command& command) noexcept {
  if (auto* login = std::get_if<Login>(&command.arguments)) {
    wipe_string(login->user);
    wipe_string(login->password);
  } else if (auto* auth = std::get_if<Authenticate>(&command.arguments)) {
    if (auth->initial_response) wipe_string(*auth->initial_response);
  }
}

bool is_idle_done(std::string_view line) noexcept {
  return iequals(line, "DONE");
}

Result<SaslResponse, std::string> parse_sasl_response(std::string_view line) {
  if (line == "*") return SaslResponse{true, {}};
  if (!core::is_base64(line)) return unexpected(std::string("Invalid base64 in SASL response"));
  return SaslResponse{false, line};
}

// ---------------------------------------------------------------------------------------------
// Modified UTF-7 (RFC 3501 section 5.1.3): printable ASCII stands for itself ("&" as "&-");
// anything else is UTF-16BE in base64 with "," for "/", no padding, between "&" and "-".

namespace {

constexpr std::string_view kMutf7Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int mutf7_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == ',') return 63;
  return -1;
}

bool is_printable_ascii(char32_t c) noexcept {
  return c >= 0x20 && c <= 0x7E;
}

}  // namespace

std::optional<std::string> decode_mutf7(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  std::size_t i = 0;
  while (i < name.size()) {
    const char c = name[i];
    if (!is_printable_ascii(static_cast<unsigned char>(c))) return std::nullopt;
    if (c != '&') {
      out += c;
      ++i;
      continue;
    }
    const std::size_t end = name.find('-', i + 1);
    if (end == std::string_view::npos) return std::nullopt;
    if (end == i + 1) {
      out += '&';
      i = end + 1;
      continue;
    }
    std::uint32_t bits = 0;
    int nbits = 0;
    char32_t high = 0;  // a pending high surrogate
    bool any = false;
    for (std::size_t k = i + 1; k < end; ++k) {
      const int v = mutf7_value(name[k]);
      if (v < 0) return std::nullopt;
      bits = (bits << 6) | static_cast<std::uint32_t>(v);
      nbits += 6;
      if (nbits < 16) continue;
      nbits -= 16;
      const auto unit = static_cast<char32_t>((bits >> nbits) & 0xFFFF);
      bits &= (1U << nbits) - 1;
      any = true;
      if (high != 0) {
        if (unit < 0xDC00 || unit > 0xDFFF) return std::nullopt;
        core::append_utf8(out, 0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00));
        high = 0;
      } else if (unit >= 0xD800 && unit <= 0xDBFF) {
        high = unit;
      } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
        return std::nullopt;
      } else {
        if (is_printable_ascii(unit)) return std::nullopt;
        core::append_utf8(out, unit);
      }
    }
    // Leftover bits: fewer than six, all zero; nothing pending.
    if (!any || high != 0 || nbits >= 6 || bits != 0) return std::nullopt;
    i = end + 1;
  }
  return out;
}

std::optional<std::string> encode_mutf7(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  std::uint32_t bits = 0;
  int nbits = 0;
  bool shifted = false;
  const auto flush = [&] {
    if (nbits > 0) out += kMutf7Alphabet[(bits << (6 - nbits)) & 0x3F];
    out += '-';
    bits = 0;
    nbits = 0;
    shifted = false;
  };
  const auto put_unit = [&](char32_t unit) {
    bits = (bits << 16) | static_cast<std::uint32_t>(unit);
    nbits += 16;
    while (nbits >= 6) {
      nbits -= 6;
      out += kMutf7Alphabet[(bits >> nbits) & 0x3F];
    }
    bits &= (1U << nbits) - 1;
  };
  std::size_t i = 0;
  while (i < utf8.size()) {
    const auto seq = core::next_utf8(utf8.substr(i));
    if (seq.length == 0) return std::nullopt;
    const char32_t cp = seq.code_point;
    i += seq.length;
    if (is_printable_ascii(cp)) {
      if (shifted) flush();
      out += static_cast<char>(cp);
      if (cp == '&') out += '-';
      continue;
    }
    if (!shifted) {
      out += '&';
      shifted = true;
    }
    if (cp >= 0x10000) {
      put_unit(0xD800 + ((cp - 0x10000) >> 10));
      put_unit(0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
      put_unit(cp);
    }
  }
  if (shifted) flush();
  return out;
}

}  // namespace sealpost::imap::protocol
