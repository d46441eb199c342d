#include "filter/domain_list.hpp"

#include <fstream>

#include "core/domain.hpp"
#include "core/strings.hpp"

namespace sealpost::filter {

std::size_t DomainList::add(std::string_view text) {
  std::size_t rejected = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    while (!line.empty() && static_cast<unsigned char>(line.front()) <= ' ') line.remove_prefix(1);
    while (!line.empty() && static_cast<unsigned char>(line.back()) <= ' ') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.back() == '.') line.remove_suffix(1);
    const auto domain = line.size() <= kMaxLine ? core::to_a_label(line) : std::nullopt;
    if (!domain || domain->empty() || domains_.size() >= kMaxEntries) {
      ++rejected;
      continue;
    }
    domains_.insert(to_lower_ascii(*domain));
  }
  return rejected;
}

Result<DomainList, std::string> DomainList::load(const std::vector<std::filesystem::path>& files) {
  DomainList list;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return unexpected(file.string() + ": cannot be read");
    std::string text;
    char buf[64 * 1024];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
      text.append(buf, static_cast<std::size_t>(in.gcount()));
      if (text.size() > kMaxFileOctets) {
        return unexpected(file.string() + ": larger than " + std::to_string(kMaxFileOctets >> 20) +
                          " MiB");
      }
    }
    list.add(text);
  }
  return list;
}

bool DomainList::contains(std::string_view host) const {
  if (domains_.empty()) return false;
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::string name = to_lower_ascii(host);
  std::string_view rest = name;
  while (!rest.empty()) {
    if (domains_.count(std::string(rest)) > 0) return true;
    const std::size_t dot = rest.find('.');
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return false;
}

}  // namespace sealpost::filter
