// Reads one [section] of the TOML config file into typed values. It remembers which keys were
// read, so a key nobody read (a typo, or a setting of another version) is an error naming it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "core/endpoint.hpp"

namespace sealpost::core {

class TableReader {
 public:
  // table may be null (the section is absent): every key then reads as absent.
  TableReader(const toml::table* table, std::string name, const std::filesystem::path& source)
      : table_(table), name_(std::move(name)), source_(source) {}

  // Throws ConfigError "<file>: <section>.<key>: <what>".
  [[noreturn]] void fail(std::string_view key, std::string_view what) const;

  // Each returns nullopt (or null) when the key is absent and fails when its value is wrong.
  const toml::node* get(std::string_view key);
  std::optional<std::string> string(std::string_view key);
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max);
  std::optional<bool> boolean(std::string_view key);
  // A number, integer or not ("6" or "6.5").
  std::optional<double> number(std::string_view key, double min, double max);
  // A size: an integer of bytes, or a string such as "25M".
  std::optional<std::uint64_t> size(std::string_view key, std::uint64_t min, std::uint64_t max);
  // A duration: an integer of seconds, or a string such as "5d" or "1h30m".
  std::optional<std::chrono::seconds> duration(std::string_view key, std::chrono::seconds min,
                                               std::chrono::seconds max);
  std::optional<Endpoint> endpoint(std::string_view key);

  // Whether the key is present, without reading it.
  [[nodiscard]] bool has(std::string_view key) const;
  // The whole table (null when the section is absent), for a section whose keys are data.
  [[nodiscard]] const toml::table* table() const { return table_; }
  [[nodiscard]] const std::filesystem::path& source() const { return source_; }

  // Fails on the first key that no get() asked for.
  void reject_unknown() const;

 private:
  const toml::table* table_;
  std::string name_;
  const std::filesystem::path& source_;
  std::set<std::string, std::less<>> used_;
};

}  // namespace sealpost::core
