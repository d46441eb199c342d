#include "mime/imap_structure.hpp"

#include <algorithm>

#include "core/strings.hpp"
#include "mime/encoded_word.hpp"

namespace sealpost::mime {

namespace {

// Address fields longer than this are read up to here only: a list of thousands of recipients
// fits, and the token list below stays small.
constexpr std::size_t kMaxAddressField = std::size_t{256} * 1024;

// ---------------------------------------------------------------------------------------------
// RFC 5322 address lists

struct Token {
  enum Kind : std::uint8_t { kAtom, kQuoted, kComment, kLiteral, kSpecial };
  Kind kind = kAtom;
  std::string_view text;      // quoted and comment: between the delimiters, escapes kept
  bool space_before = false;  // whitespace or a comment separates it from the previous token
  [[nodiscard]] bool is(char c) const { return kind == kSpecial && text[0] == c; }
};

bool is_special(char c) {
  return std::string_view("<>@,;:.\\)]").find(c) != std::string_view::npos;
}

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  bool space = false;
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const char c = s[i];
    if (is_fws(c)) {
      space = true;
      ++i;
      continue;
    }
    Token t;
    t.space_before = space;
    space = false;
    if (c == '"' || c == '(') {
      std::size_t j = i + 1;
      std::size_t depth = 1;
      while (j < n) {
        if (s[j] == '\\') {
          j += 2;
          continue;
        }
        if (c == '"' && s[j] == '"') break;
        if (c == '(' && s[j] == '(') ++depth;
        if (c == '(' && s[j] == ')' && --depth == 0) break;
        ++j;
      }
      j = std::min(j, n);
      t.kind = c == '"' ? Token::kQuoted : Token::kComment;
      t.text = s.substr(i + 1, j - i - 1);
      i = std::min(j + 1, n);
      if (t.kind == Token::kComment) space = true;
    } else if (c == '[') {
      const std::size_t j = s.find(']', i);
      const std::size_t end = j == std::string_view::npos ? n : j + 1;
      t.kind = Token::kLiteral;
      t.text = s.substr(i, end - i);
      i = end;
    } else if (is_special(c)) {
      t.kind = Token::kSpecial;
      t.text = s.substr(i, 1);
      ++i;
    } else {
      std::size_t j = i;
      while (j < n && !is_fws(s[j]) && !is_special(s[j]) && s[j] != '"' && s[j] != '(' &&
             s[j] != '[') {
        ++j;
      }
      t.kind = Token::kAtom;
      t.text = s.substr(i, j - i);
      i = j;
    }
    out.push_back(t);
  }
  return out;
}

std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out += s[i];
  }
  return out;
}

// A display name: words joined by single spaces where the source had space, quotes removed,
// comments dropped.
std::string phrase(const std::vector<Token>& t, std::size_t b, std::size_t e) {
  std::string out;
  for (std::size_t i = b; i < e; ++i) {
    if (t[i].kind == Token::kComment) continue;
    if (!out.empty() && t[i].space_before) out += ' ';
    out += t[i].kind == Token::kQuoted ? unescape(t[i].text) : std::string(t[i].text);
  }
  return out;
}

