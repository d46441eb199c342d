// The IMAP session's state and the handlers of its commands. session.cpp reads commands, writes
// answers and dispatches each command to its handler in the states the command table
// (imap/protocol/command.cpp) allows; the handlers are in commands/, one file per command (or
// per pair of commands that share one, as COPY and MOVE), bound to their rows in
// commands/registry.cpp. selected.cpp keeps the view of the selected folder they share,
// mailboxes.cpp mailbox names, search_program.cpp the evaluation of SEARCH criteria.
//
// One coroutine per connection on its strand. Every store access runs on the worker pool
// (net::run_blocking) with the session suspended; the session's own state is touched only on its
// strand. Sequence numbers are the positions of the UIDs the client has been told about
// (`Selected::uids`); what other sessions and deliveries change is reported at command
// boundaries and during IDLE (`refresh`).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "access/context.hpp"
#include "access/login.hpp"
#include "imap/protocol/command.hpp"
#include "net/admission.hpp"
#include "net/blocking.hpp"
#include "net/line_connection.hpp"

namespace sealpost::imap::server {

// Whether a SEARCH program asks the full-text index (BODY, TEXT, FROM, TO, CC, BCC, SUBJECT).
bool needs_full_text(const protocol::SearchKey& key);

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(access::AccessContext& context, boost::asio::ip::tcp::socket socket,
          net::ConnectionLimiter::Ticket ticket, std::string client_ip, bool implicit_tls);
  ~Session();
  static void start(const std::shared_ptr<Session>& session);

 private:
  using State = protocol::State;
  // A command's handler: one per row of the command table (commands/registry.cpp).
  using Handler = boost::asio::awaitable<void> (Session::*)(const protocol::Command&);
  static const std::array<Handler, protocol::kCommandCount> kHandlers;

  struct Selected {
    std::int64_t folder_id = 0;
    std::string name;  // as stored (UTF-8)
    bool read_only = false;
    std::uint32_t uidvalidity = 0;
    std::vector<std::uint32_t> uids;   // sequence number n is uids[n - 1]
    std::uint64_t modseq = 0;          // changes up to here have been reported
    std::vector<std::uint32_t> saved;  // SEARCH RETURN (SAVE) result, as UIDs (RFC 5182)
    // IMAP4rev1's \Recent (RFC 3501 2.3.2), ascending: the UIDs this session claimed (read-write)
    // or found unclaimed (EXAMINE). Empty under IMAP4rev2, which has no \Recent.
    std::vector<std::uint32_t> recent;
    // The keywords the FLAGS response has listed (RFC 9051 7.3.5), at most kListedKeywords.
    std::vector<std::string> keywords;
  };
  static constexpr std::size_t kListedKeywords = 256;

  // ---- session.cpp: I/O and dispatch
  static boost::asio::awaitable<void> serve(std::shared_ptr<Session> self);
  boost::asio::awaitable<void> run();
  // The next framed unit from the client (reading as needed); nullopt when the connection ended.
  boost::asio::awaitable<std::optional<protocol::ReadStatus>> next_unit();
  boost::asio::awaitable<bool> fill();
  // Writes what is buffered. `shrink`: give back a large buffer (at command boundaries, so an
  // idle session is small), not while an answer is being streamed.
  boost::asio::awaitable<bool> flush(bool shrink = true) { return conn_.write(out_, shrink); }
  // Writes once kOutputHigh octets are buffered: loops that answer with many responses (FETCH,
  // SEARCH, SORT, THREAD, LIST, the updates of refresh) call it as they go, so what a session
  // holds does not grow with the answer. False when the client is gone.
  boost::asio::awaitable<bool> flush_if_large();
  // "{n}" (or literal8 "~{n}" for `binary` octets holding a NUL) CRLF and the octets, appended
  // kOutputPiece at a time and written as they pass kOutputHigh.
  boost::asio::awaitable<bool> send_literal(std::string_view bytes, bool binary);
  // Octets appended kOutputPiece at a time, written as they pass kOutputHigh.
  boost::asio::awaitable<bool> send_text(std::string_view bytes);
  // " n" for each number, as SEARCH and SORT answer, written as they pass kOutputHigh.
  boost::asio::awaitable<bool> send_numbers(const std::vector<std::uint32_t>& numbers);
  static constexpr std::size_t kOutputHigh = std::size_t{256} * 1024;
  static constexpr std::size_t kOutputPiece = std::size_t{64} * 1024;
  // Runs the command's handler when the command table allows it in this state.
  boost::asio::awaitable<void> dispatch(const protocol::Command& cmd);
  bool count_error();
  void tagged(const protocol::Command& cmd, std::string_view status, std::string_view text);
  [[nodiscard]] std::string capabilities() const;
  [[nodiscard]] protocol::ParseOptions parse_options() const;

