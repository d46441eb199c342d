// The IMAP command grammar: IMAP4rev2 (RFC 9051 section 9) and IMAP4rev1 (RFC 3501 section 9),
// with the extensions the server offers (IDLE, UIDPLUS, MOVE, CONDSTORE/QRESYNC, ENABLE,
// SPECIAL-USE, CREATE-SPECIAL-USE, LIST-EXTENDED, LIST-STATUS, LITERAL+/LITERAL-, NAMESPACE, ID,
// UNSELECT, ESEARCH, SEARCHRES, SASL-IR, STATUS=SIZE, QUOTA, APPENDLIMIT, SORT, THREAD, BINARY,
// UTF8=ACCEPT). Pure: no I/O and no state beyond one command; the session owns the state machine
// (which commands a state allows, which extensions were ENABLEd, what a mailbox name means).
//
// Two layers. CommandReader frames a command out of the bytes a client sends: one line, or
// several joined by literals ("{n}" synchronising, "{n+}" non-synchronising, "~{n}" literal8),
// and tells the session when it must send a continuation and when a literal or a line is past
// its limit, so the session can refuse it without buffering it. parse_command() turns a framed
// command into a typed Command or the reason for a BAD.
//
// Bounded everywhere: line, literal (APPENDLIMIT), command size and literal count in the reader;
// sequence-set ranges, list lengths, search keys and their nesting in the parser. The parser
// never recurses deeper than ParseOptions::max_depth and never throws on input. Line ends are
// CRLF; a bare LF is accepted as one (as Dovecot does), a bare CR is not a line end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/result.hpp"

namespace sealpost::imap::protocol {

// ---------------------------------------------------------------------------------------------
// Framing

struct ReaderLimits {
  // Octets of one line outside literals, its CRLF included. RFC 7162 section 4 asks for at least
  // 8192; 64 KiB lets a client send long UID sets.
  std::size_t max_line = std::size_t{64} * 1024;
  // Largest literal in APPEND: the APPENDLIMIT the server advertises (RFC 7889).
  std::uint64_t max_literal = std::uint64_t{64} * 1024 * 1024;
  // Largest literal in any other command (mailbox names, passwords, search strings).
  std::uint64_t max_argument_literal = std::uint64_t{64} * 1024;
  // Octets of a whole command: its lines and literals together.
  std::uint64_t max_command = std::uint64_t{65} * 1024 * 1024;
  // Literals in one command.
  std::size_t max_literals = 64;
  // LITERAL+ is advertised; when false the server offers LITERAL- and a non-synchronising
  // literal over 4096 octets is refused (RFC 7888 section 4).
  bool literal_plus = true;
  // Commands carry passwords (before login): the octets of a command are zeroed when it is
  // forgotten (next(), discard(), wipe()) and when its buffer grows into a new one.
  bool wipe = false;
};

// RFC 7888 section 4: the largest non-synchronising literal LITERAL- allows.
inline constexpr std::uint64_t kLiteralMinusMax = 4096;

struct LiteralInfo {
  std::size_t offset = 0;  // where its octets start in CommandReader::command()
  std::uint64_t size = 0;
  bool synchronizing = true;  // "{n}": the client waits for a continuation before sending it
  bool binary = false;        // literal8 "~{n}" (RFC 3516): any octet, NUL included
};

enum class ReadStatus : std::uint8_t {
  kNeedMore,  // everything given was consumed; feed more
  kReady,     // command() is complete: parse it, then call next()
  kContinue,  // a synchronising literal was announced (pending_literal()): send "+ ..." and
              // call accept_literal(), or refuse it with a tagged NO/BAD and call discard()
  kTooLarge,  // overflow() tells what; answer (BAD or NO [TOOBIG]) and discard() or close
};

enum class Overflow : std::uint8_t {
  kNone,
  kLine,            // a line past max_line
  kLiteral,         // a literal past max_literal (APPEND) or max_argument_literal
  kNonSyncLiteral,  // a non-synchronising literal over 4096 octets under LITERAL-
  kCommand,         // the command would pass max_command
  kLiteralCount,    // more than max_literals literals
};

// Frames commands out of the client's byte stream. Usage:
//   for each read: while bytes remain: status = reader.feed(bytes, n); bytes.remove_prefix(n);
//     kReady: parse_command(reader.command()), answer, reader.next()
//     kContinue: write "+ Ready", reader.accept_literal()
//     kTooLarge: write the tagged rejection, reader.discard() (or close the connection)
// feed() consumes nothing while a command is ready, a continuation is pending or a rejection
// waits for discard(), so commands pipelined behind one are never read early.
class CommandReader {
 public:
  explicit CommandReader(ReaderLimits limits = {}) : limits_(limits) {}

