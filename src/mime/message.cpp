#include "mime/message.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

#include "core/strings.hpp"

namespace sealpost::mime {

namespace {

// Limits::max_depth is clamped to this, so no configuration can make the recursion deep.
constexpr std::size_t kMaxDepthCeiling = 128;
constexpr std::size_t kEnd = std::numeric_limits<std::size_t>::max();

// What ended a part: a boundary line of an open multipart, or the end of the input.
struct Stop {
  std::size_t content_end = 0;       // the part's bytes end here (the delimiter's line break after)
  std::size_t content_end_line = 0;  // line feeds before content_end
  std::size_t line_end = 0;          // just after the boundary line and its line break
  std::size_t line_end_line = 0;
  std::size_t level = kEnd;  // the boundary's place in the stack; kEnd at the end of the input
  bool close = false;        // "--boundary--"
};

std::string_view trim_all(std::string_view s) {
  while (!s.empty() && is_fws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_fws(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 5322 section 3.6.8: printable US-ASCII except colon.
bool is_field_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126 || c == ':') return false;
  }
  return true;
}

// RFC 2045 section 6.1: the mechanism is a token; comments and what follows a ';' (parameters
// were never defined) are ignored. Empty, not a token, or a second word ("quoted printable"):
// nullopt, an encoding nobody can undo (Dovecot reads these alike).
std::optional<std::string> transfer_encoding_token(std::string_view value) {
  value = trim_all(value);
  std::size_t n = 0;
  while (n < value.size() && !is_fws(value[n]) && value[n] != ';' && value[n] != '(') ++n;
  std::string token = to_lower_ascii(value.substr(0, n));
  if (token.empty()) return std::nullopt;
  for (char c : token) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || std::strchr("()<>@,;:\\\"/[]?=", c) != nullptr) {
      return std::nullopt;
    }
  }
  // After the token: whitespace and comments, then nothing or a ';'.
  std::size_t depth = 0;
  for (std::size_t i = n; i < value.size(); ++i) {
    const char c = value[i];
    if (depth > 0) {
      if (c == '\\') {
        ++i;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')') {
        --depth;
      }
    } else if (c == '(') {
      ++depth;
    } else if (c == ';') {
      break;
    } else if (!is_fws(c)) {
      return std::nullopt;
    }
  }
  return token;
}

class Parser {
 public:
  Parser(std::string_view raw, const Limits& limits)
      : raw_(raw),
        limits_(limits),
        max_depth_(std::min(limits.max_depth, kMaxDepthCeiling)),
        boundary_limit_(std::min(raw.size(), limits.max_message_size)) {}

  Message run() {
    Message m;
    m.raw = raw_;
    parse_part(m.root, 0, false, false);
    m.part_count = parts_;
    m.truncated = truncated_ || raw_.size() > limits_.max_message_size;
    return m;
  }

 private:
  // `delimited`: a body part of a multipart, ended by the next delimiter.
  Stop parse_part(Part& part, std::size_t depth, bool in_digest, bool delimited) {
    ++parts_;
    part.depth = depth;
    Stop cut;
    std::size_t blank_line = 0;
    const bool was_cut = read_header(part, cut, blank_line);
    interpret_fields(part, in_digest);
    if (was_cut) {  // a boundary line in the header: no body
      part.body = {cut.content_end, 0};
      return cut;
    }
    part.body.offset = pos_;
    const std::size_t body_line = line_;
    const bool can_nest = depth + 1 < max_depth_ && parts_ < limits_.max_parts;
    Stop stop;
    if (part.content_type.type == "multipart") {
      const std::string_view boundary = usable_boundary(part);
      if (!boundary.empty() && can_nest) {
        stop = parse_multipart(part, boundary, depth);
      } else {
        if (!boundary.empty()) truncated_ = true;
        stop = scan_body();
      }
    } else if (is_encapsulated_message(part)) {
      if (can_nest) {
        part.kind = PartKind::kMessage;
        stop = parse_part(part.children.emplace_back(), depth + 1, false, false);
      } else {
        truncated_ = true;
        stop = scan_body();
      }
    } else {
      stop = scan_body();
    }
    if (delimited && part.kind == PartKind::kLeaf && stop.level != kEnd && blank_line > 0 &&
        stop.content_end == part.body.offset && raw_[part.body.offset] == '-') {
      // The empty line that ends the header is followed at once by a delimiter, which needs a
      // line break before it (RFC 2046 section 5.1.1: delimiter := CRLF dash-boundary): the
      // empty line is that line break, so the header ends before it and the body is empty
      // (Dovecot reads it alike: BODY[n.MIME] has no empty line then).
      part.header.size -= blank_line;
      part.body.offset -= blank_line;
      stop.content_end -= blank_line;
      stop.content_end_line -= 1;
      part.body.size = 0;
      part.body_lines = 0;
      return stop;
    }
    part.body.size = stop.content_end - part.body.offset;
    part.body_lines = stop.content_end_line - body_line;
    return stop;
  }