  // Runs `f(MessageStore&)` on the worker pool with the mailbox to itself.
  template <typename F>
  auto with_store(F f) {
    return net::run_blocking(ctx_.blocking, [this, f]() mutable {
      return mailbox_->with([&](store::mailbox::MessageStore& s) { return f(s); });
    });
  }
  // The same for work that only reads: on one of the mailbox's readers, beside other sessions'
  // reads and writes (OpenMailbox::read).
  template <typename F>
  auto read_store(F f) {
    return net::run_blocking(ctx_.blocking, [this, f]() mutable {
      return mailbox_->read([&](store::mailbox::MessageStore& s) { return f(s); });
    });
  }
  // read_store for SEARCH, SORT and THREAD: a reader searches what the writer has indexed, so
  // when the criteria use the full-text index the writer first indexes what waits.
  template <typename F>
  auto search_store(const protocol::SearchKey& criteria, F f) {
    const bool index = needs_full_text(criteria);
    return net::run_blocking(ctx_.blocking, [this, f, index]() mutable {
      if (index) mailbox_->with([](store::mailbox::MessageStore& s) { s.index_pending(); });
      return mailbox_->read([&](store::mailbox::MessageStore& s) { return f(s); });
    });
  }

  // ---- mailboxes.cpp: names
  // A client's mailbox name as stored (UTF-8, INBOX in capitals); nullopt when invalid.
  [[nodiscard]] std::optional<std::string> decode_name(std::string_view name) const;
  void append_name(std::string& out, std::string_view stored) const;

  // ---- selected.cpp: the view of the selected folder
  // Tells the client what changed in the selected folder since it was last told. Expunges are
  // held back (allow_expunge false) during FETCH, STORE and SEARCH by sequence number, whose
  // numbers must not shift under the client (RFC 9051 section 7.5.1).
  boost::asio::awaitable<void> refresh(bool allow_expunge);
  void deselect();
  // "[HIGHESTMODSEQ n] " for the tagged OK of EXPUNGE and MOVE under QRESYNC; "" otherwise.
  [[nodiscard]] std::string highest_modseq_code() const;
  // The UIDs a sequence set names, in ascending order: by UID (only those that exist) or by
  // sequence number (false when a number is past the last message: BAD).
  bool resolve(const protocol::SequenceSet& set, bool uid, std::vector<std::uint32_t>& uids,
               std::string& error) const;
  // resolve() for the command's set; false after answering BAD.
  bool resolve_or_refuse(const protocol::Command& cmd, const protocol::SequenceSet& set,
                         std::vector<std::uint32_t>& uids);
  [[nodiscard]] std::uint32_t sequence_of(std::uint32_t uid) const;  // 0 when unknown
  [[nodiscard]] bool is_recent(std::uint32_t uid) const;
  // "* FLAGS (...)" and "* OK [PERMANENTFLAGS (...)]": the system flags and the selected
  // folder's keywords (none permanent under EXAMINE).
  void append_flags_responses();
  // Tells the client of keywords it has not been told of yet (a new FLAGS list), as the session
  // meets them in changes: before the FETCH responses that show them.
  void learn_keywords(const std::vector<std::string>& keywords);
  // The \Recent messages the client knows of, for "* n RECENT".
  [[nodiscard]] std::size_t recent_count() const;
  // Takes the folder's unclaimed messages as this session's \Recent: claimed in the store
  // (read-write), or only seen among `candidates` (EXAMINE, which must not take \Recent from
  // anyone, RFC 3501 6.3.2). `recent_uid` is the folder's mark as last read: nothing happens when
  // every candidate is below it.
  boost::asio::awaitable<void> take_recent(std::uint32_t recent_uid,
                                           const std::vector<std::uint32_t>& candidates);
  void watch_mailbox();
  // The tagged NO for a write into a folder (APPEND, COPY, MOVE) that did not happen: no such
  // folder ([TRYCREATE]), the quota, or the store's error; false when it happened.
  bool refused_write(const protocol::Command& cmd, bool folder_found, bool over_quota,
                     const std::string& error);

