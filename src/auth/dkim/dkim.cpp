#include "auth/dkim/dkim.hpp"

#include <algorithm>
#include <chrono>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "auth/dkim/canon.hpp"
#include "auth/dkim/key_cache.hpp"
#include "core/base64.hpp"
#include "core/clock.hpp"
#include "core/strings.hpp"

namespace sealpost::auth::dkim {

namespace asio = boost::asio;

namespace {

constexpr std::size_t kLineLimit = 76;

std::shared_ptr<EVP_PKEY> owned(EVP_PKEY* key) {
  return {key, EVP_PKEY_free};
}

// The fields a signature covers by default (RFC 6376 section 5.4.1), and those named once more
// than they appear so that none can be added later.
const std::vector<std::string>& default_headers() {
  static const std::vector<std::string> names = {"from",
                                                 "reply-to",
                                                 "subject",
                                                 "date",
                                                 "to",
                                                 "cc",
                                                 "message-id",
                                                 "in-reply-to",
                                                 "references",
                                                 "mime-version",
                                                 "content-type",
                                                 "content-transfer-encoding",
                                                 "content-disposition",
                                                 "list-id",
                                                 "list-unsubscribe",
                                                 "list-unsubscribe-post",
                                                 "sender"};
  return names;
}
const std::vector<std::string>& oversigned_headers() {
  static const std::vector<std::string> names = {
      "from", "reply-to", "subject", "date", "to", "cc", "mime-version", "content-type"};
  return names;
}

// Whether a field's name, lowercased, is `lowercase_name` (h= lists hold lowercase names).
bool name_is(std::string_view field_name, std::string_view lowercase_name) {
  if (field_name.size() != lowercase_name.size()) return false;
  for (std::size_t i = 0; i < field_name.size(); ++i) {
    if (ascii_lower(field_name[i]) != lowercase_name[i]) return false;
  }
  return true;
}

SignatureResult failed(SignatureResult r, Status s, std::string reason) {
  r.status = s;
  r.reason = std::move(reason);
  return r;
}

}  // namespace

std::string_view to_string(Status s) noexcept {
  switch (s) {
    case Status::kNone:
      return "none";
    case Status::kPass:
      return "pass";
    case Status::kFail:
      return "fail";
    case Status::kNeutral:
      return "neutral";
    case Status::kTempError:
      return "temperror";
    case Status::kPermError:
      return "permerror";
    case Status::kPolicy:
      return "policy";
  }
  return "none";
}

namespace detail {

std::string header_hash_input(const mime::Header& header, const std::vector<std::string>& names,
                              Canon canon, std::string_view signature_name,
                              std::string_view signature_raw_without_b) {
  // Per name listed, where the search for its next instance goes on: the fields above that index
  // are the ones left. The searches only move up, so each name costs one pass over the header at
  // most, and a header of a few fields allocates nothing per field.
  std::vector<std::pair<std::string_view, std::size_t>> left;
  std::string out;
  out.reserve(1024);
  for (const auto& name : names) {
    auto it =
        std::find_if(left.begin(), left.end(), [&](const auto& l) { return l.first == name; });
    if (it == left.end()) it = left.emplace(left.end(), name, header.fields.size());
    std::size_t& i = it->second;
    while (i > 0 && !name_is(header.fields[i - 1].name, name)) --i;
    if (i == 0) continue;  // a name more than present: nothing
    --i;
    canonical_header(canon, header.fields[i].name, header.fields[i].raw, out);
  }
  std::string own;
  canonical_header(canon, signature_name, signature_raw_without_b, own);
  if (canon == Canon::kRelaxed && own.ends_with("\r\n")) own.resize(own.size() - 2);
  out += own;
  return out;
}

std::vector<std::uint8_t> sha256(std::string_view data) {
  // Fetched once: EVP_sha256() makes every digest look the implementation up again.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  std::vector<std::uint8_t> digest(32);
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &len, md, nullptr);
  return digest;
}

bool verify_hash(EVP_PKEY* key, Algorithm algorithm, const std::vector<std::uint8_t>& hash,
                 const std::vector<std::uint8_t>& signature) {
  if (algorithm == Algorithm::kEd25519Sha256) {
    // RFC 8463 section 3: PureEdDSA over the SHA-256 hash.
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1) return false;
    return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), hash.data(),
                            hash.size()) == 1;
  }
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(key, nullptr),
                                                                  EVP_PKEY_CTX_free);
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1) {
    return false;
  }
  return EVP_PKEY_verify(ctx.get(), signature.data(), signature.size(), hash.data(), hash.size()) ==
         1;
}