bool is_dot_atom(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (s[i] == '.') {
      if (s[i + 1] == '.') return false;  // not the last: checked above
      continue;
    }
    if (c <= ' ' || c == 0x7F || is_special(s[i]) ||
        std::string_view("\"()[").find(s[i]) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// Local part or domain: the tokens' text run together, comments dropped. A quoted local part
// keeps its quotes unless it is a plain dot-atom without them.
std::string run_together(const std::vector<Token>& t, std::size_t b, std::size_t e) {
  std::string out;
  std::size_t quoted = 0;
  for (std::size_t i = b; i < e; ++i) {
    if (t[i].kind == Token::kComment) continue;
    if (t[i].kind == Token::kQuoted) {
      ++quoted;
      out += '"';
      out += t[i].text;
      out += '"';
    } else {
      out += t[i].text;
    }
  }
  if (quoted == 1 && out.size() >= 2 && out.front() == '"' && out.back() == '"') {
    std::string inner = unescape(std::string_view(out).substr(1, out.size() - 2));
    if (is_dot_atom(inner)) return inner;
  }
  return out;
}

std::string first_comment(const std::vector<Token>& t, std::size_t b, std::size_t e) {
  for (std::size_t i = b; i < e; ++i) {
    if (t[i].kind == Token::kComment) return std::string(trim(unescape(t[i].text)));
  }
  return {};
}

// Tokens [b, e) (comments aside) are one local part without its "@domain": an atom, or atoms
// joined by dots (obs-local-part allows space around them). A quoted string alone, several
// words, or other specials are not (a display name, as Dovecot reads them).
bool is_lone_local_part(const std::vector<Token>& t, std::size_t b, std::size_t e) {
  std::size_t words = 0;
  const Token* prev = nullptr;
  for (std::size_t i = b; i < e; ++i) {
    if (t[i].kind == Token::kComment) continue;
    if (t[i].is('.')) {
      prev = &t[i];
      continue;
    }
    if (t[i].kind != Token::kAtom) return false;
    if (prev != nullptr && !prev->is('.')) return false;  // two words with nothing but space
    ++words;
    prev = &t[i];
  }
  return words > 0;
}

std::size_t find_special(const std::vector<Token>& t, std::size_t b, std::size_t e, char c) {
  for (std::size_t i = b; i < e; ++i) {
    if (t[i].is(c)) return i;
  }
  return e;
}

// One mailbox from tokens [b, e).
void add_mailbox(const std::vector<Token>& t, std::size_t b, std::size_t e,
                 std::vector<EnvelopeAddress>& out) {
  EnvelopeAddress a;
  std::string name;
  std::size_t spec_b = b;
  std::size_t spec_e = e;
  const std::size_t angle = find_special(t, b, e, '<');
  if (angle < e) {
    name = phrase(t, b, angle);
    spec_b = angle + 1;
    spec_e = find_special(t, spec_b, e, '>');
    if (spec_b < spec_e && t[spec_b].is('@')) {  // obs-route: "@a,@b:" before the address
      const std::size_t colon = find_special(t, spec_b, spec_e, ':');
      if (colon < spec_e) {
        a.adl = run_together(t, spec_b, colon);
        spec_b = colon + 1;
      }
    }
  } else {
    // No angle brackets: "user@host (Name)", or the broken "Name user@host": the address is
    // the run of tokens around the first '@' not broken by space; what comes before is a name.
    const std::size_t at = find_special(t, b, e, '@');
    if (at < e) {
      // Tokens join the address when nothing separates them, or a '.' or '@' does.
      const auto joined = [&](std::size_t k) {
        return !t[k].space_before || t[k].is('.') || t[k].is('@') || t[k - 1].is('.') ||
               t[k - 1].is('@');
      };
      spec_b = at;
      while (spec_b > b && t[spec_b - 1].kind != Token::kComment && joined(spec_b)) --spec_b;
      spec_e = at + 1;
      while (spec_e < e && t[spec_e].kind != Token::kComment && joined(spec_e)) ++spec_e;
    }
    name = phrase(t, b, spec_b);
    if (name.empty()) name = first_comment(t, spec_b, e);
  }
  const std::size_t at = find_special(t, spec_b, spec_e, '@');
  std::string mailbox;
  std::string host;
  bool named_only = false;  // a display name without an address
  if (at < spec_e) {
    mailbox = run_together(t, spec_b, at);
    host = run_together(t, at + 1, spec_e);
  } else if (angle < e) {
    mailbox = run_together(t, spec_b, spec_e);
  } else if (is_lone_local_part(t, spec_b, spec_e)) {  // "To: postoffice": no domain
    mailbox = run_together(t, spec_b, spec_e);
  } else {
    // Several words or a quoted string and no address ("To: Mary Smith"): RFC 5322 section
    // 3.4 makes them a display-name (a local part has no space between its words); the
    // mailbox is empty (as Dovecot reads it, without its MISSING_MAILBOX placeholder).
    std::string words = phrase(t, spec_b, spec_e);
    named_only = !words.empty();
    if (named_only) name = std::move(words);
  }
  // Nothing but a comment (as after a group's ';'): no mailbox at all. "Name <>" is one.
  if (mailbox.empty() && host.empty() && angle == e && !named_only) return;
  if (!name.empty()) a.name = std::move(name);
  a.mailbox = std::move(mailbox);
  a.host = std::move(host);
  out.push_back(std::move(a));
}

// ---------------------------------------------------------------------------------------------
// IMAP output

bool quotable(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u >= 0x7F) return false;
  }
  return true;
}