  // ---- commands/: the handlers, in the order of the command table, each in the file named after
  // its command (COPY and MOVE in copy.cpp, CLOSE and UNSELECT in close.cpp...)
  boost::asio::awaitable<void> on_capability(const protocol::Command& cmd);
  boost::asio::awaitable<void> on_noop(const protocol::Command& cmd);  // NOOP and CHECK
  boost::asio::awaitable<void> on_logout(const protocol::Command& cmd);
  boost::asio::awaitable<void> on_starttls(const protocol::Command& cmd);
  boost::asio::awaitable<void> on_authenticate(const protocol::Command& cmd);
  boost::asio::awaitable<void> on_login(const protocol::Command& cmd);
  // The NO [PRIVACYREQUIRED] for a password where none may be sent (no TLS); false when allowed.
  bool refused_password(const protocol::Command& cmd);
  // What LOGIN and AUTHENTICATE end with: the password checked, the mailbox opened.
  boost::asio::awaitable<void> finish_login(const protocol::Command& cmd, std::string user,
                                            std::string password);
  boost::asio::awaitable<void> on_enable(const protocol::Command& cmd);
  boost::asio::awaitable<void> on_select(const protocol::Command& cmd);  // and EXAMINE
  boost::asio::awaitable<void> on_create(const protocol::Command& cmd);
  boost::asio::awaitable<void> on_delete(const protocol::Command& cmd);
  boost::asio::awaitable<void> on_rename(const protocol::Command& cmd);
  boost::asio::awaitable<void> on_subscribe(const protocol::Command& cmd);  // and UNSUBSCRIBE
  boost::asio::awaitable<void> on_list(const protocol::Command& cmd);       // and LSUB
  boost::asio::awaitable<void> on_namespace(const protocol::Command& cmd);
  boost::asio::awaitable<void> on_status(const protocol::Command& cmd);
  boost::asio::awaitable<void> on_append(const protocol::Command& cmd);
  boost::asio::awaitable<void> on_idle(const protocol::Command& cmd);
  static boost::asio::awaitable<void> idle_reader(std::shared_ptr<Session> self);
  boost::asio::awaitable<void> on_close(const protocol::Command& cmd);  // and UNSELECT
  boost::asio::awaitable<void> on_expunge(const protocol::Command& cmd);
  boost::asio::awaitable<void> on_search(const protocol::Command& cmd);
  // The NO [BADCHARSET] of SEARCH, SORT and THREAD for a charset other than US-ASCII or UTF-8.
  bool refused_charset(const protocol::Command& cmd, const std::optional<std::string>& charset);
  boost::asio::awaitable<void> on_fetch(const protocol::Command& cmd);
  boost::asio::awaitable<void> on_store(const protocol::Command& cmd);
  boost::asio::awaitable<void> on_copy(const protocol::Command& cmd);  // and MOVE
  boost::asio::awaitable<void> on_sort(const protocol::Command& cmd);
  boost::asio::awaitable<void> on_thread(const protocol::Command& cmd);
  boost::asio::awaitable<void> on_id(const protocol::Command& cmd);
  // GETQUOTA, GETQUOTAROOT and SETQUOTA
  boost::asio::awaitable<void> on_quota(const protocol::Command& cmd);

