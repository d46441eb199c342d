#include "core/table_reader.hpp"

#include <fmt/format.h>

#include "core/config.hpp"
#include "core/duration.hpp"

namespace sealpost::core {

void TableReader::fail(std::string_view key, std::string_view what) const {
  throw ConfigError(source_.string() + ": " + name_ + "." + std::string(key) + ": " +
                    std::string(what));
}

const toml::node* TableReader::get(std::string_view key) {
  used_.insert(std::string(key));
  return table_ ? table_->get(key) : nullptr;
}

bool TableReader::has(std::string_view key) const {
  return table_ && table_->contains(key);
}

std::optional<std::string> TableReader::string(std::string_view key) {
  const auto* node = get(key);
  if (!node) return std::nullopt;
  const auto v = node->value<std::string>();
  if (!node->is_string() || !v) fail(key, "expected a string");
  return *v;
}

std::optional<std::int64_t> TableReader::integer(std::string_view key, std::int64_t min,
                                                 std::int64_t max) {
  const auto* node = get(key);
  if (!node) return std::nullopt;
  if (!node->is_integer()) fail(key, "expected an integer");
  const auto v = *node->value<std::int64_t>();
  if (v < min || v > max) {
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return v;
}

std::optional<bool> TableReader::boolean(std::string_view key) {
  const auto* node = get(key);
  if (!node) return std::nullopt;
  if (!node->is_boolean()) fail(key, "expected true or false");
  return *node->value<bool>();
}

std::optional<double> TableReader::number(std::string_view key, double min, double max) {
  const auto* node = get(key);
  if (!node) return std::nullopt;
  if (!node->is_number()) fail(key, "expected a number");
  const double v = *node->value<double>();
  // NaN fails the comparison too: `!(v >= min)` rather than `v < min`.
  if (!(v >= min && v <= max)) {
    fail(key, fmt::format("must be between {} and {}", min, max));
  }
  return v;
}

std::optional<std::uint64_t> TableReader::size(std::string_view key, std::uint64_t min,
                                               std::uint64_t max) {
  const auto* node = get(key);
  if (!node) return std::nullopt;
  std::optional<std::uint64_t> v;
  if (node->is_integer() && *node->value<std::int64_t>() >= 0) {
    v = static_cast<std::uint64_t>(*node->value<std::int64_t>());
  } else if (node->is_string()) {
    v = parse_size(*node->value<std::string>());
  }
  if (!v) fail(key, "expected a size such as 26214400 or \"25M\"");
  if (*v < min || *v > max) {
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + " bytes");
  }
  return v;
}

std::optional<std::chrono::seconds> TableReader::duration(std::string_view key,
                                                          std::chrono::seconds min,
                                                          std::chrono::seconds max) {
  const auto* node = get(key);
  if (!node) return std::nullopt;
  std::optional<std::chrono::seconds> v;
  if (node->is_integer() && *node->value<std::int64_t>() >= 0) {
    v = std::chrono::seconds(*node->value<std::int64_t>());
  } else if (node->is_string()) {
    v = parse_duration(*node->value<std::string>());
  }
  if (!v) fail(key, "expected a duration such as 3600 or \"1h\" (s, m, h, d)");
  if (*v < min || *v > max) {
    fail(key, "must be between " + std::to_string(min.count()) + " and " +
                  std::to_string(max.count()) + " seconds");
  }
  return v;
}

std::optional<Endpoint> TableReader::endpoint(std::string_view key) {
  const auto s = string(key);
  if (!s) return std::nullopt;
  auto ep = parse_endpoint(*s);
  if (!ep) fail(key, "expected \"IP:PORT\" (IPv6 as \"[addr]:PORT\"), got \"" + *s + "\"");
  return ep;
}

void TableReader::reject_unknown() const {
  if (!table_) return;
  for (const auto& [k, v] : *table_) {
    if (!used_.contains(k.str())) fail(k.str(), "unknown setting");
  }
}

}  // namespace sealpost::core