void append_number(std::string& out, std::size_t n) {
  out += std::to_string(n);
}

// A header value for IMAP: unfolded, trimmed, or absent when empty.
std::optional<std::string> header_string(std::string_view value) {
  std::string s = unfold(value);
  const std::string_view t = trim(s);
  if (t.empty()) return std::nullopt;
  return std::string(t);
}

// A field of the ENVELOPE: NIL when absent, "" when empty.
std::optional<std::string> field_string(const Part& part, std::string_view name) {
  const HeaderField* f = find_field(part, name);
  if (f == nullptr) return std::nullopt;
  return header_string(f->value).value_or(std::string());
}

void append_opt(std::string& out, const std::optional<std::string>& s) {
  if (s) {
    append_imap_string(out, *s);
  } else {
    out += "NIL";
  }
}

void append_address_list(std::string& out, const std::vector<EnvelopeAddress>& list) {
  if (list.empty()) {
    out += "NIL";
    return;
  }
  out += '(';
  for (const auto& a : list) {
    out += '(';
    append_opt(out, a.name);
    out += ' ';
    append_opt(out, a.adl);
    out += ' ';
    append_opt(out, a.mailbox);
    out += ' ';
    append_opt(out, a.host);
    out += ')';
  }
  out += ')';
}

std::vector<EnvelopeAddress> addresses(const Part& part, std::string_view name) {
  const HeaderField* f = find_field(part, name);
  if (f == nullptr) return {};
  return parse_envelope_addresses(f->value);
}

// To, Cc and Bcc from every field of that name: RFC 5322 allows one, but a message with two
// (some mailing-list software adds one) has two sets of recipients, and showing only the first
// would hide the others (Dovecot joins them too). Bounded like one field's list.
std::vector<EnvelopeAddress> all_addresses(const Part& part, std::string_view name) {
  std::vector<EnvelopeAddress> out;
  constexpr std::size_t kMax = 1000;  // as parse_envelope_addresses()
  for (const HeaderField& f : part.fields) {
    if (!iequals(f.name, name) || out.size() >= kMax) continue;
    auto more = parse_envelope_addresses(f.value, kMax - out.size());
    out.insert(out.end(), std::make_move_iterator(more.begin()),
               std::make_move_iterator(more.end()));
  }
  return out;
}

// RFC 2231 attribute-char: what an extended value may hold without percent-encoding.
bool is_attribute_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7F) return false;
  return std::string_view("*'%()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
}

void append_params(std::string& out, const Parameters& params, bool default_charset) {
  const bool add_charset = default_charset && find_parameter(params, "charset") == nullptr;
  if (params.empty() && !add_charset) {
    out += "NIL";
    return;
  }
  out += '(';
  bool first = true;
  for (const auto& p : params) {
    if (!first) out += ' ';
    first = false;
    if (p.extended && !quotable(p.value)) {
      append_imap_string(out, p.name + "*");
      out += ' ';
      std::string v = "utf-8'" + p.language + "'";
      static constexpr char kHex[] = "0123456789ABCDEF";
      for (char c : p.value) {
        if (is_attribute_char(c)) {
          v += c;
        } else {
          const auto u = static_cast<unsigned char>(c);
          v += '%';
          v += kHex[u >> 4];
          v += kHex[u & 0x0F];
        }
      }
      append_imap_string(out, v);
    } else {
      append_imap_string(out, p.name);
      out += ' ';
      append_imap_string(out, p.value);
    }
  }
  if (add_charset) {
    if (!first) out += ' ';
    out += R"("charset" "us-ascii")";
  }
  out += ')';
}

void append_field_nstring(std::string& out, std::string_view raw_value) {
  const auto s = header_string(raw_value);
  append_opt(out, s);
}