  Stop parse_multipart(Part& part, std::string_view boundary, std::size_t depth) {
    const std::size_t level = boundaries_.size();
    boundaries_.push_back(boundary);
    Stop t = scan_body();
    if (t.level != level) {  // the boundary never appears: a leaf
      boundaries_.resize(level);
      return t;
    }
    part.kind = PartKind::kMultipart;
    part.preamble = {part.body.offset, t.content_end - part.body.offset};
    const bool digest = part.content_type.subtype == "digest";
    while (t.level == level && !t.close) {
      if (parts_ >= limits_.max_parts) {
        // No room for another part: the rest of the input is this multipart's epilogue, and no
        // boundary is looked for any more (the enclosing parts end at the end too).
        truncated_ = true;
        boundary_limit_ = 0;
        boundaries_.resize(level);
        part.close_delimiter = {t.content_end, 0};
        part.epilogue = {t.content_end, raw_.size() - t.content_end};
        return scan_body();
      }
      Part& child = part.children.emplace_back();
      child.delimiter = {t.content_end, t.line_end - t.content_end};
      consume(t);
      t = parse_part(child, depth + 1, digest, true);
    }
    boundaries_.resize(level);
    if (t.level == level) {  // the close delimiter
      part.close_delimiter = {t.content_end, t.line_end - t.content_end};
      consume(t);
      const std::size_t epilogue = pos_;
      const Stop end = scan_body();
      part.epilogue = {epilogue, end.content_end - epilogue};
      return end;
    }
    // Ended by an enclosing multipart's boundary or by the end of the input.
    part.close_delimiter = {t.content_end, 0};
    part.epilogue = {t.content_end, 0};
    return t;
  }

  // Reads header lines from pos_ to the empty line (consumed), the end of the input, or a
  // boundary line (not consumed: returns true and where the header stopped).
  bool read_header(Part& part, Stop& cut, std::size_t& blank_line) {
    const std::size_t start = pos_;
    part.header.offset = start;
    std::size_t field = kEnd;  // where the current field began
    const std::size_t n = raw_.size();
    while (pos_ < n) {
      const std::size_t p = pos_;
      const char c = raw_[p];
      if (c == '\n' || (c == '\r' && p + 1 < n && raw_[p + 1] == '\n')) {
        add_field(part, field, p);
        blank_line = c == '\n' ? 1 : 2;
        pos_ = p + blank_line;
        ++line_;
        part.header.size = pos_ - start;
        return false;
      }
      const auto* nl = static_cast<const char*>(std::memchr(raw_.data() + p, '\n', n - p));
      const std::size_t next = nl != nullptr ? static_cast<std::size_t>(nl - raw_.data()) + 1 : n;
      if (c == '-' && find_boundary(p, next, start, nl != nullptr, cut)) {
        add_field(part, field, cut.content_end);
        part.header.size = cut.content_end - start;
        return true;
      }
      if ((c != ' ' && c != '\t') || field == kEnd) {  // not a continuation line
        add_field(part, field, p);
        field = p;
      }
      pos_ = next;
      if (nl != nullptr) ++line_;
    }
    add_field(part, field, n);
    part.header.size = n - start;
    return false;
  }

