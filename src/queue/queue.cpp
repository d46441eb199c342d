#include "queue/queue.hpp"

#include <stdexcept>

#include <sodium.h>

#include "core/strings.hpp"
#include "crypto/random.hpp"
#include "crypto/seal.hpp"

namespace sealpost::queue {

namespace {

// The envelope's sealed form: a version line, then one field per line (addresses never hold CR
// or LF: the SMTP parser refused them).
constexpr std::string_view kEnvelopeVersion = "sealpost-envelope-1";

std::string encode_envelope(const Envelope& e) {
  std::string out(kEnvelopeVersion);
  out += '\n';
  out += e.owner + '\n';
  out += e.sender + '\n';
  out += e.smtputf8 ? '1' : '0';
  out += e.eightbit ? '1' : '0';
  out += '\n';
  for (const auto& r : e.recipients) out += r + '\n';
  return out;
}

std::optional<Envelope> decode_envelope(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  if (lines.size() < 4 || lines[0] != kEnvelopeVersion || lines[3].size() != 2) {
    return std::nullopt;
  }
  Envelope e;
  e.owner = lines[1];
  e.sender = lines[2];
  e.smtputf8 = lines[3][0] == '1';
  e.eightbit = lines[3][1] == '1';
  for (std::size_t i = 4; i < lines.size(); ++i) e.recipients.emplace_back(lines[i]);
  return e;
}

std::string context(std::string_view what, const std::string& token) {
  return "sealpost-queue-" + std::string(what) + ":" + token;
}

}  // namespace

std::string domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  return to_lower_ascii(address.substr(at + 1));
}

Queue::Queue(store::MetadataStore& store, std::span<const unsigned char> server_key)
    : store_(store), key_(crypto_kdf_KEYBYTES) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
  if (server_key.size() != crypto_kdf_KEYBYTES) throw std::runtime_error("server key size");
  // Its own key, so the queue's ciphertexts and the DKIM keys' never share one.
  crypto_kdf_derive_from_key(key_.data(), key_.size(), 1, "spqueue1", server_key.data());
}

store::NewQueueEntry Queue::seal(const Envelope& envelope, std::string_view content,
                                 std::string_view kind, std::int64_t now) const {
  store::NewQueueEntry n;
  auto& e = n.entry;
  e.token = crypto::random_hex(8);
  e.kind = std::string(kind);
  e.created = now;
  e.size = static_cast<std::int64_t>(content.size());
  e.envelope_sealed =
      crypto::seal(key_.bytes(), encode_envelope(envelope), context("envelope", e.token));
  e.content_sealed = crypto::seal(key_.bytes(), content, context("content", e.token));
  n.recipients.reserve(envelope.recipients.size());
  for (std::size_t i = 0; i < envelope.recipients.size(); ++i) {
    store::QueueRecipientRecord r;
    r.index = static_cast<int>(i);
    r.next_attempt = now;
    r.updated = now;
    n.recipients.push_back(std::move(r));
  }
  return n;
}

std::vector<Queue::Added> Queue::commit(std::span<const store::NewQueueEntry> entries) {
  const auto ids = store_.queue_add(entries);
  std::vector<Added> out;
  out.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) out.push_back({ids[i], entries[i].entry.token});
  return out;
}

Queue::Added Queue::add(const Envelope& envelope, std::string_view content, std::string_view kind,
                        std::int64_t now) {
  const auto entry = seal(envelope, content, kind, now);
  return commit(std::span(&entry, 1)).front();
}

std::optional<std::int64_t> Queue::id_of(const std::string& token) {
  const auto e = store_.queue_entry_by_token(token);
  if (!e) return std::nullopt;
  return e->id;
}

std::optional<Entry> Queue::load(std::int64_t id, bool with_content) {
  auto record = store_.queue_entry(id);
  if (!record) return std::nullopt;
  Entry entry;
  const auto env =
      crypto::open(key_.bytes(), record->envelope_sealed, context("envelope", record->token));
  auto decoded = env ? decode_envelope(*env) : std::nullopt;
  if (!decoded) throw std::runtime_error("queue entry " + record->token + " does not open");
  entry.envelope = std::move(*decoded);
  if (with_content) {
    auto content =
        crypto::open(key_.bytes(), record->content_sealed, context("content", record->token));
    if (!content) throw std::runtime_error("queue entry " + record->token + " does not open");
    entry.content = std::move(*content);
  }
  for (auto& r : store_.queue_recipients(id)) {
    Recipient rcpt;
    if (r.index >= 0 && static_cast<std::size_t>(r.index) < entry.envelope.recipients.size()) {
      rcpt.address = entry.envelope.recipients[static_cast<std::size_t>(r.index)];
    }
    if (!r.detail_sealed.empty()) {
      const auto detail =
          crypto::open(key_.bytes(), r.detail_sealed,
                       context("detail", record->token) + ":" + std::to_string(r.index));
      if (detail) rcpt.detail = *detail;
    }
    rcpt.record = std::move(r);
    entry.recipients.push_back(std::move(rcpt));
  }
  record->envelope_sealed.clear();
  record->content_sealed.clear();
  entry.record = std::move(*record);
  return entry;
}

std::vector<unsigned char> Queue::seal_detail(const store::QueueEntryRecord& entry, int index,
                                              std::string_view detail) const {
  if (detail.empty()) return {};
  return crypto::seal(key_.bytes(), detail,
                      context("detail", entry.token) + ":" + std::to_string(index));
}

void Queue::redact(const store::QueueEntryRecord& entry) {
  store_.queue_redact(
      entry.id, crypto::seal(key_.bytes(), kRedactionNotice, context("content", entry.token)));
}

}  // namespace sealpost::queue