void append_extension(std::string& out, const Part& part) {
  out += ' ';
  if (part.has_disposition) {
    out += '(';
    append_imap_string(out, part.disposition.type);
    out += ' ';
    append_params(out, part.disposition.params, false);
    out += ')';
  } else {
    out += "NIL";
  }
  out += ' ';
  // Content-Language: a comma-separated list of tags (RFC 3282), comments dropped.
  std::vector<std::string> tags;
  const std::string language = unfold(part.language);
  for (const Token& t : tokenize(language)) {
    if (t.kind == Token::kAtom && tags.size() < 32) tags.emplace_back(t.text);
  }
  if (tags.empty()) {
    out += "NIL";
  } else {
    out += '(';
    for (std::size_t i = 0; i < tags.size(); ++i) {
      if (i > 0) out += ' ';
      append_imap_string(out, tags[i]);
    }
    out += ')';
  }
  out += ' ';
  append_field_nstring(out, part.location);
}

constexpr std::string_view kEmptyBody =
    R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)";

void append_body(std::string& out, const Part& part, const BodyStructureOptions& options);

void append_multipart(std::string& out, const Part& part, const BodyStructureOptions& options) {
  if (part.kind == PartKind::kMultipart && !part.children.empty()) {
    for (const Part& child : part.children) append_body(out, child, options);
  } else {
    out += kEmptyBody;
    if (options.extensible) out += " NIL NIL NIL NIL";
    out += ')';
  }
  out += ' ';
  append_imap_string(out, part.content_type.subtype);
  if (!options.extensible) return;
  out += ' ';
  append_params(out, part.content_type.params, false);
  append_extension(out, part);
}

void append_single(std::string& out, const Part& part, const BodyStructureOptions& options) {
  const ContentType& ct = part.content_type;
  const bool text = ct.type == "text";
  const bool message =
      part.kind == PartKind::kMessage && (ct.subtype == "rfc822" || options.imap4rev2);
  append_imap_string(out, ct.type);
  out += ' ';
  append_imap_string(out, ct.subtype);
  out += ' ';
  append_params(out, ct.params, text);
  out += ' ';
  append_field_nstring(out, part.content_id);
  out += ' ';
  append_field_nstring(out, part.description);
  out += ' ';
  append_imap_string(out, part.transfer_encoding.empty() ? "7bit" : part.transfer_encoding);
  out += ' ';
  append_number(out, part.body.size);
  if (text) {
    out += ' ';
    append_number(out, part.body_lines);
  } else if (message) {
    const Part& inner = part.children.front();
    out += ' ';
    out += imap_envelope(inner);
    out += ' ';
    append_body(out, inner, options);
    out += ' ';
    append_number(out, part.body_lines);
  }
  if (!options.extensible) return;
  out += ' ';
  append_field_nstring(out, part.md5);
  append_extension(out, part);
}

void append_body(std::string& out, const Part& part, const BodyStructureOptions& options) {
  out += '(';
  if (part.content_type.type == "multipart") {
    append_multipart(out, part, options);
  } else {
    append_single(out, part, options);
  }
  out += ')';
}

}  // namespace

std::vector<EnvelopeAddress> parse_envelope_addresses(std::string_view value, std::size_t max) {
  std::vector<EnvelopeAddress> out;
  const std::vector<Token> t = tokenize(value.substr(0, kMaxAddressField));
  std::size_t mailboxes = 0;
  bool in_group = false;
  std::size_t i = 0;
  const std::size_t n = t.size();
  while (i < n && mailboxes < max) {
    if (t[i].is(',') || (t[i].is(';') && !in_group)) {
      ++i;
      continue;
    }
    if (t[i].is(';')) {  // the group's end
      out.push_back({});
      in_group = false;
      ++i;
      continue;
    }
    // The element runs to the next ',' or ';' outside angle brackets; a ':' before any '<' or
    // '@' makes it a group's start (not inside a group: groups do not nest).
    std::size_t e = i;
    bool angle = false;
    std::size_t colon = n;
    bool seen_at = false;
    for (; e < n; ++e) {
      if (t[e].is('<')) angle = true;
      if (t[e].is('>')) angle = false;
      if (t[e].is('@')) seen_at = true;
      if (angle) continue;
      if (t[e].is(',') || t[e].is(';')) break;
      if (t[e].is(':') && !in_group && !seen_at && colon == n) {
        colon = e;
        break;
      }
    }
    if (colon < n) {
      EnvelopeAddress start;
      start.mailbox = phrase(t, i, colon);
      out.push_back(std::move(start));
      in_group = true;
      i = colon + 1;
      continue;
    }
    const std::size_t before = out.size();
    add_mailbox(t, i, e, out);
    mailboxes += out.size() - before;
    i = e;
  }
  if (in_group) out.push_back({});
  return out;
}

