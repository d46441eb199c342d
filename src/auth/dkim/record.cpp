#include "auth/dkim/record.hpp"

#include <algorithm>
#include <array>

#include "core/base64.hpp"
#include "core/strings.hpp"

namespace sealpost::auth::dkim {

namespace {

constexpr std::size_t kMaxTags = 64;
constexpr std::size_t kMaxHeaderNames = 256;
constexpr std::size_t kBPrefix = 8;
// Room reserved for a tag list's tags or a colon list's items at once: a signature has a dozen of
// each, and growing a vector a doubling at a time was a visible part of verifying one.
constexpr std::size_t kUsualItems = 16;

std::string_view trim_fws(std::string_view s) {
  while (!s.empty() && is_fws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_fws(s.back())) s.remove_suffix(1);
  return s;
}

// The first `n` characters of `s` that are not folding whitespace.
std::string prefix_without_fws(std::string_view s, std::size_t n) {
  std::string out;
  for (char c : s) {
    if (out.size() == n) break;
    if (!is_fws(c)) out += c;
  }
  return out;
}

// Colon-separated list, each element trimmed of folding whitespace.
std::vector<std::string_view> split_colon(std::string_view s) {
  std::vector<std::string_view> out;
  out.reserve(kUsualItems);
  while (true) {
    const auto at = s.find(':');
    out.push_back(trim_fws(s.substr(0, at)));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

const Tag* find(const std::vector<Tag>& tags, std::string_view name) {
  for (const auto& t : tags) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::optional<std::uint64_t> number(std::string_view s, std::size_t digits) {
  return parse_decimal(s, digits);
}

}  // namespace

Result<std::vector<Tag>, TagError> parse_tags(std::string_view text) {
  std::vector<Tag> tags;
  tags.reserve(kUsualItems);
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto semi = text.find(';', pos);
    const std::size_t end = semi == std::string_view::npos ? text.size() : semi;
    const std::string_view spec = text.substr(pos, end - pos);
    // Only the last tag-spec may be empty (a trailing ";"): ";;" is a syntax error.
    if (trim_fws(spec).empty() && semi != std::string_view::npos) {
      return unexpected(TagError::kSyntax);
    }
    if (!trim_fws(spec).empty()) {
      const auto eq = spec.find('=');
      if (eq == std::string_view::npos) return unexpected(TagError::kSyntax);
      const std::string_view name = trim_fws(spec.substr(0, eq));
      if (name.empty() || !is_ascii_alpha(name.front())) return unexpected(TagError::kSyntax);
      for (char c : name) {
        if (!is_ascii_alpha(c) && !is_ascii_digit(c) && c != '_') {
          return unexpected(TagError::kSyntax);
        }
      }
      const std::string_view value = trim_fws(spec.substr(eq + 1));
      // Checked without an exit per character, so the compiler can take b='s hundreds of
      // characters a vector at a time.
      unsigned char bad = 0;
      for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        const unsigned char visible = static_cast<unsigned char>(u - 0x21) <= 0x7e - 0x21;
        const unsigned char fws = (u == ' ') | (u == '\t') | (u == '\r') | (u == '\n');
        bad |= static_cast<unsigned char>(~(visible | fws)) & 1U;
      }
      if (bad != 0) return unexpected(TagError::kSyntax);
      for (const auto& t : tags) {
        if (t.name == name) return unexpected(TagError::kDuplicate);
      }
      if (tags.size() >= kMaxTags) return unexpected(TagError::kTooMany);
      tags.push_back(Tag{name, value, pos + eq + 1, end});
    }
    if (semi == std::string_view::npos) break;
    pos = semi + 1;
  }
  return tags;
}

std::string_view to_string(Algorithm a) noexcept {
  return a == Algorithm::kRsaSha256 ? "rsa-sha256" : "ed25519-sha256";
}

bool valid_signing_domain(std::string_view d) noexcept {
  if (d.empty() || d.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i < d.size(); ++i) {
    const char c = d[i];
    if (c == '.') {
      if (label == 0 || d[i - 1] == '-') return false;
      label = 0;
      continue;
    }
    if (!is_ascii_alpha(c) && !is_ascii_digit(c) && c != '-' && c != '_') return false;
    if (label == 0 && c == '-') return false;
    if (++label > 63) return false;
  }
  return label > 0 && d.back() != '-';
}

Result<Signature, SignatureError> parse_signature(std::string_view value) {
  auto parsed = parse_tags(value);
  if (!parsed) return unexpected(SignatureError::kSyntax);
  const auto& tags = parsed.value();
  const Tag* v = find(tags, "v");
  const Tag* a = find(tags, "a");
  const Tag* b = find(tags, "b");
  const Tag* bh = find(tags, "bh");
  const Tag* d = find(tags, "d");
  const Tag* h = find(tags, "h");
  const Tag* s = find(tags, "s");
  if (!v || !a || !b || !bh || !d || !h || !s) return unexpected(SignatureError::kSyntax);
  if (v->value != "1") return unexpected(SignatureError::kVersion);

  Signature sig;
  if (iequals(a->value, "rsa-sha256")) {
    sig.algorithm = Algorithm::kRsaSha256;
  } else if (iequals(a->value, "ed25519-sha256")) {
    sig.algorithm = Algorithm::kEd25519Sha256;
  } else {
    return unexpected(SignatureError::kAlgorithm);
  }
  auto b_bytes = core::base64_decode_bytes(b->value, core::Base64Mode::kFolded);
  auto bh_bytes = core::base64_decode_bytes(bh->value, core::Base64Mode::kFolded);
  if (!b_bytes || !bh_bytes || b_bytes->empty() || bh_bytes->size() != 32) {
    return unexpected(SignatureError::kSyntax);
  }
  sig.b = std::move(*b_bytes);
  sig.bh = std::move(*bh_bytes);
  sig.b_prefix = prefix_without_fws(b->value, kBPrefix);
  sig.b_begin = b->value_begin;
  sig.b_end = b->value_end;

  if (const Tag* c = find(tags, "c")) {
    const auto slash = c->value.find('/');
    const auto parse_canon = [](std::string_view x, Canon& out) {
      if (iequals(x, "simple")) {
        out = Canon::kSimple;
      } else if (iequals(x, "relaxed")) {
        out = Canon::kRelaxed;
      } else {
        return false;
      }
      return true;
    };
    if (!parse_canon(c->value.substr(0, slash), sig.header_canon)) {
      return unexpected(SignatureError::kSyntax);
    }
    if (slash != std::string_view::npos &&
        !parse_canon(c->value.substr(slash + 1), sig.body_canon)) {
      return unexpected(SignatureError::kSyntax);
    }
  }

  if (!valid_signing_domain(d->value)) return unexpected(SignatureError::kDomain);
  sig.domain = to_lower_ascii(d->value);
  sig.selector = to_lower_ascii(s->value);
  if (sig.selector.empty() || !valid_signing_domain(sig.selector)) {
    return unexpected(SignatureError::kSyntax);
  }

  bool from = false;
  const auto names = split_colon(h->value);
  sig.headers.reserve(std::min(names.size(), kMaxHeaderNames));
  for (const auto name : names) {
    if (name.empty()) return unexpected(SignatureError::kSyntax);
    if (sig.headers.size() >= kMaxHeaderNames) return unexpected(SignatureError::kSyntax);
    sig.headers.push_back(to_lower_ascii(name));
    from = from || sig.headers.back() == "from";
  }
  if (!from) return unexpected(SignatureError::kFromNotSigned);

  if (const Tag* i = find(tags, "i")) {
    const auto at = i->value.rfind('@');
    if (at == std::string_view::npos) return unexpected(SignatureError::kIdentity);
    if (!is_same_or_subdomain(i->value.substr(at + 1), sig.domain)) {
      return unexpected(SignatureError::kIdentity);
    }
    sig.identity = std::string(i->value);
  } else {
    sig.identity = "@" + sig.domain;
  }
  if (const Tag* q = find(tags, "q")) {
    bool dns = false;
    for (const auto m : split_colon(q->value)) dns = dns || iequals(m, "dns/txt");
    if (!dns) return unexpected(SignatureError::kQueryMethod);
  }
  if (const Tag* l = find(tags, "l")) {
    sig.length = number(l->value, 19);
    if (!sig.length) return unexpected(SignatureError::kSyntax);
  }
  if (const Tag* t = find(tags, "t")) {
    sig.timestamp = number(t->value, 12);
    if (!sig.timestamp) return unexpected(SignatureError::kSyntax);
  }
  if (const Tag* x = find(tags, "x")) {
    sig.expiration = number(x->value, 12);
    if (!sig.expiration) return unexpected(SignatureError::kSyntax);
    if (sig.timestamp && *sig.expiration <= *sig.timestamp) {
      return unexpected(SignatureError::kExpired);
    }
  }
  return sig;
}

std::string without_b_value(std::string_view value) {
  auto tags = parse_tags(value);
  std::string out(value);
  if (!tags) return out;
  for (const auto& t : tags.value()) {
    if (t.name == "b") {
      out.erase(t.value_begin, t.value_end - t.value_begin);
      break;
    }
  }
  return out;
}

Result<KeyRecord, KeyError> parse_key_record(std::string_view txt) {
  auto parsed = parse_tags(txt);
  if (!parsed) return unexpected(KeyError::kSyntax);
  const auto& tags = parsed.value();
  KeyRecord key;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    const Tag& t = tags[i];
    if (t.name == "v") {
      if (i != 0 || t.value != "DKIM1") return unexpected(KeyError::kVersion);
    } else if (t.name == "k") {
      if (iequals(t.value, "rsa")) {
        key.type = KeyRecord::Type::kRsa;
      } else if (iequals(t.value, "ed25519")) {
        key.type = KeyRecord::Type::kEd25519;
      } else {
        return unexpected(KeyError::kKeyType);
      }
    } else if (t.name == "h") {
      key.sha256 = false;
      for (const auto alg : split_colon(t.value)) key.sha256 = key.sha256 || iequals(alg, "sha256");
    } else if (t.name == "s") {
      key.email = false;
      for (const auto svc : split_colon(t.value)) {
        if (svc == "*") {
          key.email = key.tlsrpt = true;
        } else if (iequals(svc, "email")) {
          key.email = true;
        } else if (iequals(svc, "tlsrpt")) {
          key.tlsrpt = true;
        }
      }
    } else if (t.name == "t") {
      for (const auto flag : split_colon(t.value)) {
        if (flag == "y") key.testing = true;
        if (flag == "s") key.strict = true;
      }
    }
  }
  const Tag* p = find(tags, "p");
  if (!p) return unexpected(KeyError::kNoKey);
  auto bytes = core::base64_decode_bytes(p->value, core::Base64Mode::kFolded);
  if (!bytes) return unexpected(KeyError::kBase64);
  key.key = std::move(*bytes);
  if (!find(tags, "s")) key.tlsrpt = true;  // no s=: every service
  return key;
}

}  // namespace sealpost::auth::dkim