  // Consumes a prefix of `input`; `consumed` is set to its length (never more than input.size()).
  ReadStatus feed(std::string_view input, std::size_t& consumed);

  // kReady: the command as received without its final line end: lines, the line ends that
  // precede literals, and the literals' octets, ready for parse_command().
  [[nodiscard]] std::string_view command() const noexcept { return buffer_; }
  [[nodiscard]] const std::vector<LiteralInfo>& literals() const noexcept { return literals_; }
  // Forgets the ready command (and the memory a large one took) and reads the next.
  void next();
  // Zeroes what the reader holds of the command being read, whatever its state (a session
  // that ends in the middle of a LOGIN).
  void wipe() noexcept;

  // The next unit is a plain line, not a command: an AUTHENTICATE response or IDLE's "DONE".
  // It is delivered as kReady (maybe empty); "{n}" at its end is not a literal.
  void expect_line() noexcept { plain_line_ = true; }

  // kContinue: the literal the client waits to send.
  [[nodiscard]] const LiteralInfo& pending_literal() const noexcept { return pending_; }
  void accept_literal() noexcept;

  // kTooLarge: what was too large, and whether the client is waiting (a refused synchronising
  // literal: it will not send it) or still sending (the octets must be skipped or the
  // connection closed). literal_size() is the announced size when a literal was refused
  // (UINT64_MAX when it does not fit a number64: better close than skip).
  [[nodiscard]] Overflow overflow() const noexcept { return overflow_; }
  [[nodiscard]] bool client_waiting() const noexcept { return waiting_; }
  [[nodiscard]] std::uint64_t literal_size() const noexcept { return pending_.size; }
  // Whether the command being read is an APPEND (its message literal is bounded by
  // max_literal, APPENDLIMIT; every other literal by max_argument_literal).
  [[nodiscard]] bool appending() const noexcept { return append_; }
  // The tag of the command being read, when its first line has one; "" otherwise.
  [[nodiscard]] std::string_view tag() const noexcept;
  // Drops the refused command (at kTooLarge or kContinue). What the client still sends of it
  // (the rest of a line, a non-synchronising literal, the lines after it) is consumed and
  // dropped by the following feed() calls; a synchronising literal announced later ends it.
  void discard();

 private:
  enum class State : std::uint8_t {
    kLine,        // reading a line into buffer_
    kLiteral,     // copying a literal's octets
    kReady,       // a command waits for next()
    kContinue,    // a synchronising literal waits for accept_literal() or discard()
    kTooLarge,    // a rejection waits for discard()
    kSkipLine,    // discarding: to the end of a line
    kSkipLiteral  // discarding: a literal's octets
  };

  ReadStatus end_of_line();
  void append(const char* data, std::size_t size);
  void start_literal() noexcept;
  ReadStatus refuse(Overflow what, bool waiting);
  void reset_command();
  void start_skipping_line();
  void note_skipped(std::string_view bytes);

