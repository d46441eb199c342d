#include "pop3/server/maildrop.hpp"

#include <fmt/format.h>

namespace sealpost::pop3::server {

Maildrop::Maildrop(std::uint32_t uidvalidity, std::vector<MaildropMessage> messages)
    : uidvalidity_(uidvalidity), messages_(std::move(messages)) {
  reset();
}

const MaildropMessage* Maildrop::find(std::uint32_t number) const noexcept {
  if (number == 0 || number > messages_.size()) return nullptr;
  const MaildropMessage& m = messages_[number - 1];
  return m.deleted ? nullptr : &m;
}

bool Maildrop::mark_deleted(std::uint32_t number) noexcept {
  if (find(number) == nullptr) return false;
  MaildropMessage& m = messages_[number - 1];
  m.deleted = true;
  --live_count_;
  live_octets_ -= m.size;
  return true;
}

void Maildrop::mark_retrieved(std::uint32_t number) noexcept {
  if (find(number) != nullptr) messages_[number - 1].retrieved = true;
}

void Maildrop::reset() noexcept {
  live_count_ = 0;
  live_octets_ = 0;
  for (MaildropMessage& m : messages_) {
    m.deleted = false;
    ++live_count_;
    live_octets_ += m.size;
  }
}

std::string Maildrop::unique_id(std::uint32_t number) const {
  return fmt::format("{}.{}", uidvalidity_, messages_.at(number - 1).uid);
}

std::vector<std::uint32_t> Maildrop::deleted_uids() const {
  std::vector<std::uint32_t> out;
  for (const MaildropMessage& m : messages_) {
    if (m.deleted) out.push_back(m.uid);
  }
  return out;
}

std::vector<std::uint32_t> Maildrop::retrieved_kept_uids() const {
  std::vector<std::uint32_t> out;
  for (const MaildropMessage& m : messages_) {
    if (m.retrieved && !m.deleted) out.push_back(m.uid);
  }
  return out;
}

void DotStuffer::append(std::string_view text, std::string& out) {
  if (text.empty()) return;
  empty_ = false;
  std::size_t from = 0;
  while (from < text.size()) {
    if (at_line_start_ && text[from] == '.') out += '.';
    const std::size_t lf = text.find('\n', from);
    const std::size_t end = lf == std::string_view::npos ? text.size() : lf + 1;
    out.append(text.substr(from, end - from));
    at_line_start_ = lf != std::string_view::npos;
    from = end;
  }
  before_last_ = text.size() >= 2 ? text[text.size() - 2] : last_;
  last_ = text.back();
}

void DotStuffer::finish(std::string& out) {
  if (!empty_ && !(before_last_ == '\r' && last_ == '\n')) out += "\r\n";
  out += ".\r\n";
  *this = DotStuffer{};
}

std::string_view top_of(std::string_view raw, std::uint32_t lines) noexcept {
  // The header ends with the first empty line ("\r\n", or a bare "\n").
  std::size_t pos = 0;
  while (true) {
    const std::size_t lf = raw.find('\n', pos);
    if (lf == std::string_view::npos) return raw;
    const bool blank = lf == pos || (lf == pos + 1 && raw[pos] == '\r');
    pos = lf + 1;
    if (blank) break;
  }
  for (; lines > 0 && pos < raw.size(); --lines) {
    const std::size_t lf = raw.find('\n', pos);
    if (lf == std::string_view::npos) return raw;  // an unterminated last line, whole
    pos = lf + 1;
  }
  return raw.substr(0, pos);
}

}  // namespace sealpost::pop3::server
