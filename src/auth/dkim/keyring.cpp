#include "auth/dkim/keyring.hpp"

#include <ctime>
#include <set>
#include <stdexcept>

#include "crypto/seal.hpp"

namespace sealpost::auth::dkim {

namespace {

std::string seal_context(const std::string& domain, const std::string& selector) {
  return "sealpost dkim key\n" + domain + "\n" + selector;
}

std::string day_of(std::int64_t now) {
  const auto t = static_cast<std::time_t>(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16] = {};
  if (std::strftime(buf, sizeof buf, "%Y%m%d", &tm) == 0) return "00000000";
  return buf;
}

}  // namespace

std::vector<store::DkimKeyRecord> create_keys(store::MetadataStore& store,
                                              std::span<const unsigned char> server_key,
                                              const std::string& domain, std::int64_t now,
                                              std::int64_t active_from) {
  std::set<std::string> taken;
  for (const auto& k : store.dkim_keys(domain)) taken.insert(k.selector);
  std::vector<store::DkimKeyRecord> created;
  for (const Algorithm alg : {Algorithm::kRsaSha256, Algorithm::kEd25519Sha256}) {
    const std::string base = "s" + day_of(now) + (alg == Algorithm::kRsaSha256 ? "r" : "e");
    std::string selector = base;
    for (int n = 2; taken.count(selector); ++n) selector = base + std::to_string(n);
    auto key = SigningKey::generate(alg);
    if (!key) throw std::runtime_error("cannot generate a DKIM key");
    store::DkimKeyRecord r;
    r.domain = domain;
    r.selector = selector;
    r.algorithm = std::string(to_string(alg));
    r.sealed_private = crypto::seal(server_key, key->private_pem(), seal_context(domain, selector));
    r.public_record = key->dns_record();
    r.created = now;
    r.active_from = active_from;
    store.add_dkim_key(r);
    created.push_back(r);
  }
  return created;
}

std::vector<store::DkimKeyRecord> rotate_keys(store::MetadataStore& store,
                                              std::span<const unsigned char> server_key,
                                              const std::string& domain, std::int64_t now,
                                              std::int64_t publish_delay, std::int64_t grace) {
  const auto old = store.dkim_keys(domain);
  auto created = create_keys(store, server_key, domain, now, now + publish_delay);
  for (const auto& k : old) {
    if (k.retire_at == 0) store.set_dkim_retire_at(domain, k.selector, now + publish_delay + grace);
  }
  return created;
}

std::shared_ptr<const Keyring> Keyring::load(store::MetadataStore& store,
                                             std::span<const unsigned char> server_key,
                                             std::int64_t now) {
  auto ring = std::make_shared<Keyring>();
  // Oldest first: a later key of the same algorithm replaces an earlier one.
  std::map<std::string, std::map<std::string, NamedKey>> chosen;  // domain → algorithm → key
  for (const auto& r : store.all_dkim_keys()) {
    if (r.active_from > now || (r.retire_at != 0 && r.retire_at <= now)) continue;
    const auto pem = crypto::open(server_key, r.sealed_private, seal_context(r.domain, r.selector));
    if (!pem) {
      throw std::runtime_error("DKIM key " + r.selector + " of " + r.domain +
                               " does not open with this server key (data_dir/server.key)");
    }
    auto key = SigningKey::from_pem(*pem);
    if (!key)
      throw std::runtime_error("DKIM key " + r.selector + " of " + r.domain + " is damaged");
    chosen[r.domain].insert_or_assign(r.algorithm, NamedKey{r.selector, std::move(*key)});
  }
  for (auto& [domain, by_alg] : chosen) {
    auto& v = ring->keys_[domain];
    // RSA first: the signature every verifier understands goes on top.
    for (const char* alg : {"rsa-sha256", "ed25519-sha256"}) {
      const auto it = by_alg.find(alg);
      if (it != by_alg.end()) v.push_back(std::move(it->second));
    }
  }
  return ring;
}

const std::vector<NamedKey>& Keyring::keys(const std::string& domain) const {
  static const std::vector<NamedKey> none;
  const auto it = keys_.find(domain);
  return it == keys_.end() ? none : it->second;
}

std::string Keyring::sign(std::string_view message, const std::string& domain,
                          std::uint64_t timestamp) const {
  std::string fields;
  for (const auto& k : keys(domain)) {
    SignOptions o;
    o.domain = domain;
    o.selector = k.selector;
    o.timestamp = timestamp;
    auto field = dkim::sign(message, k.key, o);
    if (field) fields += field.value();
  }
  return fields;
}

}  // namespace sealpost::auth::dkim