  ReaderLimits limits_;
  State state_ = State::kLine;
  std::string buffer_;
  std::vector<LiteralInfo> literals_;
  std::size_t line_start_ = 0;      // where the current line starts in buffer_
  std::uint64_t literal_left_ = 0;  // octets of the literal still to read or skip
  LiteralInfo pending_;             // the literal announced last
  Overflow overflow_ = Overflow::kNone;
  bool waiting_ = false;  // kTooLarge: the client sends nothing more of the command
  bool plain_line_ = false;
  bool skip_plain_ = false;  // the line being skipped is a plain line
  bool append_ = false;      // the command is APPEND (its literals may be large)
  // The last octets of a line being skipped, to see whether it announced a literal.
  char tail_[32] = {};
  std::size_t tail_size_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Values

// "*" in a sequence set: the largest number in use (message count or highest UID). nz-number
// is never 0, so 0 stands for it.
inline constexpr std::uint32_t kSeqStar = 0;

struct SeqRange {
  std::uint32_t first = 0;  // as written: "5:3" and "*:1" keep their order
  std::uint32_t last = 0;   // == first for a single number
};

struct SequenceSet {
  std::vector<SeqRange> ranges;
  bool saved = false;  // "$": the result SEARCH RETURN (SAVE) kept (RFC 5182); ranges is empty

