// The settings table: one row per key of the config file, with what it takes, its default, a line
// of documentation and the Config member it fills. It drives parse_config, describe_config
// (`sealpost config check`) and the README's configuration table (`sealpost config reference`),
// so a key is named once. Defaults live in Config's member initialisers; the table reads them
// from a default-constructed Config.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"

namespace sealpost::core {

class TableReader;

struct Setting {
  std::string_view section;  // without brackets: "limits"
  std::string key;           // "message_size"; for the [transport] map, "\"domain\""
  std::string takes;         // what the value may be: "size, 1K to 2G", "true or false"
  std::string default_text;  // as an operator would write it, or how it is computed
  std::string_view doc;      // one line, for the reference

  // Reads the key from its section into the config, leaving the default when it is absent;
  // throws ConfigError naming the key when the value is wrong.
  std::function<void(TableReader&, Config&)> read;
  // The lines `config check` prints for it ("key = value\n"); "" when it is unset.
  std::function<std::string(const Config&)> describe;
  // A valid "key = value\n" different from the default, for the round-trip test; "" for an
  // obsolete key, which is read but never described.
  std::string example;
};

// Every setting, in the order of the file: parsed, described and documented in this order.
std::span<const Setting> settings();

// The sections that hold them, in the same order ("server", "listen"...).
std::vector<std::string_view> setting_sections();

// The settings as the Markdown table of README.md's "Configuration" section.
std::string settings_reference();

}  // namespace sealpost::core