  void add_field(Part& part, std::size_t begin, std::size_t end) {
    if (begin == kEnd || begin >= end) return;
    const std::string_view raw = raw_.substr(begin, end - begin);
    const auto colon = raw.find(':');
    if (colon == std::string_view::npos) return;  // not a field: kept in the header's bytes only
    std::string_view name = raw.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (!is_field_name(name)) return;
    if (part.fields.size() >= limits_.max_header_fields) {
      truncated_ = true;
      return;
    }
    std::string_view value = raw.substr(colon + 1);
    if (value.ends_with('\n')) value.remove_suffix(1);
    if (value.ends_with('\r')) value.remove_suffix(1);
    part.fields.push_back(HeaderField{name, raw, value});
  }

  void interpret_fields(Part& part, bool in_digest) {
    bool seen_type = false;
    bool seen_encoding = false;
    bool seen_disposition = false;
    for (const HeaderField& f : part.fields) {
      if (f.name.size() < 8 || !istarts_with(f.name, "content-")) continue;
      const std::string_view what = f.name.substr(8);
      const std::string_view value = trim_all(f.value);
      const auto first = [&](std::string_view& slot) {
        if (slot.data() == nullptr) slot = value;
      };
      if (iequals(what, "type")) {
        if (seen_type) continue;
        seen_type = true;
        if (auto ct = parse_content_type(f.value, limits_.max_params)) {
          part.content_type = std::move(*ct);
          part.has_content_type = true;
        }
      } else if (iequals(what, "transfer-encoding")) {
        if (seen_encoding) continue;
        seen_encoding = true;
        auto token = transfer_encoding_token(f.value);
        part.transfer_encoding_invalid = !token;
        part.transfer_encoding = token ? std::move(*token) : std::string();
      } else if (iequals(what, "disposition")) {
        if (seen_disposition) continue;
        seen_disposition = true;
        if (auto cd = parse_content_disposition(f.value, limits_.max_params)) {
          part.disposition = std::move(*cd);
          part.has_disposition = true;
        }
      } else if (iequals(what, "id")) {
        first(part.content_id);
      } else if (iequals(what, "description")) {
        first(part.description);
      } else if (iequals(what, "md5")) {
        first(part.md5);
      } else if (iequals(what, "language")) {
        first(part.language);
      } else if (iequals(what, "location")) {
        first(part.location);
      }
    }
    if (!part.has_content_type) {
      if (in_digest) {
        part.content_type = ContentType{"message", "rfc822", {}};
      } else {
        part.content_type =
            ContentType{"text", "plain", {Parameter{"charset", "us-ascii", {}, false}}};
      }
    }
  }

  std::string_view usable_boundary(const Part& part) const {
    const Parameter* b = find_parameter(part.content_type.params, "boundary");
    if (b == nullptr || b->value.empty() || b->value.size() > limits_.max_boundary_size) return {};
    if (b->value.find_first_of("\r\n") != std::string::npos) return {};
    return b->value;
  }

  // message/rfc822 (and message/global, RFC 6532) hold a message to parse, unless encoded: a
  // base64 or quoted-printable one (invalid for message/rfc822, RFC 2046 section 5.2.1) is a leaf.
  static bool is_encapsulated_message(const Part& part) {
    if (part.content_type.type != "message") return false;
    if (part.content_type.subtype != "rfc822" && part.content_type.subtype != "global") {
      return false;
    }
    const std::string& te = part.transfer_encoding;
    return te.empty() || te == "7bit" || te == "8bit" || te == "binary";
  }

  // Reads lines from pos_ until a boundary line (not consumed) or the end of the input.
  Stop scan_body() {
    const std::size_t from = pos_;
    const std::size_t n = raw_.size();
    if (!boundaries_.empty()) {
      while (pos_ < n && pos_ < boundary_limit_) {
        const std::size_t p = pos_;
        const auto* nl = static_cast<const char*>(std::memchr(raw_.data() + p, '\n', n - p));
        const std::size_t next = nl != nullptr ? static_cast<std::size_t>(nl - raw_.data()) + 1 : n;
        Stop stop;
        if (raw_[p] == '-' && find_boundary(p, next, from, nl != nullptr, stop)) return stop;
        pos_ = next;
        if (nl != nullptr) ++line_;
      }
    }
    count_lines_to_end();
    Stop stop;
    stop.content_end = stop.line_end = n;
    stop.content_end_line = stop.line_end_line = line_;
    return stop;
  }

