#include "imap/protocol/command.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "imap/protocol/response.hpp"

namespace sealpost::imap::protocol {
namespace {

Command ok(std::string_view text, const ParseOptions& options = {}) {
  auto r = parse_command(text, options);
  EXPECT_TRUE(r) << text << " -> " << (r ? "" : r.error().reason);
  return r ? std::move(r).value() : Command{};
}

ParseError bad(std::string_view text, const ParseOptions& options = {}) {
  auto r = parse_command(text, options);
  EXPECT_FALSE(r) << text;
  return r ? ParseError{} : std::move(r).error();
}

template <typename T>
T args(std::string_view text, const ParseOptions& options = {}) {
  Command c = ok(text, options);
  if (!std::holds_alternative<T>(c.arguments)) {
    ADD_FAILURE() << text << ": unexpected argument type";
    return T{};
  }
  return std::get<T>(std::move(c.arguments));
}

// What a session sees while feeding `stream` in pieces of `piece` octets: each event, literals
// accepted and refusals discarded as a session would.
struct Events {
  std::vector<std::string> commands;
  std::vector<std::string> log;  // "R:<command>", "C:<size>", "T:<overflow>:<tag>"
  std::size_t consumed = 0;
};

Events run(std::string_view stream, std::size_t piece, ReaderLimits limits = {}) {
  CommandReader reader(limits);
  Events e;
  while (e.consumed < stream.size()) {
    std::size_t n = 0;
    const std::string_view chunk = stream.substr(e.consumed, piece);
    const ReadStatus s = reader.feed(chunk, n);
    EXPECT_LE(n, chunk.size());
    e.consumed += n;
    switch (s) {
      case ReadStatus::kNeedMore:
        EXPECT_EQ(n, chunk.size());
        break;
      case ReadStatus::kReady:
        e.commands.emplace_back(reader.command());
        e.log.push_back("R:" + std::string(reader.command()));
        reader.next();
        break;
      case ReadStatus::kContinue:
        e.log.push_back("C:" + std::to_string(reader.pending_literal().size));
        reader.accept_literal();
        break;
      case ReadStatus::kTooLarge:
        e.log.push_back("T:" + std::to_string(static_cast<int>(reader.overflow())) + ":" +
                        std::string(reader.tag()));
        reader.discard();
        break;
    }
  }
  return e;
}

// ---------------------------------------------------------------------------------------------
// Framing

TEST(ImapReaderTest, ReadsOneCommandAtATime) {
  CommandReader reader;
  std::size_t n = 0;
  const std::string_view in = "a NOOP\r\nb CAPABILITY\r\n";
  ASSERT_EQ(reader.feed(in, n), ReadStatus::kReady);
  EXPECT_EQ(n, 8U);
  EXPECT_EQ(reader.command(), "a NOOP");
  // Pipelined commands wait until the session is done with this one.
  EXPECT_EQ(reader.feed(in.substr(n), n), ReadStatus::kReady);
  EXPECT_EQ(n, 0U);
  reader.next();
  ASSERT_EQ(reader.feed(in.substr(8), n), ReadStatus::kReady);
  EXPECT_EQ(reader.command(), "b CAPABILITY");
  EXPECT_EQ(n, 14U);
}

TEST(ImapReaderTest, SynchronisingLiteralWaitsForContinuation) {
  CommandReader reader;
  std::size_t n = 0;
  const std::string in = "a LOGIN {5}\r\nsmith {6}\r\nsesame\r\n";
  ASSERT_EQ(reader.feed(in, n), ReadStatus::kContinue);
  EXPECT_EQ(n, 13U);
  EXPECT_EQ(reader.pending_literal().size, 5U);
  EXPECT_TRUE(reader.pending_literal().synchronizing);
  EXPECT_EQ(reader.tag(), "a");
  // Nothing more is read before the session sends its continuation.
  std::size_t m = 0;
  EXPECT_EQ(reader.feed(std::string_view(in).substr(n), m), ReadStatus::kContinue);
  EXPECT_EQ(m, 0U);
  reader.accept_literal();
  ASSERT_EQ(reader.feed(std::string_view(in).substr(n), m), ReadStatus::kContinue);
  n += m;
  reader.accept_literal();
  ASSERT_EQ(reader.feed(std::string_view(in).substr(n), m), ReadStatus::kReady);
  EXPECT_EQ(n + m, in.size());
  EXPECT_EQ(reader.command(), "a LOGIN {5}\r\nsmith {6}\r\nsesame");
  ASSERT_EQ(reader.literals().size(), 2U);
  EXPECT_EQ(reader.command().substr(reader.literals()[0].offset, 5), "smith");
  EXPECT_EQ(reader.command().substr(reader.literals()[1].offset, 6), "sesame");
  const auto login = args<Login>(reader.command());
  EXPECT_EQ(login.user, "smith");
  EXPECT_EQ(login.password, "sesame");
}

TEST(ImapReaderTest, LiteralsSplitAcrossFeedsGiveTheSameCommands) {
  const std::string stream =
      "A003 APPEND saved-messages (\\Seen) {20}\r\nSubject: x\r\n\r\nbody\r\n\r\n"
      "A004 APPEND x {4+}\r\na\r\nb\r\nA005 LOGIN {0}\r\n {3}\r\nabc\r\nA006 NOOP\r\n";
  const Events whole = run(stream, stream.size());
  for (std::size_t piece = 1; piece < 9; ++piece) {
    const Events split = run(stream, piece);
    EXPECT_EQ(split.log, whole.log) << piece;
    EXPECT_EQ(split.consumed, stream.size());
  }
  ASSERT_EQ(whole.commands.size(), 4U);
  EXPECT_EQ(whole.log[0], "C:20");
  EXPECT_EQ(args<Append>(whole.commands[0]).message, "Subject: x\r\n\r\nbody\r\n");
  EXPECT_EQ(args<Append>(whole.commands[1]).message, "a\r\nb");
  const auto login = args<Login>(whole.commands[2]);
  EXPECT_EQ(login.user, "");
  EXPECT_EQ(login.password, "abc");
  EXPECT_EQ(whole.commands[3], "A006 NOOP");
}

TEST(ImapReaderTest, NonSynchronisingLiteralNeedsNoContinuation) {
  const Events e = run("A004 APPEND INBOX {5+}\r\nhello\r\n", 100);
  ASSERT_EQ(e.log.size(), 1U);
  EXPECT_EQ(e.log[0], "R:A004 APPEND INBOX {5+}\r\nhello");
}

TEST(ImapReaderTest, AcceptsBareLfAndSkipsEmptyLines) {
  const Events e = run("\r\n\na NOOP\nb LOGIN {2}\nab x\n", 3);
  ASSERT_EQ(e.commands.size(), 2U);
  EXPECT_EQ(e.commands[0], "a NOOP");
  EXPECT_EQ(e.commands[1], "b LOGIN {2}\nab x");
  EXPECT_EQ(args<Login>(e.commands[1]).user, "ab");
}

TEST(ImapReaderTest, OverlongLineIsRefusedAndSkipped) {
  ReaderLimits limits;
  limits.max_line = 16;
  const std::string stream = "a1 NOOP " + std::string(100, 'x') + "\r\nb NOOP\r\n";
  const Events e = run(stream, 7, limits);
  ASSERT_EQ(e.log.size(), 2U);
  EXPECT_EQ(e.log[0], "T:1:a1");
  EXPECT_EQ(e.log[1], "R:b NOOP");
  // A line of exactly max_line octets, CRLF included, fits.
  const Events fits = run("a NOOP 1234567\r\n", 5, limits);
  EXPECT_EQ(fits.log, std::vector<std::string>{"R:a NOOP 1234567"});
}

TEST(ImapReaderTest, SynchronisingLiteralOverLimitIsRefusedUnread) {
  ReaderLimits limits;
  limits.max_argument_literal = 10;
  CommandReader reader(limits);
  std::size_t n = 0;
  const std::string_view in = "a LOGIN {100}\r\nb NOOP\r\n";
  ASSERT_EQ(reader.feed(in, n), ReadStatus::kTooLarge);
  EXPECT_EQ(reader.overflow(), Overflow::kLiteral);
  EXPECT_TRUE(reader.client_waiting());
  EXPECT_EQ(reader.literal_size(), 100U);
  EXPECT_EQ(reader.tag(), "a");
  EXPECT_EQ(n, 15U);
  reader.discard();
  std::size_t m = 0;
  ASSERT_EQ(reader.feed(in.substr(n), m), ReadStatus::kReady);
  EXPECT_EQ(reader.command(), "b NOOP");
}

TEST(ImapReaderTest, AppendLiteralsUseTheAppendLimit) {
  ReaderLimits limits;
  limits.max_argument_literal = 10;
  limits.max_literal = 1000;
  EXPECT_EQ(run("a APPEND INBOX {100}\r\n", 64, limits).log, std::vector<std::string>{"C:100"});
  EXPECT_EQ(run("a append INBOX {1001}\r\n", 64, limits).log, std::vector<std::string>{"T:2:a"});
  EXPECT_EQ(run("a SEARCH TEXT {11}\r\n", 64, limits).log, std::vector<std::string>{"T:2:a"});
}

TEST(ImapReaderTest, NonSynchronisingLiteralOverLimitIsSkipped) {
  ReaderLimits limits;
  limits.max_literal = 10;
  // The refused literal's octets look like commands: they must be skipped, not run.
  const std::string stream = "a APPEND INBOX {20+}\r\nc DELETE INBOX\r\nxxxx\r\nb NOOP\r\n";
  for (std::size_t piece : {std::size_t{1}, std::size_t{5}, stream.size()}) {
    const Events e = run(stream, piece, limits);
    ASSERT_EQ(e.log.size(), 2U) << piece;
    EXPECT_EQ(e.log[0], "T:2:a");
    EXPECT_EQ(e.log[1], "R:b NOOP");
  }
}

TEST(ImapReaderTest, RefusedCommandIsSkippedToItsEndAcrossLiterals) {
  ReaderLimits limits;
  limits.max_line = 24;
  // The overlong line announces a literal: it and the line after it belong to the command.
  const std::string stream = "a SEARCH TEXT xxxxxxxxxxxxxxxxxxxx {5+}\r\n\r\nb c d\r\nz NOOP\r\n";
  const Events e = run(stream, 4, limits);
  ASSERT_EQ(e.log.size(), 2U);
  EXPECT_EQ(e.log[0], "T:1:a");
  EXPECT_EQ(e.log[1], "R:z NOOP");
}

TEST(ImapReaderTest, LiteralMinusLimitsNonSynchronisingLiterals) {
  ReaderLimits limits;
  limits.literal_plus = false;
  limits.max_argument_literal = 10000;
  EXPECT_EQ(run("a LOGIN {4097+}\r\n", 64, limits).log, std::vector<std::string>{"T:3:a"});
  const std::string ok_stream = "a LOGIN {4096+}\r\n" + std::string(4096, 'p') + " x\r\n";
  EXPECT_EQ(run(ok_stream, 100, limits).commands.size(), 1U);
  // Synchronising literals are not limited by LITERAL-.
  EXPECT_EQ(run("a LOGIN {5000}\r\n", 64, limits).log, std::vector<std::string>{"C:5000"});
}

TEST(ImapReaderTest, LimitsLiteralCountAndCommandSize) {
  ReaderLimits limits;
  limits.max_literals = 2;
  EXPECT_EQ(run("a LOGIN {1+}\r\nx {1+}\r\ny {1+}\r\nz\r\n", 64, limits).log.back().substr(0, 4),
            "T:5:");
  ReaderLimits small;
  small.max_command = 30;
  EXPECT_EQ(run("a LOGIN {20}\r\n", 64, small).log, std::vector<std::string>{"T:4:a"});
  EXPECT_EQ(run("a LOGIN {1}\r\n", 64, small).log, std::vector<std::string>{"C:1"});
}

TEST(ImapReaderTest, HugeLiteralSizeIsTooLarge) {
  CommandReader reader;
  std::size_t n = 0;
  ASSERT_EQ(reader.feed("a APPEND x {99999999999999999999999}\r\n", n), ReadStatus::kTooLarge);
  EXPECT_EQ(reader.overflow(), Overflow::kLiteral);
  EXPECT_TRUE(reader.client_waiting());
}

TEST(ImapReaderTest, PlainLinesForAuthenticateAndIdle) {
  CommandReader reader;
  std::size_t n = 0;
  const std::string_view in = "a IDLE\r\n{5}\r\n\r\nDONE\r\nb NOOP\r\n";
  ASSERT_EQ(reader.feed(in, n), ReadStatus::kReady);
  EXPECT_EQ(ok(reader.command()).name, CommandName::kIdle);
  std::size_t used = n;
  reader.next();
  reader.expect_line();
  ASSERT_EQ(reader.feed(in.substr(used), n), ReadStatus::kReady);  // not a literal
  EXPECT_EQ(reader.command(), "{5}");
  used += n;
  reader.next();
  reader.expect_line();
  ASSERT_EQ(reader.feed(in.substr(used), n), ReadStatus::kReady);  // an empty line counts
  EXPECT_EQ(reader.command(), "");
  used += n;
  reader.next();
  reader.expect_line();
  ASSERT_EQ(reader.feed(in.substr(used), n), ReadStatus::kReady);
  EXPECT_TRUE(is_idle_done(reader.command()));
  used += n;
  reader.next();
  ASSERT_EQ(reader.feed(in.substr(used), n), ReadStatus::kReady);
  EXPECT_EQ(reader.command(), "b NOOP");
}

TEST(ImapReaderTest, SessionMayRefuseALiteralAtContinuation) {
  CommandReader reader;
  std::size_t n = 0;
  const std::string_view in = "a LOGIN {5}\r\nb NOOP\r\n";
  ASSERT_EQ(reader.feed(in, n), ReadStatus::kContinue);
  reader.discard();
  std::size_t m = 0;
  ASSERT_EQ(reader.feed(in.substr(n), m), ReadStatus::kReady);
  EXPECT_EQ(reader.command(), "b NOOP");
}

// ---------------------------------------------------------------------------------------------
// RFC 9051 section 8, "Sample IMAP4rev2 Connection" (client side)

TEST(ImapCommandTest, Rfc9051SampleConnection) {
  EXPECT_EQ(ok("a000 starttls").name, CommandName::kStarttls);
  const auto auth = args<Authenticate>(
      "A001 AUTHENTICATE SCRAM-SHA-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=");
  EXPECT_EQ(auth.mechanism, "SCRAM-SHA-256");
  EXPECT_EQ(auth.initial_response, "biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=");
  auto r = parse_sasl_response(
      "Yz1iaXdzLHI9ck9wck5HZndFYmVSV2diTkVrcU8laHZZRHBXVWEyUmFUQ0FmdXhGSWxqKWhObEYkazAscD1kSHpi"
      "WmFwV0lrNGpVaE4rVXRlOXl0YWc5empmTUhnc3FtbWl6N0FuZFZRPQ==");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->cancelled);
  ASSERT_TRUE(parse_sasl_response(""));  // the final, empty response
  EXPECT_EQ(args<Enable>("babc ENABLE UTF8=ACCEPT").capabilities,
            std::vector<std::string>{"UTF8=ACCEPT"});
  const Command sel = ok("a002 select inbox");
  EXPECT_EQ(sel.name, CommandName::kSelect);
  EXPECT_EQ(std::get<Select>(sel.arguments).mailbox, "inbox");
  const auto full = args<Fetch>("a003 fetch 12 full");
  ASSERT_EQ(full.items.size(), 5U);
  EXPECT_EQ(full.items[4].attribute, FetchAttribute::kBody);
  const auto header = args<Fetch>("a004 fetch 12 body[header]");
  ASSERT_EQ(header.items.size(), 1U);
  EXPECT_EQ(header.items[0].attribute, FetchAttribute::kBodySection);
  EXPECT_EQ(header.items[0].section.text, SectionText::kHeader);
  const auto store = args<Store>("a005 store 12 +flags \\deleted");
  EXPECT_EQ(store.mode, StoreMode::kAdd);
  EXPECT_EQ(store.flags, std::vector<std::string>{"\\deleted"});
  EXPECT_EQ(ok("a006 logout").name, CommandName::kLogout);
}

// RFC 9051 section 6 examples.
TEST(ImapCommandTest, Rfc9051CommandExamples) {
  EXPECT_EQ(ok("abcd CAPABILITY").name, CommandName::kCapability);
  EXPECT_EQ(ok("a002 NOOP").name, CommandName::kNoop);
  EXPECT_EQ(ok("A023 LOGOUT").name, CommandName::kLogout);
  EXPECT_EQ(args<Authenticate>("A001 AUTHENTICATE GSSAPI").initial_response, std::nullopt);
  EXPECT_EQ(args<Authenticate>("A01 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=").initial_response,
            "dGVzdAB0ZXN0AHRlc3Q=");
  EXPECT_EQ(args<Authenticate>("A01 AUTHENTICATE PLAIN =").initial_response, "=");
  EXPECT_EQ(args<Login>("a001 LOGIN SMITH SESAME").password, "SESAME");
  EXPECT_EQ(args<Enable>("t2 ENABLE CONDSTORE X-GOOD-IDEA").capabilities.size(), 2U);
  EXPECT_EQ(args<Select>("A932 EXAMINE blurdybloop").mailbox, "blurdybloop");
  EXPECT_EQ(args<Create>("A003 CREATE owatagusiam/").mailbox, "owatagusiam/");
  EXPECT_EQ(args<MailboxArgument>("A682 DELETE blurdybloop").mailbox, "blurdybloop");
  const auto rename = args<Rename>("A683 RENAME blurdybloop sarasoop");
  EXPECT_EQ(rename.from, "blurdybloop");
  EXPECT_EQ(rename.to, "sarasoop");
  EXPECT_EQ(args<MailboxArgument>("A002 SUBSCRIBE #news.comp.mail.mime").mailbox,
            "#news.comp.mail.mime");
  EXPECT_EQ(ok("A002 UNSUBSCRIBE #news.comp.mail.mime").name, CommandName::kUnsubscribe);
  const auto l1 = args<List>("A101 LIST \"\" \"\"");
  EXPECT_EQ(l1.reference, "");
  EXPECT_EQ(l1.patterns, std::vector<std::string>{""});
  EXPECT_FALSE(l1.extended);
  EXPECT_EQ(args<List>("A202 LIST ~/Mail/ %").patterns, std::vector<std::string>{"%"});
  EXPECT_EQ(ok("A001 NAMESPACE").name, CommandName::kNamespace);
  const auto st = args<Status>("A042 STATUS blurdybloop (UIDNEXT MESSAGES)");
  EXPECT_EQ(st.items, (std::vector<StatusItem>{StatusItem::kUidNext, StatusItem::kMessages}));
  EXPECT_EQ(ok("A341 CLOSE").name, CommandName::kClose);
  EXPECT_EQ(ok("A342 UNSELECT").name, CommandName::kUnselect);
  EXPECT_EQ(ok("A202 EXPUNGE").name, CommandName::kExpunge);
  const Command ue = ok("A003 UID EXPUNGE 3000:3002");
  EXPECT_TRUE(ue.uid);
  EXPECT_EQ(std::get<Expunge>(ue.arguments).set.ranges[0].last, 3002U);
  const auto f = args<Fetch>("A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])");
  ASSERT_EQ(f.items.size(), 2U);
  EXPECT_EQ(f.items[1].section.text, SectionText::kHeaderFields);
  EXPECT_EQ(f.items[1].section.fields, (std::vector<std::string>{"DATE", "FROM"}));
  EXPECT_EQ(args<Store>("A003 STORE 2:4 +FLAGS (\\Deleted)").flags,
            std::vector<std::string>{"\\Deleted"});
  EXPECT_EQ(args<CopyMove>("A003 COPY 2:4 MEETING").mailbox, "MEETING");
  const Command mv = ok("a UID MOVE 42:69 foo");
  EXPECT_EQ(mv.name, CommandName::kMove);
  EXPECT_TRUE(mv.uid);
  EXPECT_EQ(ok("A999 UID FETCH 4827313:4828442 FLAGS").name, CommandName::kFetch);
  EXPECT_EQ(ok("A004 IDLE").name, CommandName::kIdle);
  EXPECT_EQ(ok("FXXZ CHECK").name, CommandName::kCheck);
}

TEST(ImapCommandTest, Rfc9051AppendExample) {
  const std::string message =
      "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n"
      "From: Fred Foobar <foobar@Blurdybloop.example>\r\n"
      "Subject: afternoon meeting\r\n\r\nHello Joe, do you think we can meet at 3:30 tomorrow?\r\n";
  const std::string text =
      "A003 APPEND saved-messages (\\Seen) {" + std::to_string(message.size()) + "}\r\n" + message;
  const auto a = args<Append>(text);
  EXPECT_EQ(a.mailbox, "saved-messages");
  EXPECT_EQ(a.flags, std::vector<std::string>{"\\Seen"});
  EXPECT_EQ(a.message, message);
  EXPECT_FALSE(a.binary);
  const std::string plus =
      "A003 APPEND saved-messages (\\Seen) {" + std::to_string(message.size()) + "+}\r\n" + message;
  EXPECT_EQ(args<Append>(plus).message, message);
}

TEST(ImapCommandTest, AppendTakesFlagsDateAndLiteral) {
  const auto a =
      args<Append>("a APPEND INBOX (\\Seen $Forwarded) \"17-Jul-1996 02:44:25 -0700\" {3}\r\nabc");
  EXPECT_EQ(a.flags.size(), 2U);
  ASSERT_TRUE(a.date_time);
  EXPECT_EQ(a.date_time->date.day, 17);
  EXPECT_EQ(a.date_time->date.month, 7);
  EXPECT_EQ(a.date_time->zone_minutes, -420);
  EXPECT_EQ(a.date_time->unix_time(), 837596665);  // 1996-07-17T09:44:25Z
  EXPECT_EQ(
      args<Append>("a APPEND x \" 1-Jan-2000 00:00:00 +0000\" {0}\r\n").date_time->unix_time(),
      946684800);
  EXPECT_EQ(args<Append>("a APPEND x {0}\r\n").message, "");
  const std::string binary_command("a APPEND x ~{3}\r\na\0b", 20);  // Append views it
  const auto bin = args<Append>(binary_command);
  EXPECT_TRUE(bin.binary);
  EXPECT_EQ(bin.message, std::string_view("a\0b", 3));
  const auto utf8 = args<Append>("a APPEND x UTF8 (~{2+}\r\nhi)");
  EXPECT_TRUE(utf8.utf8);
  EXPECT_EQ(utf8.message, "hi");
  EXPECT_EQ(bad("a APPEND x {1}\r\na {1}\r\nb").reason, "MULTIAPPEND is not supported");
  bad(std::string("a APPEND x {3}\r\na\0b", 18));  // NUL needs literal8
  bad("a APPEND x (\\Seen)");
  bad("a APPEND x \"17-Jul-1996 02:44:25\" {1}\r\na");
  bad("a APPEND x \"31-Apr-1996 02:44:25 +0000\" {1}\r\na");
  bad("a APPEND x \"17-Jul-1996 24:00:00 +0000\" {1}\r\na");
  bad("a APPEND x UTF8 ({1}\r\na)");
  bad("a APPEND x {5}\r\nabc");  // shorter than announced
}

TEST(ImapCommandTest, TagsAreAstringCharactersAndNamesAnyCase) {
  EXPECT_EQ(ok("a.b-c]_1 noop").tag, "a.b-c]_1");
  EXPECT_EQ(ok("x Fetch 1 Flags").name, CommandName::kFetch);
  EXPECT_EQ(bad("").reason, "Empty command");
  EXPECT_EQ(bad(" NOOP").tag, "*");
  EXPECT_EQ(bad("a+b NOOP").tag, "*");
  EXPECT_EQ(bad("a{ NOOP").tag, "*");
  EXPECT_EQ(bad("* NOOP").tag, "*");
  EXPECT_EQ(bad("a\"b NOOP").tag, "*");
  EXPECT_EQ(bad("abc").tag, "*");
  const ParseError unknown = bad("a1 FROB");
  EXPECT_EQ(unknown.tag, "a1");
  EXPECT_EQ(unknown.reason, "Unknown command");
  EXPECT_EQ(bad("a1 ").reason, "Missing command");
  EXPECT_EQ(bad("a NOOP x").reason, "Unexpected extra arguments");
  bad("a NOOP ");
  bad("a  NOOP");
  bad("a LOGIN  x y");
}

TEST(ImapCommandTest, UidPrefixesOnlyTheCommandsWithAUidForm) {
  EXPECT_EQ(bad("a UID").reason, "UID needs a command");
  EXPECT_EQ(bad("a UID ").tag, "a");
  EXPECT_EQ(bad("a UID NOOP").reason, "Not a UID command");
  EXPECT_EQ(bad("a UID UID FETCH 1 FLAGS").reason, "Unknown command");
  for (std::string_view c : {"a UID FETCH 1 FLAGS", "a UID STORE 1 FLAGS x", "a UID COPY 1 x",
                             "a UID MOVE 1 x", "a UID SEARCH ALL", "a UID EXPUNGE 1",
                             "a UID SORT (DATE) UTF-8 ALL", "a UID THREAD REFERENCES UTF-8 ALL"}) {
    EXPECT_TRUE(ok(c).uid) << c;
  }
  bad("a EXPUNGE 1");
}

TEST(ImapCommandTest, QuotedStringsUnescapeAndAtomsRefuseSpecials) {
  const auto l = args<Login>(R"(a LOGIN "fred \"the\" \\ foo" "")");
  EXPECT_EQ(l.user, R"(fred "the" \ foo)");
  EXPECT_EQ(l.password, "");
  EXPECT_EQ(bad(R"(a LOGIN "a\b" c)").reason, "Invalid escape in quoted string");
  bad("a LOGIN \"abc");
  bad("a LOGIN \"a\rb\" c");
  bad("a LOGIN a%b c");  // list-wildcards are not astring characters
  EXPECT_EQ(args<Login>("a LOGIN a] b").user, "a]");
  // Literals carry any octet but NUL; literal8 only in APPEND.
  EXPECT_EQ(args<Login>("a LOGIN {4}\r\nj\xC3\xB6g x").user, "j\xC3\xB6g");
  EXPECT_EQ(bad(std::string("a LOGIN {3}\r\na\0b x", 18)).reason, "NUL in a literal");
  bad("a LOGIN ~{1}\r\na x");  // "~" is an atom here, and "{" cannot follow it
  bad("a SEARCH TEXT ~{1}\r\na");
  bad("a LOGIN {1} x");  // a literal ends its line
}

TEST(ImapCommandTest, EightBitQuotedStringsNeedUtf8Accept) {
  const std::string text = "a SELECT \"Entw\xC3\xBCrfe\"";
  EXPECT_EQ(bad(text).reason, "8-bit text in a quoted string needs UTF8=ACCEPT");
  ParseOptions utf8;
  utf8.utf8 = true;
  EXPECT_EQ(args<Select>(text, utf8).mailbox, "Entw\xC3\xBCrfe");
  EXPECT_EQ(bad("a SELECT \"Entw\xFCrfe\"", utf8).reason, "Invalid UTF-8 in quoted string");
  bad("a SELECT Entw\xC3\xBCrfe", utf8);  // atoms stay ASCII
}

TEST(ImapCommandTest, SelectWithCondstoreAndQresync) {
  EXPECT_TRUE(args<Select>("a SELECT INBOX (CONDSTORE)").condstore);
  const auto s =
      args<Select>("A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))");
  ASSERT_TRUE(s.qresync);
  EXPECT_EQ(s.qresync->uidvalidity, 67890007U);
  EXPECT_EQ(s.qresync->modseq, 20050715194045000U);
  ASSERT_TRUE(s.qresync->known_uids);
  EXPECT_EQ(s.qresync->known_uids->ranges.size(), 3U);
  EXPECT_FALSE(s.qresync->known_sequence_set);
  const auto m = args<Select>(
      "B04 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 "
      "15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))");
  ASSERT_TRUE(m.qresync && m.qresync->known_sequence_set && m.qresync->known_uid_set);
  EXPECT_EQ(m.qresync->known_sequence_set->ranges.size(), 4U);
  EXPECT_EQ(m.qresync->known_uid_set->ranges.size(), 13U);
  const auto only_match = args<Select>("a EXAMINE x (CONDSTORE QRESYNC (1 2 (1:2 5:6)))");
  EXPECT_TRUE(only_match.condstore);
  EXPECT_FALSE(only_match.qresync->known_uids);
  EXPECT_TRUE(only_match.qresync->known_uid_set);
  bad("a SELECT INBOX (QRESYNC (0 1))");
  bad("a SELECT INBOX (QRESYNC (1 0))");
  bad("a SELECT INBOX (QRESYNC (1 1 1:*))");
  bad("a SELECT INBOX (QRESYNC (1 1 $))");
  bad("a SELECT INBOX (QRESYNC (1 1)");
  bad("a SELECT INBOX (FROB)");
  bad("a SELECT INBOX ()");
}

TEST(ImapCommandTest, CreateWithSpecialUse) {
  const auto c = args<Create>("t1 CREATE \"Important Messages\" (USE (\\Important \\Flagged))");
  EXPECT_EQ(c.mailbox, "Important Messages");
  EXPECT_EQ(c.special_use, (std::vector<std::string>{"\\Important", "\\Flagged"}));
  EXPECT_TRUE(args<Create>("a CREATE x (USE ())").special_use.empty());
  bad("a CREATE x (USE (Drafts))");
  bad("a CREATE x (FOO)");
}

TEST(ImapCommandTest, ListTakesExtendedSelectionAndReturnOptions) {
  const auto a = args<List>("A02 LIST (SUBSCRIBED) \"\" \"*\"");
  EXPECT_TRUE(a.extended);
  EXPECT_TRUE(a.selection.subscribed);
  const auto b = args<List>("A03 LIST () \"\" \"%\" RETURN (CHILDREN)");
  EXPECT_TRUE(b.extended);
  EXPECT_TRUE(b.returns.children);
  const auto c = args<List>("A05 LIST (REMOTE SUBSCRIBED RECURSIVEMATCH) \"/\" \"*\"");
  EXPECT_TRUE(c.selection.remote && c.selection.subscribed && c.selection.recursive_match);
  const auto d = args<List>("A01 LIST \"\" (\"INBOX\" \"Drafts\" \"Sent/%\")");
  EXPECT_EQ(d.patterns, (std::vector<std::string>{"INBOX", "Drafts", "Sent/%"}));
  const auto e = args<List>("A02 LIST \"\" \"*\" RETURN (STATUS (MESSAGES UNSEEN SIZE))");
  EXPECT_TRUE(e.returns.status);
  EXPECT_EQ(e.returns.status_items.size(), 3U);
  const auto f = args<List>("t3 LIST (SPECIAL-USE) \"\" \"*\" RETURN (SPECIAL-USE SUBSCRIBED)");
  EXPECT_TRUE(f.selection.special_use && f.returns.special_use && f.returns.subscribed);
  EXPECT_EQ(args<List>("a LIST \"\" \"\" RETURN ()").extended, true);
  EXPECT_EQ(bad("A06 LIST (RECURSIVEMATCH) \"\" \"%\"").reason,
            "RECURSIVEMATCH needs another selection option");
  bad("a LIST (REMOTE RECURSIVEMATCH) \"\" \"%\"");
  bad("a LIST (FROB) \"\" \"%\"");
  bad("a LIST \"\" \"*\" RETURN (FROB)");
  bad("a LIST \"\" \"*\" RETURN");
  bad("a LIST \"\" ()");
  const auto lsub = ok("A002 LSUB #news. news.comp.mail.*");
  EXPECT_EQ(lsub.name, CommandName::kLsub);
  EXPECT_EQ(std::get<List>(lsub.arguments).patterns[0], "news.comp.mail.*");
}

TEST(ImapCommandTest, StatusTakesEveryItemAndRefusesNoneOrUnknown) {
  const auto s = args<Status>(
      "a STATUS x (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT HIGHESTMODSEQ "
      "APPENDLIMIT)");
  EXPECT_EQ(s.items.size(), 9U);
  EXPECT_EQ(s.items.back(), StatusItem::kAppendLimit);
  bad("a STATUS x ()");
  bad("a STATUS x (FROB)");
  bad("a STATUS x MESSAGES");
}

TEST(ImapCommandTest, SequenceSetsKeepRangesAsWrittenAndResolveStar) {
  const auto f = args<Fetch>("a FETCH *:1,3,5:7,9:* FLAGS");
  ASSERT_EQ(f.set.ranges.size(), 4U);
  EXPECT_EQ(f.set.ranges[0].first, kSeqStar);
  EXPECT_EQ(f.set.ranges[0].last, 1U);
  EXPECT_TRUE(f.set.has_star());
  EXPECT_TRUE(f.set.contains(4, 4));  // *:1 with 4 messages is 1:4
  const auto g = args<Fetch>("a FETCH 2,4:7,12:* FLAGS");
  EXPECT_FALSE(g.set.contains(3, 15));
  EXPECT_TRUE(g.set.contains(15, 15));
  EXPECT_FALSE(g.set.contains(11, 15));
  using Intervals = std::vector<std::pair<std::uint32_t, std::uint32_t>>;
  EXPECT_EQ(args<Fetch>("a FETCH 7:5,1,2,3,8,20:* FLAGS").set.intervals(10),
            (Intervals{{1, 3}, {5, 8}, {10, 20}}));
  EXPECT_EQ(args<Fetch>("a FETCH 4294967295,1:4294967295 FLAGS").set.intervals(5),
            (Intervals{{1, 4294967295U}}));
  EXPECT_TRUE(args<Fetch>("a FETCH $ FLAGS").set.saved);
  EXPECT_EQ(bad("a FETCH 4294967296 FLAGS").reason, "Number out of range");
  EXPECT_EQ(args<Fetch>("a FETCH 4294967295 FLAGS").set.ranges[0].first, 4294967295U);
  bad("a FETCH 0 FLAGS");
  bad("a FETCH 01 FLAGS");
  bad("a FETCH 1:0 FLAGS");
  bad("a FETCH 1, FLAGS");
  bad("a FETCH 1,$ FLAGS");
  bad("a FETCH $,1 FLAGS");
  bad("a FETCH 1:2:3 FLAGS");
  bad("a FETCH 1x FLAGS");
  ParseOptions few;
  few.max_ranges = 3;
  EXPECT_EQ(bad("a FETCH 1,2,3,4 FLAGS", few).reason, "Too many ranges in a sequence set");
}

TEST(ImapFetchTest, EveryItemParsesInOrder) {
  const auto f = args<Fetch>(
      "a FETCH 1 (ENVELOPE FLAGS INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT BODY "
      "BODYSTRUCTURE UID MODSEQ BODY[] BODY.PEEK[HEADER] BODY[1.2.MIME] BODY[TEXT] BODY[1.TEXT] "
      "BODY[4.2.HEADER.FIELDS.NOT (X-A \"X-B\")]<0.100> BODY.PEEK[3]<5.1> BINARY[1] "
      "BINARY.PEEK[1.2]<10.20> BINARY.SIZE[1] BINARY[] BODY[2.HEADER])");
  using A = FetchAttribute;
  const std::vector<A> want{A::kEnvelope,      A::kFlags,       A::kInternalDate, A::kRfc822,
                            A::kRfc822Header,  A::kRfc822Size,  A::kRfc822Text,   A::kBody,
                            A::kBodyStructure, A::kUid,         A::kModSeq,       A::kBodySection,
                            A::kBodySection,   A::kBodySection, A::kBodySection,  A::kBodySection,
                            A::kBodySection,   A::kBodySection, A::kBinary,       A::kBinary,
                            A::kBinarySize,    A::kBinary,      A::kBodySection};
  ASSERT_EQ(f.items.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(f.items[i].attribute, want[i]) << i;
  EXPECT_TRUE(f.items[11].section.part.empty());
  EXPECT_EQ(f.items[11].section.text, SectionText::kNone);
  EXPECT_TRUE(f.items[12].peek);
  EXPECT_EQ(f.items[13].section.part, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(f.items[13].section.text, SectionText::kMime);
  EXPECT_EQ(f.items[15].section.text, SectionText::kText);
  EXPECT_EQ(f.items[16].section.part, (std::vector<std::uint32_t>{4, 2}));
  EXPECT_EQ(f.items[16].section.text, SectionText::kHeaderFieldsNot);
  EXPECT_EQ(f.items[16].section.fields, (std::vector<std::string>{"X-A", "X-B"}));
  ASSERT_TRUE(f.items[16].partial);
  EXPECT_EQ(f.items[16].partial->length, 100U);
  EXPECT_EQ(f.items[17].partial->offset, 5U);
  EXPECT_TRUE(f.items[19].peek);
  EXPECT_EQ(f.items[19].section.part, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(f.items[19].partial->length, 20U);
  EXPECT_FALSE(f.items[20].partial);
  EXPECT_EQ(f.items[22].section.text, SectionText::kHeader);
}

TEST(ImapFetchTest, MacrosExpandAndStandAlone) {
  EXPECT_EQ(args<Fetch>("a FETCH 1 ALL").items.size(), 4U);
  EXPECT_EQ(args<Fetch>("a FETCH 1 fast").items.size(), 3U);
  EXPECT_EQ(args<Fetch>("a FETCH 1 FULL").items.size(), 5U);
  bad("a FETCH 1 (ALL)");
  bad("a FETCH 1 ALL FLAGS");
}

TEST(ImapFetchTest, RejectsMalformedItems) {
  for (std::string_view text :
       {"a FETCH 1 ()", "a FETCH 1 FROB", "a FETCH 1 BODY[MIME]", "a FETCH 1 BINARY[HEADER]",
        "a FETCH 1 BINARY.SIZE[1]<0.1>", "a FETCH 1 BODY[]<0.0>", "a FETCH 1 BODY[]<1>",
        "a FETCH 1 BODY.PEEK", "a FETCH 1 BINARY", "a FETCH 1 BODY[0]", "a FETCH 1 BODY[1.]",
        "a FETCH 1 BODY[HEADER.FIELDS]", "a FETCH 1 BODY[HEADER.FIELDS ()]", "a FETCH 1 BODY[",
        "a FETCH 1 (FLAGS", "a FETCH 1 FLAGS[]", "a FETCH 1 BODY[TEXT]x", "a FETCH 1 RFC822.FOO",
        "a FETCH 1 BODY[]<9223372036854775808.1>"}) {
    bad(text);
  }
}

TEST(ImapFetchTest, CondstoreAndQresyncModifiers) {
  const auto f = args<Fetch>("s100 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)");
  EXPECT_EQ(f.changed_since, 12345U);
  EXPECT_TRUE(f.vanished);
  EXPECT_EQ(args<Fetch>("a FETCH 1:* (FLAGS) (CHANGEDSINCE 9223372036854775807)").changed_since,
            9223372036854775807U);
  EXPECT_EQ(bad("a FETCH 1 FLAGS (CHANGEDSINCE 1 VANISHED)").reason,
            "VANISHED needs UID FETCH with CHANGEDSINCE");
  bad("a UID FETCH 1 FLAGS (VANISHED)");
  bad("a FETCH 1 FLAGS (CHANGEDSINCE 0)");
  bad("a FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775808)");
  bad("a FETCH 1 FLAGS (FROB)");
  bad("a FETCH 1 FLAGS ()");
}

TEST(ImapCommandTest, StoreTakesModeSilenceFlagsAndUnchangedSince) {
  const Command c =
      ok("a103 UID STORE 6,4,8 (UNCHANGEDSINCE 12121230045) +FLAGS.SILENT (\\Deleted)");
  EXPECT_TRUE(c.uid);
  const auto& s = std::get<Store>(c.arguments);
  EXPECT_EQ(s.unchanged_since, 12121230045U);
  EXPECT_EQ(s.mode, StoreMode::kAdd);
  EXPECT_TRUE(s.silent);
  EXPECT_EQ(s.flags, std::vector<std::string>{"\\Deleted"});
  EXPECT_EQ(args<Store>("a STORE 1 (UNCHANGEDSINCE 0) FLAGS ()").unchanged_since, 0U);
  const auto r = args<Store>("a STORE 1:* -FLAGS \\Seen $Junk");
  EXPECT_EQ(r.mode, StoreMode::kRemove);
  EXPECT_EQ(r.flags, (std::vector<std::string>{"\\Seen", "$Junk"}));
  EXPECT_EQ(args<Store>("a STORE 1 flags.silent (a)").mode, StoreMode::kReplace);
  bad("a STORE 1 FLAGS");
  bad("a STORE 1 +FLAGS.LOUD (x)");
  bad("a STORE 1 *FLAGS (x)");
  bad("a STORE 1 FLAGS (\\)");
  bad("a STORE 1 FLAGS (a b");
  bad("a STORE 1 (UNCHANGEDSINCE) FLAGS (a)");
  bad("a STORE 1 (FROB 1) FLAGS (a)");
}

TEST(ImapSearchTest, Rfc9051Examples) {
  const auto a =
      args<Search>("A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"");
  EXPECT_TRUE(a.esearch);
  EXPECT_TRUE(a.returns.min && a.returns.count && !a.returns.all);
  ASSERT_EQ(a.criteria.type, SearchKeyType::kAnd);
  ASSERT_EQ(a.criteria.children.size(), 3U);
  EXPECT_EQ(a.criteria.children[0].type, SearchKeyType::kFlagged);
  EXPECT_EQ(a.criteria.children[1].type, SearchKeyType::kSince);
  EXPECT_EQ(a.criteria.children[1].date.year, 1994);
  EXPECT_EQ(a.criteria.children[1].date.month, 2);
  EXPECT_EQ(a.criteria.children[2].type, SearchKeyType::kNot);
  EXPECT_EQ(a.criteria.children[2].children[0].text, "Smith");
  const auto b = args<Search>("A283 SEARCH RETURN () FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"");
  EXPECT_TRUE(b.returns.all);
  const auto c = args<Search>(
      "A285 SEARCH CHARSET UTF-8 TEXT {11}\r\n\xD0\xBD\xD0\xB5\xD1\x82 "
      "\xD1\x82\xD0\xB0");
  EXPECT_EQ(c.charset, "UTF-8");
  EXPECT_EQ(c.criteria.children[0].text.size(), 11U);
  const auto d = args<Search>("A284 SEARCH TEXT \"string not in mailbox\"");
  EXPECT_FALSE(d.esearch);
  EXPECT_FALSE(d.charset);
  const auto e =
      args<Search>("a SEARCH RETURN (SAVE) SINCE 1-Jan-2004 NOT FROM \"Smith\" UID 300:500");
  EXPECT_TRUE(e.returns.save);
  EXPECT_EQ(e.criteria.children[2].type, SearchKeyType::kUid);
  const auto f = args<Search>("a SEARCH $ UID $ 1:3 OR $ 5");
  EXPECT_TRUE(f.criteria.children[0].set.saved);
  EXPECT_TRUE(f.criteria.children[1].set.saved);
  EXPECT_EQ(f.criteria.children[2].type, SearchKeyType::kSequenceSet);
}

TEST(ImapSearchTest, EveryKeyParsesInOrder) {
  const auto s = args<Search>(
      "a SEARCH ALL ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN UNANSWERED UNDELETED "
      "UNDRAFT UNFLAGGED UNSEEN KEYWORD $Forwarded UNKEYWORD x BCC a BODY b CC c FROM d "
      "SUBJECT e TEXT f TO g HEADER Message-ID \"<x@y>\" BEFORE 1-Jan-2000 ON \"29-Feb-2024\" "
      "SINCE 31-Dec-1999 SENTBEFORE 2-Mar-2001 SENTON 3-Apr-2002 SENTSINCE 04-May-2003 "
      "LARGER 9223372036854775807 SMALLER 0 MODSEQ 5 UID 1:* 2,3 NOT ALL OR ALL SEEN (ALL SEEN)");
  const std::vector<SearchKeyType> types{
      SearchKeyType::kAll,        SearchKeyType::kAnswered,    SearchKeyType::kDeleted,
      SearchKeyType::kDraft,      SearchKeyType::kFlagged,     SearchKeyType::kNew,
      SearchKeyType::kOld,        SearchKeyType::kRecent,      SearchKeyType::kSeen,
      SearchKeyType::kUnanswered, SearchKeyType::kUndeleted,   SearchKeyType::kUndraft,
      SearchKeyType::kUnflagged,  SearchKeyType::kUnseen,      SearchKeyType::kKeyword,
      SearchKeyType::kUnkeyword,  SearchKeyType::kBcc,         SearchKeyType::kBody,
      SearchKeyType::kCc,         SearchKeyType::kFrom,        SearchKeyType::kSubject,
      SearchKeyType::kText,       SearchKeyType::kTo,          SearchKeyType::kHeader,
      SearchKeyType::kBefore,     SearchKeyType::kOn,          SearchKeyType::kSince,
      SearchKeyType::kSentBefore, SearchKeyType::kSentOn,      SearchKeyType::kSentSince,
      SearchKeyType::kLarger,     SearchKeyType::kSmaller,     SearchKeyType::kModSeq,
      SearchKeyType::kUid,        SearchKeyType::kSequenceSet, SearchKeyType::kNot,
      SearchKeyType::kOr,         SearchKeyType::kAnd};
  ASSERT_EQ(s.criteria.children.size(), types.size());
  for (std::size_t i = 0; i < types.size(); ++i) {
    EXPECT_EQ(s.criteria.children[i].type, types[i]) << i;
  }
  EXPECT_EQ(s.criteria.children[14].text, "$Forwarded");
  EXPECT_EQ(s.criteria.children[23].text, "Message-ID");
  EXPECT_EQ(s.criteria.children[23].value, "<x@y>");
  EXPECT_EQ(s.criteria.children[25].date.day, 29);
  EXPECT_EQ(s.criteria.children[29].date.day, 4);
  EXPECT_EQ(s.criteria.children[30].number, 9223372036854775807U);
  EXPECT_EQ(s.criteria.children[36].children.size(), 2U);
  EXPECT_EQ(s.criteria.children[37].children.size(), 2U);
}

TEST(ImapSearchTest, OrAndNotNest) {
  const auto s =
      args<Search>("a SEARCH OR (FROM a NOT TO b) OR NOT SEEN (OR DELETED DRAFT) NOT NOT 1:5");
  ASSERT_EQ(s.criteria.children.size(), 2U);
  const SearchKey& top = s.criteria.children[0];
  ASSERT_EQ(top.type, SearchKeyType::kOr);
  EXPECT_EQ(top.children[0].type, SearchKeyType::kAnd);
  EXPECT_EQ(top.children[0].children[1].type, SearchKeyType::kNot);
  EXPECT_EQ(top.children[1].type, SearchKeyType::kOr);
  EXPECT_EQ(top.children[1].children[0].type, SearchKeyType::kNot);
  EXPECT_EQ(top.children[1].children[1].children[0].type, SearchKeyType::kOr);
  EXPECT_EQ(s.criteria.children[1].children[0].children[0].type, SearchKeyType::kSequenceSet);
}

TEST(ImapSearchTest, NestingIsBounded) {
  std::string deep = "a SEARCH ";
  for (int i = 0; i < 31; ++i) deep += "NOT ";
  EXPECT_TRUE(parse_command(deep + "ALL"));  // 32 levels
  EXPECT_EQ(bad(deep + "NOT ALL").reason, "Search keys nested too deeply");
  std::string parens = "a SEARCH " + std::string(31, '(') + "ALL" + std::string(31, ')');
  EXPECT_TRUE(parse_command(parens));
  std::string deeper = "a SEARCH " + std::string(10000, '(') + "ALL" + std::string(10000, ')');
  EXPECT_EQ(bad(deeper).reason, "Search keys nested too deeply");
  std::string ors = "a SEARCH ";
  for (int i = 0; i < 100000; ++i) ors += "OR ";
  bad(ors + "ALL ALL");
  ParseOptions few;
  few.max_search_keys = 3;
  EXPECT_EQ(bad("a SEARCH ALL ALL ALL ALL", few).reason, "Too many search keys");
}

TEST(ImapSearchTest, RejectsMalformedKeys) {
  for (std::string_view text : {"a SEARCH",
                                "a SEARCH ",
                                "a SEARCH FROB",
                                "a SEARCH FROM",
                                "a SEARCH OR ALL",
                                "a SEARCH NOT",
                                "a SEARCH (ALL",
                                "a SEARCH ()",
                                "a SEARCH ALL)",
                                "a SEARCH SINCE 1-Foo-2000",
                                "a SEARCH SINCE 30-Feb-2024",
                                "a SEARCH SINCE 29-Feb-2023",
                                "a SEARCH SINCE 1-Feb-94",
                                "a SEARCH SINCE 123-Feb-1994",
                                "a SEARCH LARGER 9223372036854775808",
                                "a SEARCH LARGER -1",
                                "a SEARCH UID 4294967296",
                                "a SEARCH KEYWORD \\Seen",
                                "a SEARCH HEADER x",
                                "a SEARCH RETURN (FROB) ALL",
                                "a SEARCH RETURN ALL",
                                "a SEARCH CHARSET UTF-8",
                                "a SEARCH MODSEQ \"/flags/\\\\draft\" foo 5",
                                "a SEARCH MODSEQ \"/x\" all 5",
                                "a SEARCH MODSEQ x",
                                "a SEARCH ALL  ALL",
                                "a SEARCH ALLX"}) {
    bad(text);
  }
}

TEST(ImapSearchTest, ModSeqWithEntry) {
  const auto s = args<Search>("a SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338");
  const SearchKey& k = s.criteria.children[0];
  EXPECT_EQ(k.type, SearchKeyType::kModSeq);
  EXPECT_EQ(k.text, "/flags/\\draft");
  EXPECT_EQ(k.value, "all");
  EXPECT_EQ(k.number, 620162338U);
}

TEST(ImapCommandTest, SortAndThreadTakeKeysCharsetAndCriteria) {
  const auto s = args<Sort>("a SORT (REVERSE DATE SUBJECT) UTF-8 ALL");
  ASSERT_EQ(s.order.size(), 2U);
  EXPECT_TRUE(s.order[0].reverse);
  EXPECT_EQ(s.order[0].key, SortKey::kDate);
  EXPECT_EQ(s.order[1].key, SortKey::kSubject);
  EXPECT_EQ(s.charset, "UTF-8");
  const auto u = args<Sort>("A283 UID SORT (SUBJECT REVERSE DATE) \"UTF-8\" SINCE 1-Feb-1994");
  EXPECT_EQ(u.criteria.children[0].type, SearchKeyType::kSince);
  const auto t = args<Thread>("A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000");
  EXPECT_EQ(t.algorithm, ThreadAlgorithm::kOrderedSubject);
  EXPECT_EQ(args<Thread>("a UID THREAD REFERENCES US-ASCII TEXT \"gewp\"").algorithm,
            ThreadAlgorithm::kReferences);
  bad("a SORT () UTF-8 ALL");
  bad("a SORT (DATE) ALL");
  bad("a SORT (REVERSE) UTF-8 ALL");
  bad("a SORT (FROB) UTF-8 ALL");
  bad("a THREAD FROB UTF-8 ALL");
  bad("a THREAD REFERENCES UTF-8");
}

TEST(ImapCommandTest, IdAndQuotaTakeTheirFieldsAndLimits) {
  EXPECT_TRUE(args<Id>("a023 ID NIL").fields.empty());
  const auto id = args<Id>("a023 ID (\"name\" \"sodr\" \"version\" \"19.34\" \"vendor\" NIL)");
  ASSERT_EQ(id.fields.size(), 3U);
  EXPECT_EQ(id.fields[1].second, "19.34");
  EXPECT_EQ(id.fields[2].second, std::nullopt);
  bad("a ID (\"name\")");
  bad("a ID (name \"x\")");
  std::string many = "a ID (";
  for (int i = 0; i < 31; ++i) many += "\"k\" NIL ";
  many.back() = ')';
  EXPECT_EQ(bad(many).reason, "Too many ID fields");
  EXPECT_EQ(args<GetQuota>("G0001 GETQUOTA \"!partition/sda4\"").root, "!partition/sda4");
  EXPECT_EQ(ok("G0002 GETQUOTAROOT INBOX").name, CommandName::kGetQuotaRoot);
  const auto q = args<SetQuota>("S0000 SETQUOTA \"#user/alice\" (STORAGE 510 MESSAGE 10)");
  ASSERT_EQ(q.limits.size(), 2U);
  EXPECT_EQ(q.limits[1].first, "MESSAGE");
  EXPECT_EQ(q.limits[1].second, 10U);
  EXPECT_TRUE(args<SetQuota>("a SETQUOTA \"\" ()").limits.empty());
  bad("a SETQUOTA x (STORAGE)");
}

TEST(ImapCommandTest, AuthenticateAndSaslResponses) {
  bad("a AUTHENTICATE");
  bad("a AUTHENTICATE PLAIN dGVzdA");
  bad("a AUTHENTICATE PLAIN dGV=zdA=");
  bad("a AUTHENTICATE PLAIN ==");
  bad("a AUTHENTICATE PLAIN  x");
  EXPECT_TRUE(parse_sasl_response("*")->cancelled);
  EXPECT_EQ(parse_sasl_response("dGVzdA==")->base64, "dGVzdA==");
  EXPECT_FALSE(parse_sasl_response("dGVzdA"));
  EXPECT_FALSE(parse_sasl_response("dG Vz"));
  EXPECT_TRUE(is_idle_done("done"));
  EXPECT_FALSE(is_idle_done("DONE "));
}

TEST(ImapCommandTest, CommandNamesAreTheRfcSpellings) {
  for (const auto& [name, id] : std::vector<std::pair<std::string, CommandName>>{
           {"CAPABILITY", CommandName::kCapability},
           {"GETQUOTAROOT", CommandName::kGetQuotaRoot},
           {"UNSELECT", CommandName::kUnselect}}) {
    EXPECT_EQ(command_name(id), name);
  }
}

// The command table decides what parses: each row's name in any case, the UID form only where
// the row allows it (RFC 9051's "uid" rule and UIDPLUS), arguments only where it has a rule.
TEST(ImapCommandTest, TheCommandTableDecidesNamesUidFormsAndArguments) {
  ASSERT_EQ(command_specs().size(), kCommandCount);
  std::size_t uid_forms = 0;
  for (const CommandSpec& spec : command_specs()) {
    EXPECT_EQ(&command_spec(spec.id), &spec);
    std::string lower(spec.name);
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    const auto bad = parse_command("a UID " + lower + " ((");
    ASSERT_FALSE(bad) << spec.name;
    EXPECT_EQ(bad.error().reason == "Not a UID command", !spec.uid) << spec.name;
    uid_forms += spec.uid ? 1 : 0;
    const auto bare = parse_command("a " + lower);
    if (spec.arguments == nullptr) {
      ASSERT_TRUE(bare) << spec.name;
      EXPECT_EQ(bare->name, spec.id);
      EXPECT_FALSE(parse_command("a " + lower + " x")) << spec.name;
    } else if (spec.id != CommandName::kExpunge) {  // EXPUNGE takes a set in its UID form only
      EXPECT_FALSE(bare) << spec.name << " needs arguments";
    }
  }
  EXPECT_EQ(uid_forms, 8U);  // COPY MOVE FETCH SEARCH STORE EXPUNGE SORT THREAD
  // The states of RFC 9051 section 6 (and RFC 5161 for ENABLE).
  EXPECT_TRUE(command_spec(CommandName::kLogin).states.has(State::kNotAuthenticated));
  EXPECT_FALSE(command_spec(CommandName::kLogin).states.has(State::kAuthenticated));
  EXPECT_FALSE(command_spec(CommandName::kEnable).states.has(State::kSelected));
  EXPECT_FALSE(command_spec(CommandName::kFetch).states.has(State::kAuthenticated));
  EXPECT_TRUE(command_spec(CommandName::kNoop).states.has(State::kNotAuthenticated));
  EXPECT_FALSE(command_spec(CommandName::kLogout).states.has(State::kLogout));
}

// ---------------------------------------------------------------------------------------------
// Modified UTF-7

TEST(ImapMutf7Test, DecodesRfc3501Examples) {
  EXPECT_EQ(decode_mutf7("~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            "~peter/mail/\xE5\x8F\xB0\xE5\x8C\x97/\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E");
  EXPECT_EQ(decode_mutf7("Entw&APw-rfe"), "Entw\xC3\xBCrfe");
  EXPECT_EQ(decode_mutf7("Tom &- Jerry"), "Tom & Jerry");
  EXPECT_EQ(decode_mutf7("&2D3eAA-"), "\xF0\x9F\x98\x80");  // U+1F600, a surrogate pair
  EXPECT_EQ(decode_mutf7(""), "");
}

TEST(ImapMutf7Test, RejectsInvalidEncodings) {
  for (std::string_view s : {"&", "&ZeVnLIqe", "&AGE-", "&Jjo!-", "&2D0-", "&3gA-",
                             "Entw\xC3\xBCrfe", "a\tb", "&U,BTFw", "&U,BTF2-", "&A-", "&AOkA-"}) {
    EXPECT_FALSE(decode_mutf7(s)) << s;
  }
}

TEST(ImapMutf7Test, EncodesAndRoundTrips) {
  EXPECT_EQ(
      encode_mutf7("~peter/mail/\xE5\x8F\xB0\xE5\x8C\x97/\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"),
      "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  EXPECT_EQ(encode_mutf7("Tom & Jerry"), "Tom &- Jerry");
  EXPECT_EQ(encode_mutf7("\xF0\x9F\x98\x80"), "&2D3eAA-");
  EXPECT_EQ(encode_mutf7("a\tb"), "a&AAk-b");
  EXPECT_FALSE(encode_mutf7("\xC3"));
  EXPECT_FALSE(encode_mutf7("\xED\xA0\x80"));  // an encoded surrogate
  for (std::string_view s : {"Entw\xC3\xBCrfe", "\xC3\xA9t\xC3\xA9", "x\x7F", "\xE2\x82\xAC&",
                             "\xF0\x9F\x98\x80\xF0\x9F\x98\x81 z"}) {
    const auto enc = encode_mutf7(s);
    ASSERT_TRUE(enc) << s;
    EXPECT_EQ(decode_mutf7(*enc), s) << *enc;
  }
}

// ---------------------------------------------------------------------------------------------
// Response helpers

TEST(ImapResponseTest, StringsAreAtomsQuotedOrLiteralsAsNeeded) {
  std::string out;
  append_astring(out, "INBOX");
  out += ' ';
  append_astring(out, "Sent Items");
  out += ' ';
  append_astring(out, "nil");
  out += ' ';
  append_astring(out, "");
  out += ' ';
  append_astring(out, "a]b");
  out += ' ';
  append_astring(out, "%");
  EXPECT_EQ(out, R"(INBOX "Sent Items" "nil" "" a]b "%")");
  out.clear();
  append_string(out, "Entw\xC3\xBCrfe");
  EXPECT_EQ(out, "{9}\r\nEntw\xC3\xBCrfe");
  out.clear();
  append_string(out, "Entw\xC3\xBCrfe", true);
  EXPECT_EQ(out, "\"Entw\xC3\xBCrfe\"");
  out.clear();
  append_string(out, "a\"\\b", true);
  EXPECT_EQ(out, R"("a\"\\b")");
  out.clear();
  append_string(out, "a\r\n\xC3\xBC", true);
  EXPECT_EQ(out, "{5}\r\na\r\n\xC3\xBC");
  out.clear();
  append_nstring(out, std::nullopt);
  append_literal8(out, std::string_view("\0x", 2));
  EXPECT_EQ(out, std::string("NIL~{2}\r\n\0x", 11));
}

TEST(ImapResponseTest, ListsSetsAndSections) {
  std::string out;
  const std::vector<std::string> flags{"\\Seen", "$Forwarded"};
  append_flag_list(out, flags);
  append_flag_list(out, {});
  EXPECT_EQ(out, "(\\Seen $Forwarded)()");
  out.clear();
  const std::vector<std::uint32_t> uids{1, 2, 3, 7, 9, 10, 5, 4294967295U};
  append_sequence_set(out, uids);
  EXPECT_EQ(out, "1:3,7,9:10,5,4294967295");
  Section s;
  s.part = {1, 2};
  s.text = SectionText::kHeaderFields;
  s.fields = {"Date", "X Y"};
  out.clear();
  append_section(out, s);
  EXPECT_EQ(out, "1.2.HEADER.FIELDS (Date \"X Y\")");
  out.clear();
  append_section(out, Section{});
  EXPECT_EQ(out, "");
  // What append_section writes parses back to the same section.
  const auto f = args<Fetch>("a FETCH 1 BODY[1.2.HEADER.FIELDS (Date \"X Y\")]");
  EXPECT_EQ(f.items[0].section.fields, s.fields);
}

TEST(ImapCommandTest, RepeatedFetchItemsAreAnsweredOnce) {
  std::string many = "a FETCH 1:5 (";
  for (int i = 0; i < 200; ++i) many += "BODY.PEEK[] ";
  many += "FLAGS)";
  const auto m = args<Fetch>(many);
  ASSERT_EQ(m.items.size(), 2U);
  EXPECT_EQ(m.items[0].attribute, FetchAttribute::kBodySection);
  EXPECT_TRUE(m.items[0].peek);
  EXPECT_EQ(m.items[1].attribute, FetchAttribute::kFlags);

  // BODY[] and BODY.PEEK[] are answered as one BODY[], which sets \Seen; header field lists
  // are the same in any case; other partials and sections are other items.
  const auto f = args<Fetch>(
      "a FETCH 1 (BODY.PEEK[] FLAGS BODY[] FLAGS BODY.PEEK[HEADER.FIELDS (From To)] "
      "BODY.PEEK[HEADER.FIELDS (FROM to)] BODY.PEEK[]<0.10> BODY.PEEK[]<0.10> BODY.PEEK[]<1.10> "
      "BINARY.PEEK[1] BINARY[1] BINARY.SIZE[1] BINARY.SIZE[1] UID UID)");
  ASSERT_EQ(f.items.size(), 8U);
  EXPECT_EQ(f.items[0].attribute, FetchAttribute::kBodySection);
  EXPECT_FALSE(f.items[0].peek);
  EXPECT_EQ(f.items[1].attribute, FetchAttribute::kFlags);
  EXPECT_EQ(f.items[2].section.fields, (std::vector<std::string>{"From", "To"}));
  EXPECT_EQ(f.items[3].partial->offset, 0U);
  EXPECT_EQ(f.items[4].partial->offset, 1U);
  EXPECT_EQ(f.items[5].attribute, FetchAttribute::kBinary);
  EXPECT_FALSE(f.items[5].peek);
  EXPECT_EQ(f.items[6].attribute, FetchAttribute::kBinarySize);
  EXPECT_EQ(f.items[7].attribute, FetchAttribute::kUid);
}

TEST(ImapCommandTest, DistinctBodySectionsPerFetchAreBounded) {
  const auto partials = [](int n) {
    std::string c = "a FETCH 1:* (";
    for (int i = 0; i < n; ++i) c += "BODY.PEEK[]<" + std::to_string(i) + ".1048576> ";
    return c + "UID)";
  };
  EXPECT_EQ(args<Fetch>(partials(64)).items.size(), 65U);
  EXPECT_EQ(bad(partials(65)).reason, "Too many distinct body sections in one FETCH");
  ParseOptions few;
  few.max_fetch_sections = 2;
  EXPECT_EQ(args<Fetch>("a FETCH 1 (RFC822 BODY[] BODY[] UID FLAGS)", few).items.size(), 4U);
  bad("a FETCH 1 (RFC822 BODY[] BODY[TEXT])", few);
}

TEST(ImapCommandTest, RepeatedSortKeysAreDropped) {
  std::string many = "a SORT (REVERSE DATE";
  for (int i = 0; i < 400; ++i) many += " SUBJECT DATE";
  many += ") UTF-8 ALL";
  const auto s = args<Sort>(many);
  ASSERT_EQ(s.order.size(), 2U);
  EXPECT_EQ(s.order[0].key, SortKey::kDate);
  EXPECT_TRUE(s.order[0].reverse);
  EXPECT_EQ(s.order[1].key, SortKey::kSubject);
  EXPECT_FALSE(s.order[1].reverse);
}

// The octets a string's buffer holds, its whole capacity (what a wipe must have zeroed).
bool all_zero(const char* data, std::size_t size) {
  return std::all_of(data, data + size, [](char c) { return c == 0; });
}

TEST(ImapCommandTest, WipeCredentialsZeroesPasswordsAndInitialResponses) {
  Command login = ok("a LOGIN alice \"a long quoted password \\\" with an escape\"");
  auto& l = std::get<Login>(login.arguments);
  ASSERT_EQ(l.password, "a long quoted password \" with an escape");
  const char* password = l.password.data();
  const std::size_t capacity = l.password.capacity();
  wipe_credentials(login);
  EXPECT_TRUE(l.password.empty());
  EXPECT_EQ(l.password.data(), password);  // the same buffer, zeroed
  EXPECT_TRUE(all_zero(password, capacity));

  Command short_one = ok("a LOGIN alice pw");
  wipe_credentials(short_one);
  const auto& sl = std::get<Login>(short_one.arguments);
  EXPECT_TRUE(all_zero(sl.password.data(), sl.password.capacity()));
  EXPECT_TRUE(all_zero(sl.user.data(), sl.user.capacity()));

  Command auth = ok("a AUTHENTICATE PLAIN AGFsaWNlAGEgbG9uZyBwYXNzd29yZA==");
  auto& ir = *std::get<Authenticate>(auth.arguments).initial_response;
  const char* response = ir.data();
  const std::size_t response_capacity = ir.capacity();
  wipe_credentials(auth);
  EXPECT_TRUE(all_zero(response, response_capacity));
}

TEST(ImapReaderTest, WipesACommandOnceItIsForgotten) {
  ReaderLimits limits;
  limits.wipe = true;
  CommandReader reader(limits);
  std::size_t n = 0;
  const std::string_view login = "a LOGIN alice {27}\r\n";
  ASSERT_EQ(reader.feed(login, n), ReadStatus::kContinue);
  reader.accept_literal();
  const std::string_view rest = "correct horse battery staple\r\n";
  // The literal is 27 octets: "correct horse battery stapl", then "e" ends the line.
  ASSERT_EQ(reader.feed(rest, n), ReadStatus::kReady);
  const char* buffer = reader.command().data();
  const std::size_t size = reader.command().size();
  ASSERT_NE(reader.command().find("correct horse"), std::string_view::npos);
  reader.next();
  EXPECT_TRUE(all_zero(buffer, size));

  // A refused command is wiped too, and so is one the connection ends in the middle of.
  ASSERT_EQ(reader.feed("b LOGIN alice secret-password", n), ReadStatus::kNeedMore);
  const char* partial = reader.command().data();
  reader.wipe();
  EXPECT_TRUE(all_zero(partial, 29));
}

}  // namespace
}  // namespace sealpost::imap::protocol