std::optional<std::vector<std::uint8_t>> sign_hash(EVP_PKEY* key, Algorithm algorithm,
                                                   const std::vector<std::uint8_t>& hash) {
  std::vector<std::uint8_t> sig;
  std::size_t len = 0;
  if (algorithm == Algorithm::kEd25519Sha256) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1) {
      return std::nullopt;
    }
    sig.resize(64);
    len = sig.size();
    if (EVP_DigestSign(ctx.get(), sig.data(), &len, hash.data(), hash.size()) != 1) {
      return std::nullopt;
    }
    sig.resize(len);
    return sig;
  }
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(key, nullptr),
                                                                  EVP_PKEY_CTX_free);
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_sign(ctx.get(), nullptr, &len, hash.data(), hash.size()) != 1) {
    return std::nullopt;
  }
  sig.resize(len);
  if (EVP_PKEY_sign(ctx.get(), sig.data(), &len, hash.data(), hash.size()) != 1) {
    return std::nullopt;
  }
  sig.resize(len);
  return sig;
}

std::shared_ptr<EVP_PKEY> public_key(const KeyRecord& record, unsigned min_rsa_bits,
                                     std::string& problem) {
  auto key = public_key(record, problem);
  if (key && EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_RSA &&
      rsa_bits(key.get()) < min_rsa_bits) {
    problem = "RSA key too short";
    return nullptr;
  }
  return key;
}

unsigned rsa_bits(EVP_PKEY* key) {
  return EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA ? static_cast<unsigned>(EVP_PKEY_get_bits(key))
                                                   : 0;
}

std::shared_ptr<EVP_PKEY> public_key(const KeyRecord& record, std::string& problem) {
  if (record.key.empty()) {
    problem = "key revoked";
    return nullptr;
  }
  if (record.type == KeyRecord::Type::kEd25519) {
    if (record.key.size() != 32) {
      problem = "bad Ed25519 key";
      return nullptr;
    }
    return owned(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, record.key.data(), 32));
  }
  const unsigned char* p = record.key.data();
  EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, static_cast<long>(record.key.size()));
  if (!key) {  // a bare PKCS#1 RSAPublicKey, as some publish
    p = record.key.data();
    key = d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(record.key.size()));
  }
  if (!key) {
    problem = "key cannot be parsed";
    return nullptr;
  }
  auto k = owned(key);
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    problem = "key is not RSA";
    return nullptr;
  }
  return k;
}

// Either context: RSA signs and verifies through an EVP_PKEY_CTX, Ed25519 (one-shot PureEdDSA)
// through an EVP_MD_CTX.
struct PreparedKey::Context {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> pkey{nullptr, EVP_PKEY_CTX_free};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md{nullptr, EVP_MD_CTX_free};
};

PreparedKey::PreparedKey(std::shared_ptr<EVP_PKEY> key, Operation operation)
    : key_(std::move(key)), operation_(operation) {
  if (!key_) return;
  auto c = std::make_unique<Context>();
  const bool sign = operation == Operation::kSign;
  if (EVP_PKEY_get_base_id(key_.get()) == EVP_PKEY_ED25519) {
    c->md.reset(EVP_MD_CTX_new());
    if (!c->md ||
        (sign ? EVP_DigestSignInit(c->md.get(), nullptr, nullptr, nullptr, key_.get())
              : EVP_DigestVerifyInit(c->md.get(), nullptr, nullptr, nullptr, key_.get())) != 1) {
      return;
    }
  } else {
    c->pkey.reset(EVP_PKEY_CTX_new(key_.get(), nullptr));
    if (!c->pkey ||
        (sign ? EVP_PKEY_sign_init(c->pkey.get()) : EVP_PKEY_verify_init(c->pkey.get())) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(c->pkey.get(), RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_CTX_set_signature_md(c->pkey.get(), EVP_sha256()) != 1) {
      return;
    }
  }
  prepared_ = std::move(c);
}

PreparedKey::~PreparedKey() = default;

bool PreparedKey::verify(const std::vector<std::uint8_t>& hash,
                         const std::vector<std::uint8_t>& signature) const {
  if (!prepared_ || operation_ != Operation::kVerify) return false;
  if (prepared_->md) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    // RFC 8463 section 3: PureEdDSA over the SHA-256 hash.
    return ctx && EVP_MD_CTX_copy_ex(ctx.get(), prepared_->md.get()) == 1 &&
           EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), hash.data(),
                            hash.size()) == 1;
  }
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_dup(prepared_->pkey.get()), EVP_PKEY_CTX_free);
  return ctx && EVP_PKEY_verify(ctx.get(), signature.data(), signature.size(), hash.data(),
                                hash.size()) == 1;
}