  void count_lines_to_end() {
    const std::size_t n = raw_.size();
    while (pos_ < n) {
      const auto* nl = static_cast<const char*>(std::memchr(raw_.data() + pos_, '\n', n - pos_));
      if (nl == nullptr) break;
      pos_ = static_cast<std::size_t>(nl - raw_.data()) + 1;
      ++line_;
    }
    pos_ = n;
  }

  // Whether the line [p, next) is a boundary line of an open multipart; if so, fills `stop`.
  // `from` is where the current part's bytes began: the line break before the boundary line is
  // the delimiter's only if it is inside them.
  bool find_boundary(std::size_t p, std::size_t next, std::size_t from, bool has_line_feed,
                     Stop& stop) const {
    if (boundaries_.empty() || p >= boundary_limit_ || next - p < 2 || raw_[p] != '-' ||
        raw_[p + 1] != '-') {
      return false;
    }
    const std::string_view line = raw_.substr(p + 2, next - p - 2);
    std::size_t best = kEnd;
    for (std::size_t i = boundaries_.size(); i-- > 0;) {
      const std::string_view b = boundaries_[i];
      if (b.size() <= line.size() && std::memcmp(b.data(), line.data(), b.size()) == 0 &&
          (best == kEnd || b.size() > boundaries_[best].size())) {
        best = i;
      }
    }
    if (best == kEnd) return false;
    const std::size_t len = boundaries_[best].size();
    stop.level = best;
    stop.close = line.size() >= len + 2 && line[len] == '-' && line[len + 1] == '-';
    stop.content_end = p;
    stop.content_end_line = line_;
    if (p > from) {  // raw_[p - 1] is a line feed
      stop.content_end = p - 1;
      stop.content_end_line = line_ - 1;
      if (stop.content_end > from && raw_[stop.content_end - 1] == '\r') --stop.content_end;
    }
    stop.line_end = next;
    stop.line_end_line = line_ + (has_line_feed ? 1 : 0);
    return true;
  }

  void consume(const Stop& stop) {
    pos_ = stop.line_end;
    line_ = stop.line_end_line;
  }

  std::string_view raw_;
  const Limits& limits_;
  std::size_t max_depth_;
  std::size_t boundary_limit_;  // boundary lines are looked for before this offset only
  std::size_t pos_ = 0;         // always at the start of a line
  std::size_t line_ = 0;        // line feeds before pos_
  std::vector<std::string_view> boundaries_;  // of the open multiparts, outermost first
  std::size_t parts_ = 0;
  bool truncated_ = false;
};

void append_part(const Part& part, std::string_view raw, std::string& out) {
  out.append(part.header.in(raw));
  switch (part.kind) {
    case PartKind::kLeaf:
      out.append(part.body.in(raw));
      break;
    case PartKind::kMessage:
      append_part(part.children.front(), raw, out);
      break;
    case PartKind::kMultipart:
      out.append(part.preamble.in(raw));
      for (const Part& child : part.children) {
        out.append(child.delimiter.in(raw));
        append_part(child, raw, out);
      }
      out.append(part.close_delimiter.in(raw));
      out.append(part.epilogue.in(raw));
      break;
  }
}

}  // namespace

Result<Message, MessageError> parse_message(std::string_view raw, const Limits& limits) {
  if (raw.size() > std::numeric_limits<std::uint32_t>::max()) {
    return unexpected(MessageError::kTooLarge);
  }
  return Parser(raw, limits).run();
}

const HeaderField* find_field(const Part& part, std::string_view name) noexcept {
  for (const HeaderField& f : part.fields) {
    if (iequals(f.name, name)) return &f;
  }
  return nullptr;
}

std::string serialize(const Message& message) {
  std::string out;
  out.reserve(message.raw.size());
  append_part(message.root, message.raw, out);
  return out;
}

}  // namespace sealpost::mime