  [[nodiscard]] bool has_star() const noexcept;
  // Whether `n` is in the set, "*" standing for `largest`. Not meaningful for "$".
  [[nodiscard]] bool contains(std::uint32_t n, std::uint32_t largest) const noexcept;
  // The set as ascending, disjoint, non-adjacent closed intervals, "*" standing for `largest`.
  [[nodiscard]] std::vector<std::pair<std::uint32_t, std::uint32_t>> intervals(
      std::uint32_t largest) const;
};

struct Date {
  int year = 0;
  int month = 0;  // 1-12
  int day = 0;    // 1-31, valid for the month
};

struct DateTime {
  Date date;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int zone_minutes = 0;  // east of UTC: "-0700" is -420
  // Seconds since the epoch (UTC).
  [[nodiscard]] std::int64_t unix_time() const noexcept;
};

enum class StatusItem : std::uint8_t {
  kMessages,
  kUidNext,
  kUidValidity,
  kUnseen,
  kDeleted,        // RFC 9051
  kSize,           // STATUS=SIZE
  kRecent,         // IMAP4rev1
  kHighestModSeq,  // CONDSTORE
  kAppendLimit,    // APPENDLIMIT
};

// ---------------------------------------------------------------------------------------------
// Arguments of each command

struct Authenticate {
  std::string mechanism;  // as sent; compare case-insensitively
  // SASL-IR (RFC 4959): base64 as sent, checked for syntax only; "=" stands for an empty one.
  std::optional<std::string> initial_response;
};

struct Login {
  std::string user;
  std::string password;
};

struct Enable {
  std::vector<std::string> capabilities;  // as sent
};

// QRESYNC select parameter (RFC 7162 section 3.2.5).
struct Qresync {
  std::uint32_t uidvalidity = 0;
  std::uint64_t modseq = 0;
  std::optional<SequenceSet> known_uids;
  // seq-match-data: message numbers and the UIDs the client knows for them.
  std::optional<SequenceSet> known_sequence_set;
  std::optional<SequenceSet> known_uid_set;
};

struct Select {  // SELECT and EXAMINE
  std::string mailbox;
  bool condstore = false;
  std::optional<Qresync> qresync;
};

struct Create {
  std::string mailbox;
  std::vector<std::string> special_use;  // CREATE-SPECIAL-USE "USE (\Drafts ...)", as sent
};

struct MailboxArgument {  // DELETE, SUBSCRIBE, UNSUBSCRIBE, GETQUOTAROOT
  std::string mailbox;
};

struct Rename {
  std::string from;
  std::string to;
};

struct ListSelection {  // LIST-EXTENDED selection options (RFC 5258, RFC 6154)
  bool subscribed = false;
  bool remote = false;
  bool recursive_match = false;
  bool special_use = false;
};

struct ListReturn {  // LIST-EXTENDED return options (RFC 5258, RFC 6154, RFC 5819)
  bool subscribed = false;
  bool children = false;
  bool special_use = false;
  bool status = false;
  std::vector<StatusItem> status_items;
};

struct List {  // LIST and LSUB
  std::string reference;
  std::vector<std::string> patterns;  // one for LSUB and the basic LIST
  bool extended = false;              // selection options, several patterns or RETURN were given
  ListSelection selection;
  ListReturn returns;
};

struct Status {
  std::string mailbox;
  std::vector<StatusItem> items;  // as asked, at least one
};

struct Append {
  std::string mailbox;
  std::vector<std::string> flags;
  std::optional<DateTime> date_time;
  // The message: views the command buffer, valid until CommandReader::next().
  std::string_view message;
  bool binary = false;  // sent as literal8 (RFC 3516): may hold NUL and any octet
  bool utf8 = false;    // "UTF8 (~{n}...)" (RFC 6855): a message with UTF-8 headers
};

enum class SearchKeyType : std::uint8_t {
  kAll,
  kAnswered,
  kDeleted,
  kDraft,
  kFlagged,
  kNew,     // IMAP4rev1
  kOld,     // IMAP4rev1
  kRecent,  // IMAP4rev1
  kSeen,
  kUnanswered,
  kUndeleted,
  kUndraft,
  kUnflagged,
  kUnseen,
  kKeyword,    // text: the keyword
  kUnkeyword,  // text: the keyword
  kBcc,        // text: the string; also the rest below
  kBody,
  kCc,
  kFrom,
  kSubject,
  kText,
  kTo,
  kHeader,  // text: field name, value: the string
  kBefore,  // date; also the rest below
  kOn,
  kSince,
  kSentBefore,
  kSentOn,
  kSentSince,
  kLarger,       // number
  kSmaller,      // number
  kModSeq,       // number; text/value: entry name and type when given (RFC 7162 section 3.1.5)
  kUid,          // set
  kSequenceSet,  // set
  kNot,          // children: one
  kOr,           // children: two
  kAnd,          // children: a parenthesised list, or the keys of a search program
};

struct SearchKey {
  SearchKeyType type = SearchKeyType::kAll;
  std::string text;
  std::string value;
  Date date;
  std::uint64_t number = 0;
  SequenceSet set;
  std::vector<SearchKey> children;
};

struct SearchReturn {  // ESEARCH RETURN options (RFC 4731, RFC 5182)
  bool min = false;
  bool max = false;
  bool all = false;
  bool count = false;
  bool save = false;
};

struct Search {
  std::optional<std::string> charset;
  SearchKey criteria;    // kAnd of the keys given
  bool esearch = false;  // RETURN given: answer with ESEARCH ("RETURN ()" means ALL)
  SearchReturn returns;
};

enum class FetchAttribute : std::uint8_t {
  kEnvelope,
  kFlags,
  kInternalDate,
  kRfc822,  // IMAP4rev1: BODY[]
  kRfc822Header,
  kRfc822Size,
  kRfc822Text,
  kBody,  // BODY without section: the non-extensible BODYSTRUCTURE
  kBodyStructure,
  kUid,
  kBodySection,  // BODY[section]<partial>, BODY.PEEK[...]
  kBinary,       // BINARY[part]<partial>, BINARY.PEEK[...]
  kBinarySize,   // BINARY.SIZE[part]
  kModSeq,       // CONDSTORE
};

enum class SectionText : std::uint8_t {
  kNone,  // the whole part (or message)
  kHeader,
  kHeaderFields,
  kHeaderFieldsNot,
  kText,
  kMime,  // only after a part number
};

struct Section {
  std::vector<std::uint32_t> part;  // "1.2.3"; empty for the message itself
  SectionText text = SectionText::kNone;
  std::vector<std::string> fields;  // HEADER.FIELDS (...) as sent
};

struct Partial {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;  // > 0
};

struct FetchItem {
  FetchAttribute attribute = FetchAttribute::kFlags;
  bool peek = false;  // BODY.PEEK / BINARY.PEEK: \Seen is not set
  Section section;
  std::optional<Partial> partial;
};

struct Fetch {
  SequenceSet set;
  // ALL, FAST and FULL expanded; each item once (a repeated item is merged into the first: a
  // FETCH of BODY.PEEK[] a thousand times answers with it once per message).
  std::vector<FetchItem> items;
  std::optional<std::uint64_t> changed_since;  // CONDSTORE modifier
  bool vanished = false;  // QRESYNC modifier (UID FETCH with CHANGEDSINCE only)
};

enum class StoreMode : std::uint8_t { kReplace, kAdd, kRemove };

struct Store {
  SequenceSet set;
  StoreMode mode = StoreMode::kReplace;
  bool silent = false;
  std::vector<std::string> flags;
  std::optional<std::uint64_t> unchanged_since;  // CONDSTORE modifier (0 allowed)
};

struct CopyMove {
  SequenceSet set;
  std::string mailbox;
};

struct Expunge {  // UID EXPUNGE (UIDPLUS)
  SequenceSet set;
};

enum class SortKey : std::uint8_t { kArrival, kCc, kDate, kFrom, kSize, kSubject, kTo };

struct SortCriterion {
  SortKey key = SortKey::kArrival;
  bool reverse = false;
};

struct Sort {  // RFC 5256
  std::vector<SortCriterion> order;
  std::string charset;
  SearchKey criteria;  // kAnd
};

enum class ThreadAlgorithm : std::uint8_t { kOrderedSubject, kReferences };

struct Thread {  // RFC 5256
  ThreadAlgorithm algorithm = ThreadAlgorithm::kReferences;
  std::string charset;
  SearchKey criteria;  // kAnd
};

struct Id {  // RFC 2971; NIL and "()" both give no fields
  std::vector<std::pair<std::string, std::optional<std::string>>> fields;
};

struct GetQuota {  // RFC 9208
  std::string root;
};

struct SetQuota {  // RFC 9208
  std::string root;
  std::vector<std::pair<std::string, std::uint64_t>> limits;  // resource name as sent, limit
};

enum class CommandName : std::uint8_t {
  kCapability,
  kNoop,
  kLogout,
  kStarttls,
  kAuthenticate,
  kLogin,
  kEnable,
  kSelect,
  kExamine,
  kCreate,
  kDelete,
  kRename,
  kSubscribe,
  kUnsubscribe,
  kList,
  kLsub,
  kNamespace,
  kStatus,
  kAppend,
  kIdle,
  kCheck,
  kClose,
  kUnselect,
  kExpunge,
  kSearch,
  kFetch,
  kStore,
  kCopy,
  kMove,
  kSort,
  kThread,
  kId,
  kGetQuota,
  kGetQuotaRoot,
  kSetQuota,
};

// The command's name as the RFCs spell it ("UID" not included).
std::string_view command_name(CommandName name) noexcept;

using Arguments = std::variant<std::monostate, Authenticate, Login, Enable, Select, Create,
                               MailboxArgument, Rename, List, Status, Append, Search, Fetch, Store,
                               CopyMove, Expunge, Sort, Thread, Id, GetQuota, SetQuota>;

struct Command {
  std::string tag;
  bool uid = false;  // UID FETCH/STORE/COPY/MOVE/SEARCH/EXPUNGE/SORT/THREAD
  CommandName name = CommandName::kNoop;
  Arguments arguments;  // std::monostate for commands without arguments
};

// ---------------------------------------------------------------------------------------------
// The commands

// RFC 9051 section 3: the states of a connection.
enum class State : std::uint8_t { kNotAuthenticated, kAuthenticated, kSelected, kLogout };

// The states a command is valid in.
class States {
 public:
  constexpr States(std::initializer_list<State> states) noexcept {
    for (const State s : states) bits_ = static_cast<std::uint8_t>(bits_ | bit(s));
  }
  [[nodiscard]] constexpr bool has(State s) const noexcept { return (bits_ & bit(s)) != 0; }
  [[nodiscard]] constexpr bool operator==(const States&) const noexcept = default;

