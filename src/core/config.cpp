#include "core/config.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "core/settings.hpp"
#include "core/strings.hpp"
#include "core/table_reader.hpp"

namespace sealpost::core {
namespace {

// The rules that tie settings together, checked once a section has been read.
void check_section(std::string_view section, TableReader& reader, Config& c) {
  const auto& source = reader.source();
  if (section == "tls" && c.tls_cert.has_value() != c.tls_key.has_value()) {
    reader.fail(c.tls_cert ? "key" : "cert", "tls.cert and tls.key must be set together");
  }
  if (section == "limits") {
    Limits& l = c.limits;
    if (l.max_bytes_in_flight < l.max_message_size) {
      reader.fail("bytes_in_flight", "must be at least limits.message_size");
    }
    if (l.max_spool_size < l.max_message_size) {
      // The default must not refuse a config that only raised message_size.
      if (reader.has("spool_size"))
        reader.fail("spool_size", "must be at least limits.message_size");
      l.max_spool_size = l.max_message_size;
    }
  }
  if (section == "filter" && !(c.filter.junk_score < c.filter.reject_score)) {
    reader.fail(reader.has("reject_score") ? "reject_score" : "junk_score",
                "filter.reject_score must be more than filter.junk_score");
  }
  if (section == "access") {  // the listeners were read before: they need [access] and [tls]
    if ((c.listen_imap || c.listen_imaps || c.listen_pop3 || c.listen_pop3s) && !c.tls_cert &&
        !c.access.allow_plaintext_on_loopback) {
      throw ConfigError(source.string() +
                        ": [listen] imap/imaps/pop3/pop3s need [tls] cert and key (passwords are "
                        "never accepted in plaintext), or [access] allow_plaintext_on_loopback = "
                        "true for loopback-only use");
    }
    if ((c.listen_imaps || c.listen_pop3s) && !c.tls_cert) {
      throw ConfigError(source.string() + ": [listen] imaps/pop3s need [tls] cert and key");
    }
    if ((c.listen_submission || c.listen_submissions) && !c.tls_cert) {
      // RFC 8314: submission credentials travel only over TLS; there is no plaintext exception.
      throw ConfigError(source.string() +
                        ": [listen] submission/submissions need [tls] cert and key (AUTH is only "
                        "offered over TLS)");
    }
  }
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  std::uint64_t mult = 1;
  const char last = ascii_lower(text.back());
  if (last == 'k' || last == 'm' || last == 'g') {
    mult = last == 'k' ? 1024ULL : last == 'm' ? 1024ULL * 1024 : 1024ULL * 1024 * 1024;
    text.remove_suffix(1);
  }
  const auto n = parse_decimal(text, 12);
  if (!n) return std::nullopt;
  return *n * mult;
}

Config parse_config(std::string_view toml_text, const std::filesystem::path& source) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source.string() << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    throw ConfigError(msg.str());
  }

  const auto sections = setting_sections();
  for (const auto& [k, v] : root) {
    if (std::find(sections.begin(), sections.end(), k.str()) == sections.end()) {
      throw ConfigError(source.string() + ": [" + std::string(k.str()) + "]: unknown section");
    }
    if (!v.is_table()) {
      throw ConfigError(source.string() + ": " + std::string(k.str()) + ": expected a [section]");
    }
  }
  Config c;
  c.source = source;
  for (const auto section : sections) {
    TableReader reader(root[section].as_table(), std::string(section), source);
    for (const auto& s : settings()) {
      if (s.section == section) s.read(reader, c);
    }
    reader.reject_unknown();
    check_section(section, reader, c);
  }
  return c;
}

Config load_config(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(file.string() + ": cannot read the config file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), file);
}

std::string describe_config(const Config& c) {
  std::string out;
  for (const auto section : setting_sections()) {
    out += (out.empty() ? "[" : "\n[") + std::string(section) + "]\n";
    for (const auto& s : settings()) {
      if (s.section == section) out += s.describe(c);
    }
  }
  return out;
}

}  // namespace sealpost::core