std::optional<std::vector<std::uint8_t>> PreparedKey::sign(
    const std::vector<std::uint8_t>& hash) const {
  if (!prepared_ || operation_ != Operation::kSign) return std::nullopt;
  std::vector<std::uint8_t> sig(static_cast<std::size_t>(EVP_PKEY_get_size(key_.get())));
  std::size_t len = sig.size();
  if (prepared_->md) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_MD_CTX_copy_ex(ctx.get(), prepared_->md.get()) != 1 ||
        EVP_DigestSign(ctx.get(), sig.data(), &len, hash.data(), hash.size()) != 1) {
      return std::nullopt;
    }
  } else {
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
        EVP_PKEY_CTX_dup(prepared_->pkey.get()), EVP_PKEY_CTX_free);
    if (!ctx || EVP_PKEY_sign(ctx.get(), sig.data(), &len, hash.data(), hash.size()) != 1) {
      return std::nullopt;
    }
  }
  sig.resize(len);
  return sig;
}

std::string fold(std::string_view field) {
  // Segments end after "; "; a long segment breaks after ':' (h= lists) or, for base64, anywhere.
  std::string out;
  std::size_t line = 0;
  std::size_t pos = 0;
  bool first = true;
  while (pos < field.size()) {
    auto end = field.find("; ", pos);
    end = end == std::string_view::npos ? field.size() : end + 1;
    std::string_view seg = field.substr(pos, end - pos);
    pos = end;
    while (pos < field.size() && field[pos] == ' ') ++pos;
    if (!first) {
      if (line + 1 + seg.size() > kLineLimit) {
        out += "\r\n\t";
        line = 1;
      } else {
        out += ' ';
        ++line;
      }
    }
    first = false;
    while (line + seg.size() > kLineLimit + 2) {
      const std::size_t room = kLineLimit > line ? kLineLimit - line : 8;
      std::size_t cut = seg.substr(0, room).rfind(':');
      const bool base64 = seg.starts_with("b=") || seg.starts_with("bh=");
      if (base64 || cut == std::string_view::npos || cut == 0) {
        cut = std::min(room, seg.size());
      } else {
        ++cut;
      }
      out += seg.substr(0, cut);
      out += "\r\n\t";
      line = 1;
      seg.remove_prefix(cut);
    }
    out += seg;
    line += seg.size();
  }
  return out;
}

}  // namespace detail

namespace {

// The body hashes of one message, by canonicalisation and l=: the RSA and the Ed25519 signature
// RFC 8463 has a signer add (Sealpost does) cover the same canonical body, hashed once.
class BodyHashes {
 public:
  explicit BodyHashes(std::string_view body) : body_(body) {}

  // The SHA-256 of the canonical body, its first `length` bytes if given; nullopt when `length`
  // passes the end of the canonical body.
  std::optional<std::vector<std::uint8_t>> get(Canon canon, std::optional<std::uint64_t> length) {
    for (const auto& e : entries_) {
      if (e.canon == canon && e.length == length) return e.hash;
    }
    std::string canonical = canonical_body(canon, body_);
    if (length) {
      if (*length > canonical.size()) return std::nullopt;
      canonical.resize(*length);
    }
    entries_.push_back({canon, length, detail::sha256(canonical)});
    return entries_.back().hash;
  }