 private:
  static constexpr std::uint8_t bit(State s) noexcept {
    return static_cast<std::uint8_t>(1U << static_cast<unsigned>(s));
  }
  std::uint8_t bits_ = 0;
};

class Parser;  // command.cpp
// Parses a command's arguments, from the end of its name, into Command::arguments.
using ArgumentRule = bool (*)(Parser&, Command&);

// One row per command (command.cpp): what the grammar and the state machine know of it. The
// session binds a handler to each row (imap/server/commands/registry.cpp) and refuses a command
// in a state the row does not name.
struct CommandSpec {
  std::string_view name;  // as the RFCs spell it
  CommandName id;
  States states;
  bool uid = false;  // has a UID form (RFC 9051's "uid" rule; UID EXPUNGE is UIDPLUS's)
  // The capability that announces it to an IMAP4rev1 client; "" for IMAP4rev1's own commands.
  std::string_view capability;
  ArgumentRule arguments = nullptr;  // nullptr: the command takes none
};

inline constexpr std::size_t kCommandCount = static_cast<std::size_t>(CommandName::kSetQuota) + 1;

// Every command, in CommandName order.
std::span<const CommandSpec> command_specs() noexcept;
const CommandSpec& command_spec(CommandName name) noexcept;

// ---------------------------------------------------------------------------------------------
// Parsing

struct ParseOptions {
  // UTF8=ACCEPT is enabled (RFC 6855, or IMAP4rev2 after ENABLE): quoted strings may hold UTF-8
  // (it must be valid). Without it only literals may carry 8-bit octets.
  bool utf8 = false;
  // Nesting of search keys: parentheses, NOT and OR each add a level.
  std::size_t max_depth = 32;
  // Search keys in one command.
  std::size_t max_search_keys = 1000;
  // Ranges in one sequence set.
  std::size_t max_ranges = 10'000;
  // Elements of any other list: fetch items, flags, patterns, header fields, part numbers...
  std::size_t max_items = 1'000;
  // Distinct items of one FETCH that send message octets (BODY[...], BINARY[...], RFC822*):
  // each is a literal per message, so this bounds what one command asks per message.
  std::size_t max_fetch_sections = 64;
};

struct ParseError {
  std::string tag;     // "*" when the command has no valid tag
  std::string reason;  // short text for the BAD response
};

// `command` is a framed command: CommandReader::command(), or one line without its CRLF.
Result<Command, ParseError> parse_command(std::string_view command,
                                          const ParseOptions& options = {});

// Zeroes the credentials a command carries (LOGIN's user and password, AUTHENTICATE's initial
// response), the whole of their buffers: the session calls it once the command is answered.
void wipe_credentials(Command& command) noexcept;

// IDLE ends with a line "DONE" (any case).
bool is_idle_done(std::string_view line) noexcept;

// A client's answer to an AUTHENTICATE challenge (RFC 9051 section 6.2.2): base64 (maybe
// empty), or "*" to cancel. The base64 is checked, not decoded.
struct SaslResponse {
  bool cancelled = false;
  std::string_view base64;
};
Result<SaslResponse, std::string> parse_sasl_response(std::string_view line);

// Modified UTF-7 mailbox names (RFC 3501 section 5.1.3), for IMAP4rev1 clients that have not
// enabled UTF8=ACCEPT. decode_mutf7 gives UTF-8 and fails on 8-bit input, bad base64, an
// encoded printable ASCII character, a bad surrogate or an unterminated shift; encode_mutf7
// fails on invalid UTF-8.
std::optional<std::string> decode_mutf7(std::string_view name);
std::optional<std::string> encode_mutf7(std::string_view utf8);

}  // namespace sealpost::imap::protocol
