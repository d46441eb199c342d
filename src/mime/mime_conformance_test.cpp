// The MIME robustness corpus (../shared/conformance/mime: CPython's email tests and the Ruby mail
// gem's fixtures, real-world and broken mail): every message parses, within the limits, into a
// tree whose ranges nest and give back the message byte for byte; its ENVELOPE and BODYSTRUCTURE
// are well-formed IMAP; and some known messages have the structure other parsers give them.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "core/strings.hpp"
#include "core/utf8.hpp"
#include "mime/charset.hpp"
#include "mime/encoded_word.hpp"
#include "mime/imap_structure.hpp"
#include "mime/message.hpp"
#include "testing/conformance.hpp"

namespace sealpost::mime {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = sealpost::testing::conformance_dir() / "mime";

std::map<std::string, std::string> load_corpus() {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(kCorpus)) {
    if (!entry.is_regular_file()) continue;
    const fs::path& p = entry.path();
    const std::string name = p.filename().string();
    if (p.extension() != ".eml" && !(p.extension() == ".txt" && name.starts_with("msg_"))) {
      continue;  // README, licenses
    }
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    out[fs::relative(p, kCorpus).string()] = s.str();
  }
  return out;
}

// ---- A small IMAP reader: enough to check that what we send is what the grammar allows. ----

struct Node {
  enum Kind { kNil, kNumber, kString, kList } kind = kNil;
  std::string text;
  std::vector<Node> items;
};

class ImapReader {
 public:
  explicit ImapReader(std::string_view s) : s_(s) {}

  bool read(Node& out) {
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '(') {
      ++i_;
      out.kind = Node::kList;
      while (i_ < s_.size() && s_[i_] != ')') {
        if (!out.items.empty() && s_[i_] == ' ') ++i_;
        Node item;
        if (!read(item)) return false;
        out.items.push_back(std::move(item));
      }
      if (i_ >= s_.size()) return false;
      ++i_;
      return true;
    }
    if (c == '"') {
      out.kind = Node::kString;
      for (++i_; i_ < s_.size() && s_[i_] != '"'; ++i_) {
        const char ch = s_[i_];
        if (ch == '\r' || ch == '\n' || ch == '\0' || static_cast<unsigned char>(ch) >= 0x80) {
          return false;
        }
        if (ch == '\\') {
          if (++i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\\')) return false;
        }
        out.text += s_[i_];
      }
      if (i_ >= s_.size()) return false;
      ++i_;
      return true;
    }
    if (c == '{') {
      const auto close = s_.find("}\r\n", i_);
      if (close == std::string_view::npos) return false;
      const auto n = parse_decimal(s_.substr(i_ + 1, close - i_ - 1));
      if (!n || close + 3 + *n > s_.size()) return false;
      out.kind = Node::kString;
      out.text = std::string(s_.substr(close + 3, *n));
      if (out.text.find('\0') != std::string::npos) return false;
      i_ = close + 3 + *n;
      return true;
    }
    if (s_.substr(i_).starts_with("NIL")) {
      i_ += 3;
      out.kind = Node::kNil;
      return true;
    }
    const std::size_t begin = i_;
    while (i_ < s_.size() && is_ascii_digit(s_[i_])) ++i_;
    if (i_ == begin) return false;
    out.kind = Node::kNumber;
    out.text = std::string(s_.substr(begin, i_ - begin));
    return true;
  }