 private:
  struct Entry {
    Canon canon;
    std::optional<std::uint64_t> length;
    std::vector<std::uint8_t> hash;
  };
  std::string_view body_;
  std::vector<Entry> entries_;  // one per distinct c=/l= among the signatures looked at (at most 8)
};

asio::awaitable<SignatureResult> verify_one(dns::Lookup& dns, const mime::Header& header,
                                            BodyHashes& body, const mime::HeaderField& field,
                                            const VerifyOptions& options) {
  SignatureResult r;
  auto parsed = parse_signature(field.value);
  if (!parsed) {
    // Still name the domain when the tag list says it, for the Authentication-Results.
    if (auto tags = parse_tags(field.value)) {
      for (const auto& t : tags.value()) {
        if (t.name == "d" && valid_signing_domain(t.value)) r.domain = to_lower_ascii(t.value);
        if (t.name == "s") r.selector = std::string(t.value);
      }
    }
    co_return failed(std::move(r), Status::kPermError, "malformed signature");
  }
  const Signature& sig = parsed.value();
  r.domain = sig.domain;
  r.selector = sig.selector;
  r.identity = sig.identity;
  r.b_prefix = sig.b_prefix;
  r.algorithm = sig.algorithm;
  r.body_length_limited = sig.length.has_value();
  const std::uint64_t now =
      options.now != 0 ? options.now : static_cast<std::uint64_t>(core::unix_now());
  if (sig.expiration && *sig.expiration < now) {
    co_return failed(std::move(r), Status::kPermError, "signature expired");
  }

  const auto txt = co_await dns.txt(sig.selector + "._domainkey." + sig.domain);
  if (txt.status == dns::Status::kTempFail) {
    co_return failed(std::move(r), Status::kTempError, "key lookup failed");
  }
  if (txt.status != dns::Status::kOk || txt.records.empty()) {
    co_return failed(std::move(r), Status::kPermError, "no key");
  }
  const std::shared_ptr<const ParsedKey> parsed_key =
      options.key_cache
          ? options.key_cache->get(sig.domain, sig.selector, txt.records.front(), txt.ttl, now)
          : std::make_shared<const ParsedKey>(parse_key(txt.records.front()));
  if (!parsed_key->record) co_return failed(std::move(r), Status::kPermError, "bad key record");
  const KeyRecord& kr = *parsed_key->record;
  r.testing = kr.testing;
  const bool key_ed25519 = kr.type == KeyRecord::Type::kEd25519;
  if (key_ed25519 != (sig.algorithm == Algorithm::kEd25519Sha256)) {
    co_return failed(std::move(r), Status::kPermError, "key type does not match a=");
  }
  if (!kr.sha256) co_return failed(std::move(r), Status::kPermError, "key refuses sha256");
  if (options.tlsrpt ? !kr.tlsrpt : !kr.email) {
    co_return failed(std::move(r), Status::kPermError, "key not for this service");
  }
  if (kr.strict) {
    const auto at = sig.identity.rfind('@');
    if (!iequals(std::string_view(sig.identity).substr(at + 1), sig.domain)) {
      co_return failed(std::move(r), Status::kPermError, "key requires i= in d= exactly");
    }
  }
  if (!parsed_key->key) co_return failed(std::move(r), Status::kPermError, parsed_key->problem);
  if (!key_ed25519 && parsed_key->rsa_bits < options.min_rsa_bits) {
    co_return failed(std::move(r), Status::kPermError, "RSA key too short");
  }

  const auto bh = body.get(sig.body_canon, options.tlsrpt ? std::nullopt : sig.length);
  if (!bh) co_return failed(std::move(r), Status::kPermError, "l= longer than the body");
  if (*bh != sig.bh) co_return failed(std::move(r), Status::kFail, "body hash mismatch");
  // The field as it enters its own hash: b='s value emptied (where parse_signature found it).
  const auto colon = field.raw.find(':');
  std::string own(field.raw.substr(0, colon + 1));
  own += field.value.substr(0, sig.b_begin);
  own += field.value.substr(sig.b_end);
  const std::string data =
      detail::header_hash_input(header, sig.headers, sig.header_canon, field.name, own);
  if (!parsed_key->key->verify(detail::sha256(data), sig.b)) {
    co_return failed(std::move(r), Status::kFail, "signature does not verify");
  }
  r.status = Status::kPass;
  co_return r;
}

}  // namespace

asio::awaitable<std::vector<SignatureResult>> verify(dns::Lookup& dns, std::string_view message,
                                                     VerifyOptions options) {
  std::vector<SignatureResult> results;
  auto header = mime::split_header(message);
  if (!header) co_return results;
  BodyHashes body(message.substr(header->body_offset));
  for (const auto& f : header->fields) {
    if (!iequals(f.name, "DKIM-Signature")) continue;
    if (results.size() >= options.max_signatures) break;
    results.push_back(co_await verify_one(dns, header.value(), body, f, options));
  }
  co_return results;
}

std::optional<SigningKey> SigningKey::from_pem(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return std::nullopt;
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (!key) return std::nullopt;
  const int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_RSA) return SigningKey(owned(key), Algorithm::kRsaSha256);
  if (id == EVP_PKEY_ED25519) return SigningKey(owned(key), Algorithm::kEd25519Sha256);
  EVP_PKEY_free(key);
  return std::nullopt;
}

std::optional<SigningKey> SigningKey::from_ed25519_seed(const std::vector<std::uint8_t>& seed) {
  if (seed.size() != 32) return std::nullopt;
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size());
  if (!key) return std::nullopt;
  return SigningKey(owned(key), Algorithm::kEd25519Sha256);
}

