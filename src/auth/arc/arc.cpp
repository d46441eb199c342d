#include "auth/arc/arc.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "auth/arc/sets.hpp"
#include "auth/dkim/canon.hpp"
#include "auth/dkim/key_cache.hpp"
#include "auth/dkim/record.hpp"
#include "core/base64.hpp"
#include "core/clock.hpp"
#include "core/strings.hpp"
#include "mime/header.hpp"

namespace sealpost::auth::arc {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kSeal = "ARC-Seal";
constexpr std::string_view kAms = "ARC-Message-Signature";
constexpr std::string_view kAar = "ARC-Authentication-Results";

const dkim::Tag* find(const std::vector<dkim::Tag>& tags, std::string_view name) {
  for (const auto& t : tags) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// The own field, b= emptied, as it enters its own hash.
std::string own_without_b(const mime::HeaderField& f) {
  const auto colon = f.raw.find(':');
  return std::string(f.raw.substr(0, colon + 1)) + dkim::without_b_value(f.value);
}

struct KeyLookup {
  std::shared_ptr<const dkim::detail::PreparedKey> key;
  std::string problem;
  bool temporary = false;
};

// ARC signers publish DKIM key records (RFC 8617 section 4.1.2); `keys` keeps them parsed across
// messages as it does for DKIM, when given.
asio::awaitable<KeyLookup> public_key(dns::Lookup& dns, std::string_view selector,
                                      std::string_view domain, dkim::KeyCache* keys) {
  KeyLookup out;
  const auto txt = co_await dns.txt(std::string(selector) + "._domainkey." + std::string(domain));
  if (txt.status == dns::Status::kTempFail) {
    out.problem = "key lookup failed";
    out.temporary = true;
    co_return out;
  }
  if (txt.status != dns::Status::kOk || txt.records.empty()) {
    out.problem = "no key";
    co_return out;
  }
  const auto parsed =
      keys ? keys->get(domain, selector, txt.records.front(), txt.ttl,
                       static_cast<std::uint64_t>(core::unix_now()))
           : std::make_shared<const dkim::ParsedKey>(dkim::parse_key(txt.records.front()));
  const auto& record = parsed->record;
  if (!record || record->type != dkim::KeyRecord::Type::kRsa || !record->sha256) {
    out.problem = "bad key record";
    co_return out;
  }
  if (!parsed->key) {
    out.problem = parsed->problem;
  } else if (parsed->rsa_bits < 1024) {
    out.problem = "RSA key too short";
  } else {
    out.key = parsed->key;
  }
  co_return out;
}

Validation failed(Validation v, std::string reason) {
  v.status = ChainStatus::kFail;
  v.reason = std::move(reason);
  return v;
}

// Checks the newest ARC-Message-Signature like a DKIM signature (section 5.2 step 4).
asio::awaitable<std::string> check_ams(dns::Lookup& dns, dkim::KeyCache* keys,
                                       const mime::Header& header, std::string_view body,
                                       const mime::HeaderField& f) {
  auto parsed = dkim::parse_tags(f.value);
  if (!parsed) co_return "malformed AMS";
  const auto& tags = parsed.value();
  const dkim::Tag* a = find(tags, "a");
  const dkim::Tag* b = find(tags, "b");
  const dkim::Tag* bh = find(tags, "bh");
  const dkim::Tag* d = find(tags, "d");
  const dkim::Tag* s = find(tags, "s");
  const dkim::Tag* h = find(tags, "h");
  if (!a || !b || !bh || !d || !s || !h) co_return "AMS lacks a required tag";
  if (a->value != "rsa-sha256") co_return "AMS algorithm not supported";
  if (!dkim::valid_signing_domain(d->value)) co_return "AMS d= invalid";
  // Without c=, relaxed/relaxed: what ARC implementations write and the ARC test suite expects
  // (ams_fields_c_na).
  dkim::Canon hc = dkim::Canon::kRelaxed;
  dkim::Canon bc = dkim::Canon::kRelaxed;
  if (const dkim::Tag* c = find(tags, "c")) {
    const auto slash = c->value.find('/');
    const auto canon = [](std::string_view x, dkim::Canon& out) {
      if (x == "simple") {
        out = dkim::Canon::kSimple;
      } else if (x == "relaxed") {
        out = dkim::Canon::kRelaxed;
      } else {
        return false;
      }
      return true;
    };
    if (!canon(c->value.substr(0, slash), hc) ||
        (slash != std::string_view::npos && !canon(c->value.substr(slash + 1), bc))) {
      co_return "AMS c= invalid";
    }
  }
  std::vector<std::string> names;
  std::string_view list = h->value;
  while (true) {
    const auto colon = list.find(':');
    std::string_view n = list.substr(0, colon);
    while (!n.empty() &&
           (n.front() == ' ' || n.front() == '\t' || n.front() == '\r' || n.front() == '\n'))
      n.remove_prefix(1);
    while (!n.empty() &&
           (n.back() == ' ' || n.back() == '\t' || n.back() == '\r' || n.back() == '\n'))
      n.remove_suffix(1);
    // An empty h=, or an empty name in it, signs nothing for that place (suite: ams_fields_h_*).
    if (!n.empty()) names.push_back(to_lower_ascii(n));
    if (!names.empty() && names.back() == "arc-seal") co_return "AMS signs ARC-Seal";
    if (colon == std::string_view::npos) break;
    list.remove_prefix(colon + 1);
  }
  if (const dkim::Tag* t = find(tags, "t")) {
    if (!parse_decimal(t->value, 12)) co_return "AMS t= invalid";
  }
  const auto sig = core::base64_decode_bytes(b->value, core::Base64Mode::kFolded);
  const auto body_hash = core::base64_decode_bytes(bh->value, core::Base64Mode::kFolded);
  if (!sig || sig->empty() || !body_hash) co_return "AMS b= or bh= invalid";
  std::string canon_body = dkim::canonical_body(bc, body);
  if (const dkim::Tag* l = find(tags, "l")) {
    const auto n = parse_decimal(l->value, 19);
    if (!n || *n > canon_body.size()) co_return "AMS l= invalid";
    canon_body.resize(*n);
  }
  if (dkim::detail::sha256(canon_body) != *body_hash) co_return "AMS body hash mismatch";
  const auto key = co_await public_key(dns, s->value, d->value, keys);
  if (!key.key) co_return "AMS " + key.problem;
  const std::string data =
      dkim::detail::header_hash_input(header, names, hc, f.name, own_without_b(f));
  if (!key.key->verify(dkim::detail::sha256(data), *sig)) {
    co_return "AMS signature does not verify";
  }
  co_return "";
}

// The data an ARC-Seal of instance `upto` covers (section 5.1.1): every set up to it, AAR, AMS,
// AS in that order, relaxed; the seal itself last, without b= and without its CRLF.
std::string seal_input(const std::map<int, Set>& sets, int upto, std::string_view own_name,
                       std::string_view own_without_b_text) {
  std::string out;
  for (int i = 1; i <= upto; ++i) {
    const Set& s = sets.at(i);
    dkim::canonical_header(dkim::Canon::kRelaxed, s.aar->name, s.aar->raw, out);
    dkim::canonical_header(dkim::Canon::kRelaxed, s.ams->name, s.ams->raw, out);
    if (i < upto) dkim::canonical_header(dkim::Canon::kRelaxed, s.as->name, s.as->raw, out);
  }
  std::string own;
  dkim::canonical_header(dkim::Canon::kRelaxed, own_name, own_without_b_text, own);
  if (own.ends_with("\r\n")) own.resize(own.size() - 2);
  return out + own;
}

asio::awaitable<std::string> check_seal(dns::Lookup& dns, dkim::KeyCache* keys,
                                        const std::map<int, Set>& sets, int i) {
  const mime::HeaderField& f = *sets.at(i).as;
  auto parsed = dkim::parse_tags(f.value);
  if (!parsed) co_return "malformed AS";
  const auto& tags = parsed.value();
  const dkim::Tag* a = find(tags, "a");
  const dkim::Tag* b = find(tags, "b");
  const dkim::Tag* cv = find(tags, "cv");
  const dkim::Tag* d = find(tags, "d");
  const dkim::Tag* s = find(tags, "s");
  if (!a || !b || !cv || !d || !s) co_return "AS lacks a required tag";
  if (find(tags, "h")) co_return "AS has h=";  // section 4.1.3: no h= in a seal
  if (a->value != "rsa-sha256") co_return "AS algorithm not supported";
  if (!dkim::valid_signing_domain(d->value)) co_return "AS d= invalid";
  if (const dkim::Tag* t = find(tags, "t")) {
    if (!parse_decimal(t->value, 12)) co_return "AS t= invalid";
  }
  const auto sig = core::base64_decode_bytes(b->value, core::Base64Mode::kFolded);
  if (!sig || sig->empty()) co_return "AS b= invalid";
  const auto key = co_await public_key(dns, s->value, d->value, keys);
  if (!key.key) co_return "AS " + key.problem;
  const std::string data = seal_input(sets, i, f.name, own_without_b(f));
  if (!key.key->verify(dkim::detail::sha256(data), *sig)) {
    co_return "AS signature does not verify";
  }
  co_return "";
}

}  // namespace

std::string_view to_string(ChainStatus s) noexcept {
  switch (s) {
    case ChainStatus::kNone:
      return "none";
    case ChainStatus::kPass:
      return "pass";
    case ChainStatus::kFail:
      return "fail";
  }
  return "none";
}

asio::awaitable<Validation> validate(dns::Lookup& dns, std::string_view message,
                                     dkim::KeyCache* keys) {
  Validation v;
  auto header = mime::split_header(message);
  if (!header) co_return v;
  const Sets found = collect_sets(header.value());
  v.instances = found.instances;
  if (found.instances == 0 && found.problem.empty()) co_return v;
  if (!found.problem.empty()) {
    v.sealed_fail = found.newest_fail;
    co_return failed(v, found.problem);
  }
  const auto& sets = found.by_instance;
  const std::string_view body = message.substr(header->body_offset);
  if (auto problem = co_await check_ams(dns, keys, header.value(), body, *sets.at(v.instances).ams);
      !problem.empty()) {
    co_return failed(v, problem);
  }
  for (int i = v.instances; i >= 1; --i) {
    if (auto problem = co_await check_seal(dns, keys, sets, i); !problem.empty()) {
      co_return failed(v, problem);
    }
  }
  v.status = ChainStatus::kPass;
  co_return v;
}

Result<std::string, SealError> seal(std::string_view message, const Validation& chain,
                                    const dkim::SigningKey& key, const SealOptions& options) {
  if (chain.sealed_fail) return unexpected(SealError::kChainFailed);
  if (chain.instances >= kMaxInstances) return unexpected(SealError::kTooManyInstances);
  if (key.algorithm() != dkim::Algorithm::kRsaSha256) return unexpected(SealError::kBadKey);
  if (!dkim::valid_signing_domain(options.domain)) return unexpected(SealError::kBadKey);
  auto header = mime::split_header(message);
  if (!header) return unexpected(SealError::kBadMessage);
  const int i = chain.instances + 1;
  const std::string cv(to_string(chain.instances == 0 ? ChainStatus::kNone : chain.status));
  const std::string t = std::to_string(
      options.timestamp != 0 ? options.timestamp : static_cast<std::uint64_t>(core::unix_now()));
  const std::string inst = std::to_string(i);

  std::vector<std::string> names = options.headers;
  if (names.empty()) {
    static const std::vector<std::string> default_names = {
        "from",           "to",           "cc",
        "subject",        "date",         "message-id",
        "reply-to",       "in-reply-to",  "references",
        "mime-version",   "content-type", "content-transfer-encoding",
        "dkim-signature", "list-id",      "list-unsubscribe"};
    std::map<std::string, int> present;
    for (const auto& f : header->fields) ++present[to_lower_ascii(f.name)];
    for (const auto& n : default_names) {
      for (int k = 0; k < present[n]; ++k) names.push_back(n);
    }
  }
  std::string h;
  for (std::size_t k = 0; k < names.size(); ++k) h += (k ? ":" : "") + names[k];

  // The fields are written unfolded, tags in alphabetical order (the layout the ARC test suite
  // predicts); b= is filled in after hashing.
  const std::string aar = std::string(kAar) + ": i=" + inst + "; " + options.authserv_id + "; " +
                          options.results + "\r\n";
  const auto body_hash = dkim::detail::sha256(
      dkim::canonical_body(dkim::Canon::kRelaxed, message.substr(header->body_offset)));
  const std::string ams_head = std::string(kAms) + ": a=rsa-sha256; b=";
  const std::string ams_tail = "; bh=" + core::base64_encode(body_hash) +
                               "; c=relaxed/relaxed; d=" + options.domain + "; h=" + h +
                               "; i=" + inst + "; s=" + options.selector + "; t=" + t;
  const std::string ams_data = dkim::detail::header_hash_input(
      header.value(), names, dkim::Canon::kRelaxed, kAms, ams_head + ams_tail);
  const auto ams_sig =
      dkim::detail::sign_hash(key.pkey(), key.algorithm(), dkim::detail::sha256(ams_data));
  if (!ams_sig) return unexpected(SealError::kCrypto);
  const std::string ams = ams_head + core::base64_encode(*ams_sig) + ams_tail + "\r\n";

  // The seal covers the earlier sets and the new AAR and AMS.
  std::string seal_data;
  // RFC 8617 section 5.1.1: a seal saying cv=fail covers only its own set, not the broken chain.
  if (cv != "fail") {
    for (const auto& [n, set] : collect_sets(header.value()).by_instance) {
      if (n >= i) continue;
      for (const auto* f : {set.aar, set.ams, set.as}) {
        if (f) dkim::canonical_header(dkim::Canon::kRelaxed, f->name, f->raw, seal_data);
      }
    }
  }
  dkim::canonical_header(dkim::Canon::kRelaxed, kAar, aar, seal_data);
  dkim::canonical_header(dkim::Canon::kRelaxed, kAms, ams, seal_data);
  const std::string as_head = std::string(kSeal) + ": a=rsa-sha256; b=";
  const std::string as_tail = "; cv=" + cv + "; d=" + options.domain + "; i=" + inst +
                              "; s=" + options.selector + "; t=" + t;
  std::string own;
  dkim::canonical_header(dkim::Canon::kRelaxed, kSeal, as_head + as_tail, own);
  own.resize(own.size() - 2);
  seal_data += own;
  const auto as_sig =
      dkim::detail::sign_hash(key.pkey(), key.algorithm(), dkim::detail::sha256(seal_data));
  if (!as_sig) return unexpected(SealError::kCrypto);
  return as_head + core::base64_encode(*as_sig) + as_tail + "\r\n" + ams + aar;
}

}  // namespace sealpost::auth::arc