  [[nodiscard]] bool at_end() const { return i_ == s_.size(); }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

std::optional<Node> read_imap(std::string_view s) {
  ImapReader reader(s);
  Node n;
  if (!reader.read(n) || !reader.at_end()) return std::nullopt;
  return n;
}

bool is_nstring(const Node& n) {
  return n.kind == Node::kNil || n.kind == Node::kString;
}

bool is_params(const Node& n) {
  if (n.kind == Node::kNil) return true;
  if (n.kind != Node::kList || n.items.empty() || n.items.size() % 2 != 0) return false;
  return std::all_of(n.items.begin(), n.items.end(),
                     [](const Node& i) { return i.kind == Node::kString; });
}

bool is_address_list(const Node& n) {
  if (n.kind == Node::kNil) return true;
  if (n.kind != Node::kList || n.items.empty()) return false;
  for (const Node& a : n.items) {
    if (a.kind != Node::kList || a.items.size() != 4) return false;
    if (!std::all_of(a.items.begin(), a.items.end(), is_nstring)) return false;
  }
  return true;
}

bool is_envelope(const Node& n) {
  if (n.kind != Node::kList || n.items.size() != 10) return false;
  for (std::size_t i : {0, 1, 8, 9}) {
    if (!is_nstring(n.items[i])) return false;
  }
  for (std::size_t i = 2; i < 8; ++i) {
    if (!is_address_list(n.items[i])) return false;
  }
  return true;
}

bool is_disposition(const Node& n) {
  return n.kind == Node::kNil || (n.kind == Node::kList && n.items.size() == 2 &&
                                  n.items[0].kind == Node::kString && is_params(n.items[1]));
}

bool is_language(const Node& n) {
  if (is_nstring(n)) return true;
  return n.kind == Node::kList && !n.items.empty() &&
         std::all_of(n.items.begin(), n.items.end(),
                     [](const Node& i) { return i.kind == Node::kString; });
}

// RFC 3501's body production, as this server writes it (all extension fields or none).
bool is_body(const Node& n, bool extensible) {
  if (n.kind != Node::kList || n.items.empty()) return false;
  const auto& it = n.items;
  std::size_t i = 0;
  if (it[0].kind == Node::kList) {  // body-type-mpart
    while (i < it.size() && it[i].kind == Node::kList) {
      if (!is_body(it[i], extensible)) return false;
      ++i;
    }
    if (i >= it.size() || it[i].kind != Node::kString) return false;
    ++i;
    if (!extensible) return i == it.size();
    return i + 4 == it.size() && is_params(it[i]) && is_disposition(it[i + 1]) &&
           is_language(it[i + 2]) && is_nstring(it[i + 3]);
  }
  if (it.size() < 7 || it[0].kind != Node::kString || it[1].kind != Node::kString ||
      !is_params(it[2]) || !is_nstring(it[3]) || !is_nstring(it[4]) ||
      it[5].kind != Node::kString || it[6].kind != Node::kNumber) {
    return false;
  }
  i = 7;
  const std::string type = to_lower_ascii(it[0].text);
  const std::string subtype = to_lower_ascii(it[1].text);
  if (type == "text") {
    if (i >= it.size() || it[i].kind != Node::kNumber) return false;
    ++i;
  } else if (type == "message" && subtype == "rfc822" && i < it.size() &&
             it[i].kind == Node::kList) {
    if (i + 3 > it.size() || !is_envelope(it[i]) || !is_body(it[i + 1], extensible) ||
        it[i + 2].kind != Node::kNumber) {
      return false;
    }
    i += 3;
  }
  if (!extensible) return i == it.size();
  return i + 4 == it.size() && is_nstring(it[i]) && is_disposition(it[i + 1]) &&
         is_language(it[i + 2]) && is_nstring(it[i + 3]);
}

// ---- Structure checks ----

void check_ranges(const Part& p, std::string_view raw, std::size_t depth, const std::string& name) {
  SCOPED_TRACE(name);
  EXPECT_EQ(p.depth, depth);
  EXPECT_EQ(p.body.offset, p.header.end());
  EXPECT_LE(p.body.end(), raw.size());
  EXPECT_EQ(p.body_lines, static_cast<std::size_t>(std::count(
                              raw.begin() + static_cast<std::ptrdiff_t>(p.body.offset),
                              raw.begin() + static_cast<std::ptrdiff_t>(p.body.end()), '\n')));
  for (const HeaderField& f : p.fields) {
    EXPECT_GE(f.raw.data(), raw.data() + p.header.offset);
    EXPECT_LE(f.raw.data() + f.raw.size(), raw.data() + p.header.end());
  }
  switch (p.kind) {
    case PartKind::kLeaf:
      EXPECT_TRUE(p.children.empty());
      break;
    case PartKind::kMessage:
      ASSERT_EQ(p.children.size(), 1u);
      EXPECT_EQ(p.children[0].header.offset, p.body.offset);
      EXPECT_EQ(p.children[0].body.end(), p.body.end());
      break;
    case PartKind::kMultipart: {
      EXPECT_EQ(p.preamble.offset, p.body.offset);
      std::size_t at = p.preamble.end();
      for (const Part& c : p.children) {
        EXPECT_EQ(c.delimiter.offset, at);
        EXPECT_EQ(c.header.offset, c.delimiter.end());
        EXPECT_EQ(c.delimiter.in(raw).find("--"), c.delimiter.in(raw).find_first_not_of("\r\n"));
        at = c.body.end();
      }
      EXPECT_EQ(p.close_delimiter.offset, at);
      EXPECT_EQ(p.epilogue.offset, p.close_delimiter.end());
      EXPECT_EQ(p.epilogue.end(), p.body.end());
      break;
    }
  }
  for (const Part& c : p.children) check_ranges(c, raw, depth + 1, name);
}

std::string tree(const Part& p) {
  std::string s = p.content_type.type + "/" + p.content_type.subtype;
  if (!p.children.empty()) {
    s += "[";
    for (std::size_t i = 0; i < p.children.size(); ++i) {
      if (i > 0) s += ",";
      s += tree(p.children[i]);
    }
    s += "]";
  }
  return s;
}

void check_imap(const Part& p, const std::string& name) {
  SCOPED_TRACE(name);
  const auto envelope = read_imap(imap_envelope(p));
  ASSERT_TRUE(envelope.has_value()) << imap_envelope(p);
  EXPECT_TRUE(is_envelope(*envelope)) << imap_envelope(p);
  for (const bool extensible : {true, false}) {
    const std::string s = imap_body_structure(p, {.extensible = extensible});
    const auto body = read_imap(s);
    ASSERT_TRUE(body.has_value()) << s;
    EXPECT_TRUE(is_body(*body, extensible)) << s;
  }
}

// Every message in the tree: the root and each message/rfc822 part's encapsulated message.
void check_imap_tree(const Part& p, const std::string& name) {
  for (const Part& c : p.children) {
    if (p.kind == PartKind::kMessage) check_imap(c, name);
    check_imap_tree(c, name);
  }
}

class MimeConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    SEALPOST_REQUIRE_CONFORMANCE(kCorpus);
    corpus_ = load_corpus();
  }

  const Message& message(const std::string& name) {
    auto& slot = parsed_[name];
    if (!slot) {
      auto m = parse_message(corpus_.at(name));
      EXPECT_TRUE(m.has_value()) << name;
      slot = std::make_unique<Message>(std::move(m).value());
    }
    return *slot;
  }

  std::map<std::string, std::string> corpus_;
  std::map<std::string, std::unique_ptr<Message>> parsed_;
};