std::optional<SigningKey> SigningKey::generate(Algorithm algorithm) {
  EVP_PKEY* key = algorithm == Algorithm::kRsaSha256
                      ? EVP_RSA_gen(2048)
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!key) return std::nullopt;
  return SigningKey(owned(key), algorithm);
}

std::string SigningKey::dns_record() const {
  std::vector<std::uint8_t> pub;
  if (algorithm_ == Algorithm::kEd25519Sha256) {
    std::size_t len = 32;
    pub.resize(len);
    EVP_PKEY_get_raw_public_key(key_.get(), pub.data(), &len);
    pub.resize(len);
    return "v=DKIM1; k=ed25519; p=" + core::base64_encode(pub);
  }
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key_.get(), &der);
  if (len > 0) pub.assign(der, der + len);
  OPENSSL_free(der);
  return "v=DKIM1; k=rsa; p=" + core::base64_encode(pub);
}

std::string SigningKey::private_pem() const {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<std::size_t>(len)};
}

Result<std::string, SignError> sign(std::string_view message, const SigningKey& key,
                                    const SignOptions& options) {
  if (!valid_signing_domain(options.domain) || !valid_signing_domain(options.selector)) {
    return unexpected(SignError::kBadDomain);
  }
  auto header = mime::split_header(message);
  if (!header) return unexpected(SignError::kBadMessage);
  // How many fields bear a name (a short list over a short header: counting beats building a map).
  const auto present = [&](const std::string& name) {
    return std::count_if(header->fields.begin(), header->fields.end(),
                         [&](const mime::HeaderField& f) { return name_is(f.name, name); });
  };
  if (present("from") == 0) return unexpected(SignError::kNoFrom);

  std::vector<std::string> names;
  if (options.sign_all_headers) {
    for (const auto& f : header->fields) names.push_back(to_lower_ascii(f.name));
    std::reverse(names.begin(), names.end());  // taken bottom up: list them bottom up
  } else {
    for (const auto& n : options.headers.empty() ? default_headers() : options.headers) {
      for (auto i = present(n); i > 0; --i) names.push_back(n);
    }
  }
  if (options.oversign) {
    for (const auto& n : oversigned_headers()) {
      if (std::find(names.begin(), names.end(), n) != names.end() || n == "from") {
        names.push_back(n);
      }
    }
  }

  const std::string_view body = message.substr(header->body_offset);
  const std::string canon_body = canonical_body(options.body_canon, body);
  const auto bh = detail::sha256(canon_body);
  const auto canon_name = [](Canon c) { return c == Canon::kSimple ? "simple" : "relaxed"; };

  std::string field = "DKIM-Signature: v=1; a=" + std::string(to_string(key.algorithm())) +
                      "; c=" + canon_name(options.header_canon) + "/" +
                      canon_name(options.body_canon) + "; d=" + options.domain +
                      "; s=" + options.selector;
  field += "; t=" + std::to_string(options.timestamp != 0
                                       ? options.timestamp
                                       : static_cast<std::uint64_t>(core::unix_now()));
  if (options.expiration) field += "; x=" + std::to_string(*options.expiration);
  if (!options.identity.empty()) field += "; i=" + options.identity;
  if (options.body_length) field += "; l=" + std::to_string(canon_body.size());
  field += "; h=";
  for (std::size_t i = 0; i < names.size(); ++i) field += (i ? ":" : "") + names[i];
  field += "; bh=" + core::base64_encode(bh) + "; b=";
  std::string folded = detail::fold(field);

  const std::string data = detail::header_hash_input(header.value(), names, options.header_canon,
                                                     "DKIM-Signature", folded);
  const auto sig = key.sign_hash(detail::sha256(data));
  if (!sig) return unexpected(SignError::kCrypto);
  // b= comes last, so its folding (removed before hashing) cannot change what was signed.
  const std::string b = core::base64_encode(*sig);
  std::size_t line = folded.size() - std::min(folded.size(), folded.rfind('\n') + 1);
  for (std::size_t i = 0; i < b.size();) {
    const std::size_t room = line < kLineLimit ? kLineLimit - line : 0;
    if (room == 0) {
      folded += "\r\n\t";
      line = 1;
      continue;
    }
    const std::size_t n = std::min(room, b.size() - i);
    folded.append(b, i, n);
    line += n;
    i += n;
  }
  folded += "\r\n";
  return folded;
}

}  // namespace sealpost::auth::dkim
