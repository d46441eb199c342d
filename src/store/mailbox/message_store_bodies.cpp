// The message bytes as stored: the header apart from the rest, each zstd-compressed when that is
// smaller; and the facts computed at delivery, read back.
#include <zstd.h>

#include "store/mailbox/message_store_impl.hpp"

namespace sealpost::store::mailbox {

namespace {

constexpr int kZstdLevel = 3;
constexpr std::size_t kMinCompressed = 512;  // smaller messages are stored as they are

// A zstd frame starts with these four bytes; a message's text never does (a header field
// starts with a printable character), so a stored piece tells by itself whether it is packed.
constexpr std::array<unsigned char, 4> kZstdMagic{0x28, 0xB5, 0x2F, 0xFD};

}  // namespace

std::vector<unsigned char> compress(std::string_view raw) {
  std::vector<unsigned char> out(ZSTD_compressBound(raw.size()));
  const std::size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), kZstdLevel);
  if (ZSTD_isError(n)) throw StoreError("zstd: " + std::string(ZSTD_getErrorName(n)));
  out.resize(n);
  return out;
}

std::string decompress(std::span<const unsigned char> compressed, std::size_t size) {
  std::string out(size, '\0');
  const std::size_t n =
      ZSTD_decompress(out.data(), out.size(), compressed.data(), compressed.size());
  if (ZSTD_isError(n) || n != size) throw StoreError("a stored message does not decompress");
  return out;
}

// Small pieces are stored as they are: compression would not pay for the frame.
std::vector<unsigned char> pack(std::string_view piece) {
  if (piece.size() >= kMinCompressed) {
    auto packed = compress(piece);
    if (packed.size() < piece.size()) return packed;
  }
  return {piece.begin(), piece.end()};
}

std::string unpack(std::span<const unsigned char> stored) {
  if (stored.size() >= kZstdMagic.size() &&
      std::equal(kZstdMagic.begin(), kZstdMagic.end(), stored.begin())) {
    const std::size_t size = ZSTD_getFrameContentSize(stored.data(), stored.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
      throw StoreError("a stored message does not decompress");
    }
    return decompress(stored, size);
  }
  return {reinterpret_cast<const char*>(stored.data()), stored.size()};
}

std::size_t header_length(std::string_view raw) {
  // The header ends with its first empty line (CRLF or a bare LF), which it includes.
  std::size_t line = 0;
  while (line < raw.size()) {
    if (raw[line] == '\n') return line + 1;
    if (raw[line] == '\r' && line + 1 < raw.size() && raw[line + 1] == '\n') return line + 2;
    const std::size_t nl = raw.find('\n', line);
    if (nl == std::string_view::npos) break;
    line = nl + 1;
  }
  return raw.size();
}

std::optional<std::string> MessageStore::raw(std::int64_t folder_id, std::uint32_t uid) {
  auto st = db_->prepare(
      "SELECT b.size, b.compressed, d.header, d.data FROM messages m JOIN bodies b ON "
      "b.id = m.body JOIN body_data d ON d.id = m.body WHERE m.folder = ? AND m.uid = ?");
  st.bind(1, folder_id).bind(2, static_cast<std::int64_t>(uid));
  if (!st.step()) return std::nullopt;
  const auto size = static_cast<std::size_t>(st.integer(0));
  const auto data = st.blob_view(3);
  if (st.is_null(2)) {  // schema 2: the whole message in data
    if (st.integer(1) != 0) return decompress(data, size);
    return std::string(reinterpret_cast<const char*>(data.data()), data.size());
  }
  std::string out = unpack(st.blob_view(2));
  out += unpack(data);
  if (out.size() != size) throw StoreError("a stored message has the wrong size");
  return out;
}

std::optional<std::string> MessageStore::header(std::int64_t folder_id, std::uint32_t uid) {
  // Reading the header column stops before data: its overflow pages are not read.
  auto st = db_->prepare(
      "SELECT d.header FROM messages m JOIN body_data d ON d.id = m.body "
      "WHERE m.folder = ? AND m.uid = ?");
  st.bind(1, folder_id).bind(2, static_cast<std::int64_t>(uid));
  if (!st.step()) return std::nullopt;
  if (st.is_null(0)) {
    auto whole = raw(folder_id, uid);
    if (whole) whole->resize(header_length(*whole));
    return whole;
  }
  return unpack(st.blob_view(0));
}

std::optional<MessageFacts> MessageStore::facts(std::int64_t folder_id, std::uint32_t uid) {
  auto st = db_->prepare(
      "SELECT b.envelope, b.bodystructure, b.body, b.message_id, b.parents, b.sent_date "
      "FROM messages m JOIN bodies b ON b.id = m.body WHERE m.folder = ? AND m.uid = ?");
  st.bind(1, folder_id).bind(2, static_cast<std::int64_t>(uid));
  if (!st.step() || st.is_null(0)) return std::nullopt;
  MessageFacts f;
  f.envelope = st.text(0);
  f.bodystructure = st.text(1);
  f.body = st.text(2);
  f.message_id = st.text(3);
  f.parents = split(st.text(4), ' ');
  f.sent_date = st.integer(5);
  return f;
}

}  // namespace sealpost::store::mailbox