TEST_F(MimeConformance, ParsesEveryMessageBackToItsBytes) {
  ASSERT_GE(corpus_.size(), 150u);
  for (const auto& [name, raw] : corpus_) {
    const auto m = parse_message(raw);
    ASSERT_TRUE(m.has_value()) << name;
    EXPECT_FALSE(m->truncated) << name;
    EXPECT_EQ(serialize(*m), raw) << name;
    check_ranges(m->root, raw, 0, name);
  }
}

TEST_F(MimeConformance, GivesWellFormedImapStructures) {
  for (const auto& [name, raw] : corpus_) {
    const Message& m = message(name);
    check_imap(m.root, name);
    check_imap_tree(m.root, name);
    const ImapStructure s = imap_structure(m);
    EXPECT_FALSE(s.envelope.empty());
    EXPECT_LE(s.body.size(), s.body_structure.size()) << name;
  }
}

TEST_F(MimeConformance, DecodesEverySubjectToUtf8) {
  for (const auto& [name, raw] : corpus_) {
    const Message& m = message(name);
    if (const HeaderField* subject = find_field(m.root, "Subject")) {
      EXPECT_TRUE(core::is_valid_utf8(decode_header_value(subject->value))) << name;
    }
  }
}

TEST_F(MimeConformance, FindsTheStructuresOtherParsersFind) {
  // CPython's own tests state msg_38's structure; the others were checked by hand.
  const std::map<std::string, std::string> expected = {
      {"cpython/msg_02.txt",
       "multipart/mixed[text/plain,text/plain,multipart/digest[message/rfc822[text/plain],"
       "message/rfc822[text/plain],message/rfc822[text/plain],message/rfc822[text/plain],"
       "message/rfc822[text/plain]],text/plain]"},
      {"cpython/msg_15.txt",
       "multipart/mixed[multipart/alternative[text/plain,text/html],image/gif]"},
      {"cpython/msg_17.txt", "multipart/mixed"},
      {"cpython/msg_37.txt",
       "multipart/mixed[text/x-one,text/plain,text/x-two,text/plain,text/plain,text/plain,"
       "text/x-two]"},
      {"cpython/msg_38.txt",
       "multipart/mixed[multipart/mixed[multipart/alternative[text/plain],text/plain],"
       "text/plain,text/plain]"},
      {"cpython/msg_39.txt",
       "multipart/mixed[multipart/mixed[multipart/alternative[application/octet-stream,"
       "application/octet-stream],multipart/alternative[application/octet-stream,"
       "application/octet-stream],multipart/alternative[application/octet-stream,"
       "application/octet-stream]],text/plain]"},
      {"ruby-mail/mime_emails/email_with_similar_boundaries.eml",
       "multipart/mixed[multipart/alternative[text/plain,text/html],application/octetstream]"},
      {"ruby-mail/attachment_emails/attachment_message_rfc822.eml",
       "multipart/mixed[text/plain,message/rfc822[multipart/mixed[text/plain,application/pdf]]]"},
      {"ruby-mail/mime_emails/raw_email_with_nested_attachment.eml",
       "multipart/signed[multipart/mixed[text/plain,image/png],application/pkcs7-signature]"},
  };
  for (const auto& [name, structure] : expected) {
    EXPECT_EQ(tree(message(name).root), structure) << name;
  }
  // msg_17 declares a boundary its body never uses: one opaque body.
  EXPECT_EQ(message("cpython/msg_17.txt").root.kind, PartKind::kLeaf);
  // The forwarded message's PDF, by IMAP part number.
  const Message& fwd = message("ruby-mail/attachment_emails/attachment_message_rfc822.eml");
  const Part* pdf = find_part(fwd, "2.2");
  ASSERT_NE(pdf, nullptr);
  EXPECT_TRUE(pdf->is("application", "pdf"));
  EXPECT_TRUE(pdf->body.in(fwd.raw).starts_with("JVBER"));
}

TEST_F(MimeConformance, ReadsTheNonAsciiNamesOfAttachments) {
  const Message& m = message("ruby-mail/multi_charset/japanese_attachment_long_name.eml");
  const Part* attachment = find_part(m, "1");
  ASSERT_NE(attachment, nullptr);
  const Parameter* filename = find_parameter(attachment->disposition.params, "filename");
  ASSERT_NE(filename, nullptr);
  EXPECT_TRUE(filename->extended);
  EXPECT_TRUE(filename->value.ends_with(".txt"));
  EXPECT_TRUE(filename->value.starts_with("\xE3\x81\x8B\xE3\x81\x8D"));  // かき
}

}  // namespace
}  // namespace sealpost::mime
