// A list of domains an operator supplies (issue 18 item 4: local category lists, as
// `[filter] adult_lists` names them): one domain per line, "#" starting a comment, blank lines
// ignored, Unicode names in any form to_a_label takes. A host is on the list when it, or a domain
// above it, is listed: "example.xxx" covers "www.example.xxx"; "xxx" covers the whole TLD.
//
// Bounded: a file is read up to kMaxFileOctets, lines past kMaxLine octets and entries past
// kMaxEntries are rejected (counted, not kept). Pure but for load(), which reads the files.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/result.hpp"

namespace sealpost::filter {

class DomainList {
 public:
  static constexpr std::size_t kMaxFileOctets = std::size_t{256} << 20;
  static constexpr std::size_t kMaxLine = 1024;
  static constexpr std::size_t kMaxEntries = 10'000'000;

  // Adds the domains of `text`; returns how many lines were not domains (or past kMaxEntries).
  std::size_t add(std::string_view text);
  // Reads each file into one list; the error names the file and why.
  static Result<DomainList, std::string> load(const std::vector<std::filesystem::path>& files);

  // `host` in A-labels, any case, with or without a trailing dot.
  [[nodiscard]] bool contains(std::string_view host) const;
  [[nodiscard]] std::size_t size() const noexcept { return domains_.size(); }
  [[nodiscard]] bool empty() const noexcept { return domains_.empty(); }

 private:
  std::unordered_set<std::string> domains_;
};

}  // namespace sealpost::filter