  access::AccessContext& ctx_;
  net::LineConnection conn_;
  net::ConnectionLimiter::Ticket ticket_;
  std::string client_ip_;
  bool implicit_tls_;
  std::string session_id_;
  std::chrono::steady_clock::time_point started_;
  // login_timeout counts from the connection's start: commands before login do not push it back.
  std::chrono::steady_clock::time_point login_deadline_;

  protocol::CommandReader reader_;
  bool reader_advanced_ = false;  // a handler called reader_.next() itself (IDLE, AUTHENTICATE)
  std::array<char, 4096> in_{};
  std::size_t in_pos_ = 0;
  std::size_t in_end_ = 0;
  std::string out_;

  State state_ = State::kNotAuthenticated;
  bool closing_ = false;
  std::string end_reason_ = "eof";
  std::uint32_t errors_ = 0;

  // After login.
  std::shared_ptr<store::mailbox::OpenMailbox> mailbox_;
  access::SessionCounter::Ticket user_ticket_;
  std::uint64_t watcher_ = 0;
  std::uint64_t seen_version_ = ~std::uint64_t{0};
  std::set<std::uint64_t> own_modseqs_;  // changes this session made and reported itself
  bool utf8_ = false;                    // UTF8=ACCEPT enabled
  bool condstore_ = false;               // CONDSTORE enabled (explicitly or by use)
  bool qresync_ = false;
  bool rev2_ = false;  // IMAP4rev2 enabled
  std::optional<Selected> sel_;

  // IDLE
  boost::asio::steady_timer wake_;
  bool idle_done_ = false;
  bool idle_failed_ = false;
  bool idle_reading_ =
      false;  // the IDLE reader reads while the session writes: fill() must not flush

  // For the log line: counts only.
  // (Bytes written and peak_out, the most the output buffer held at a write, are conn_'s: below
  // kOutputHigh + kOutputPiece whatever the commands, since every answer that grows with the
  // mailbox is written as it passes kOutputHigh.)
  std::uint32_t commands_ = 0;
};

// Zeroes a string's whole buffer (credentials): a moved-from or shrunk string keeps old octets.
void wipe(std::string& s) noexcept;

// The hierarchy delimiter of mailbox names.
inline constexpr char kDelimiter = '/';
// INBOX is case-insensitive, also as the first level of a name or pattern ("inbox/%").
std::string canonical_inbox(std::string name);
// The response code for a store error a mailbox command reports ("[ALREADYEXISTS] "...).
std::string_view store_error_code(std::string_view what);
// STATUS's "(MESSAGES n UIDNEXT n ...)", also LIST-STATUS's.
void append_status_items(std::string& out, const std::vector<protocol::StatusItem>& items,
                         const store::mailbox::Folder& folder,
                         const store::mailbox::MessageStore::Counts& counts,
                         std::uint64_t appendlimit, bool rev2);

// "(\\Seen \\Flagged keyword)", with \\Recent (IMAP4rev1) when `recent`.
void append_flags(std::string& out, std::uint32_t flags, const std::vector<std::string>& keywords,
                  bool recent = false);
// A client's flag list (APPEND, STORE) as system flag bits and keywords (each once); false, with
// `error` for a BAD, on a system flag that is not one a client may set.
bool parse_flags(const std::vector<std::string>& given, std::uint32_t& flags,
                 std::vector<std::string>& keywords, std::string& error);
// The ranges of an ascending UID list, for MessageStore::messages().
std::vector<std::pair<std::uint32_t, std::uint32_t>> uid_intervals(
    const std::vector<std::uint32_t>& uids);

// RFC 9051 date-time ("25-Nov-2026 13:05:00 +0000"), quoted, for INTERNALDATE.
std::string internal_date(std::int64_t unix_time);

}  // namespace sealpost::imap::server