void append_imap_string(std::string& out, std::string_view s) {
  if (quotable(s)) {
    out += '"';
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
    return;
  }
  const std::size_t nuls = static_cast<std::size_t>(std::count(s.begin(), s.end(), '\0'));
  out += '{';
  append_number(out, s.size() - nuls);
  out += "}\r\n";
  for (char c : s) {
    if (c != '\0') out += c;
  }
}

void append_imap_nstring(std::string& out, std::optional<std::string_view> s) {
  if (s) {
    append_imap_string(out, *s);
  } else {
    out += "NIL";
  }
}

std::string imap_envelope(const Part& message) {
  std::string out = "(";
  append_opt(out, field_string(message, "Date"));
  out += ' ';
  append_opt(out, field_string(message, "Subject"));
  const std::vector<EnvelopeAddress> from = addresses(message, "From");
  auto sender = addresses(message, "Sender");
  auto reply_to = addresses(message, "Reply-To");
  // RFC 3501 section 7.4.2: absent or empty Sender and Reply-To are the From.
  if (sender.empty()) sender = from;
  if (reply_to.empty()) reply_to = from;
  const std::vector<EnvelopeAddress>* lists[] = {&from, &sender, &reply_to};
  for (const auto* list : lists) {
    out += ' ';
    append_address_list(out, *list);
  }
  for (std::string_view name : {"To", "Cc", "Bcc"}) {
    out += ' ';
    append_address_list(out, all_addresses(message, name));
  }
  out += ' ';
  append_opt(out, field_string(message, "In-Reply-To"));
  out += ' ';
  append_opt(out, field_string(message, "Message-ID"));
  out += ')';
  return out;
}

std::string imap_body_structure(const Part& part, BodyStructureOptions options) {
  std::string out;
  append_body(out, part, options);
  return out;
}

ImapStructure imap_structure(const Message& message) {
  ImapStructure s;
  s.envelope = imap_envelope(message.root);
  s.body = imap_body_structure(message.root, {.extensible = false});
  s.body_structure = imap_body_structure(message.root, {.extensible = true});
  return s;
}

namespace {

const Part& empty_part() {
  static const Part part = [] {
    Part p;
    p.content_type = ContentType{"text", "plain", {Parameter{"charset", "us-ascii", {}, false}}};
    return p;
  }();
  return part;
}

}  // namespace

const Part* find_part(const Message& message, std::string_view section_path) {
  const Part* p = &message.root;
  bool is_message = true;  // `p` is a message (not yet one of its parts)
  std::size_t i = 0;
  if (section_path.empty()) return nullptr;
  while (i <= section_path.size()) {
    const std::size_t dot = std::min(section_path.find('.', i), section_path.size());
    const auto number = parse_decimal(section_path.substr(i, dot - i), 9);
    if (!number || *number == 0) return nullptr;
    if (p->kind == PartKind::kMessage && !is_message) {  // into the encapsulated message
      p = &p->children.front();
      is_message = true;
    }
    if (p->kind == PartKind::kMultipart && !p->children.empty()) {
      if (*number > p->children.size()) return nullptr;
      p = &p->children[*number - 1];
      is_message = false;
    } else if (p->content_type.type == "multipart") {
      // A multipart without body parts (its delimiter never appears, or "--b--" at once):
      // BODYSTRUCTURE shows one empty text/plain part, and that is what part 1 is.
      if (*number != 1) return nullptr;
      p = &empty_part();
      is_message = false;
    } else if (is_message && *number == 1) {
      is_message = false;  // a message's only part: its body
    } else {
      return nullptr;
    }
    i = dot + 1;
  }
  return p;
}

}  // namespace sealpost::mime
