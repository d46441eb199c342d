// Administration of domains and aliases. Writes go to the metadata store; a running server
// picks them up within a second.
#include <algorithm>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/hardening.hpp"
#include "cli/server_runtime.hpp"
#include "core/config.hpp"
#include "core/domain.hpp"
#include "core/duration.hpp"
#include "core/settings.hpp"
#include "core/strings.hpp"
#include "smtp/protocol/address.hpp"
#include "store/mailbox/mailboxes.hpp"
#include "store/metadata_store.hpp"

namespace sealpost::cli {
namespace {

std::string require_domain(const std::string& text) {
  const auto d = core::to_a_label(text);
  if (!d) throw std::runtime_error("not a valid domain: " + text);
  return *d;
}

// A destination must be an address we can put in RCPT TO: a plain local part and a domain.
std::string require_destination(const std::string& text) {
  const auto parts = core::split_address(text);
  const auto normalized = core::normalize_address(text);
  if (!parts || !normalized || !smtp::protocol::is_dot_string(parts->first, /*allow_utf8=*/true)) {
    throw std::runtime_error("not a valid destination address: " + text);
  }
  // Keep the local part's case: only the destination's own server may interpret it.
  return std::string(parts->first) + "@" + require_domain(std::string(parts->second));
}

}  // namespace

int config_check(const std::filesystem::path& path) {
  const auto config = core::load_config(path);
  for (const auto& w : config.warnings) std::cerr << path.string() << ": warning: " << w << "\n";
  if (const auto files = open_file_limit(config); !files.enough()) {
    std::cerr << path.string() << ": warning: the open files hard limit (" << files.hard
              << ") is below the " << files.needed
              << " the connection limits can use: raise it (LimitNOFILE=, ulimit -Hn) or lower "
                 "[limits] connections and [access] connections\n";
  }
  std::cout << "# " << path.string() << ": OK. Effective configuration:\n\n"
            << core::describe_config(config);
  return 0;
}

int config_reference() {
  std::cout << core::settings_reference();
  return 0;
}

int domain_add(const std::filesystem::path& path, const std::string& domain) {
  const auto config = core::load_config(path);
  const auto d = require_domain(domain);
  auto store = open_metadata_store(config);
  store->add_domain(d);
  try {
    create_domain_keys(config, *store, d);
  } catch (...) {
    store->remove_domain(d);  // no domain without its keys
    throw;
  }
  std::cout << "domain " << d << " added with DKIM keys; publish its records:\n"
            << "  sealpost domain dns " << d << "\n";
  return 0;
}

int domain_remove(const std::filesystem::path& path, const std::string& domain) {
  const auto config = core::load_config(path);
  const auto d = require_domain(domain);
  auto store = open_metadata_store(config);
  for (const auto& m : store->list_mailboxes(d)) {
    store::mailbox::delete_mailbox(*store, config.data_dir, m.address);  // and its files
  }
  if (!store->remove_domain(d)) {
    std::cerr << "domain " << d << " is not hosted here\n";
    return 1;
  }
  std::cout << "domain " << d << " removed, with its aliases and mailboxes\n";
  return 0;
}

namespace {

// "filter=off spam_action=junk": what a domain sets for itself ("" when nothing).
std::string own_filter_settings(const store::DomainFilterRecord& r) {
  std::string out;
  if (r.enabled) out += std::string(" filter=") + (*r.enabled ? "on" : "off");
  if (r.spam_action) out += " spam_action=" + *r.spam_action;
  if (r.adult) out += std::string(" adult=") + (*r.adult ? "on" : "off");
  return out;
}

}  // namespace

int domain_list(const std::filesystem::path& path) {
  const auto config = core::load_config(path);
  auto store = open_metadata_store(config);
  const auto retentions = store->domain_retentions();
  const auto filters = store->domain_filters();
  for (const auto& d : store->list_domains()) {
    std::cout << d;
    if (const auto it = retentions.find(d); it != retentions.end()) {
      std::cout << "  retention=" << it->second << "s";
    }
    if (const auto it = filters.find(d); it != filters.end()) {
      std::cout << " " << own_filter_settings(it->second);
    }
    std::cout << "\n";
  }
  return 0;
}

int domain_filter(const std::filesystem::path& path, const std::string& domain,
                  const std::string& filter, const std::string& spam_action,
                  const std::string& adult) {
  const auto config = core::load_config(path);
  const auto d = require_domain(domain);
  auto store = open_metadata_store(config);
  const auto domains = store->list_domains();
  if (std::find(domains.begin(), domains.end(), d) == domains.end()) {
    throw std::runtime_error("domain " + d + " is not hosted here");
  }
  const auto filters = store->domain_filters();
  const auto found = filters.find(d);
  store::DomainFilterRecord r =
      found == filters.end() ? store::DomainFilterRecord{} : found->second;
  const auto changed = r;
  const auto set_flag = [](std::optional<bool>& flag, const std::string& value) {
    if (value == "default") {
      flag.reset();
    } else if (!value.empty()) {
      flag = value == "on";
    }
  };
  set_flag(r.enabled, filter);
  set_flag(r.adult, adult);
  if (spam_action == "default") {
    r.spam_action.reset();
  } else if (!spam_action.empty()) {
    r.spam_action = spam_action;
  }
  if (r != changed && !store->set_domain_filter(d, r)) {
    throw std::runtime_error("domain " + d + " is not hosted here");
  }
  const bool enabled = r.enabled.value_or(config.filter.enabled);
  std::cout << d << ": content filter " << (enabled ? "on" : "off")
            << (r.enabled ? " (the domain's own)" : " ([filter] enabled)") << "\n";
  if (enabled) {
    std::cout << d << ": a message scoring " << config.filter.reject_score << " or more is "
              << (r.spam_action.value_or(config.filter.spam_action) == "junk" ? "kept as junk"
                                                                              : "refused")
              << (r.spam_action ? " (the domain's own)" : " ([filter] spam_action)") << "; from "
              << config.filter.junk_score << " it is junk; programs and viruses are refused\n";
    const bool protects =
        r.adult.value_or(config.filter.adult) && !config.filter.family_resolver.empty();
    std::cout << d << ": adult-content protection " << (protects ? "on" : "off")
              << (r.adult ? " (the domain's own)" : " ([filter] adult)") << "\n";
  }
  return 0;
}

int domain_retention(const std::filesystem::path& path, const std::string& domain,
                     const std::string& period) {
  const auto config = core::load_config(path);
  const auto d = require_domain(domain);
  std::optional<std::int64_t> seconds;
  if (period != "default") {
    const auto parsed = core::parse_duration(period);
    if (!parsed && period != "0") {
      throw std::runtime_error("not a duration: " + period + " (e.g. 7d, 12h, 0, or default)");
    }
    seconds = parsed ? parsed->count() : 0;
  }
  if (!open_metadata_store(config)->set_domain_retention(d, seconds)) {
    throw std::runtime_error("domain " + d + " is not hosted here");
  }
  if (seconds) {
    std::cout << "sent mail of " << d << " keeps its sealed content " << *seconds
              << " s after delivery, then it is redacted\n";
  } else {
    std::cout << "sent mail of " << d << " follows [queue] retention ("
              << config.queue.retention.count() << " s)\n";
  }
  return 0;
}

int alias_add(const std::filesystem::path& path, const std::string& address,
              const std::vector<std::string>& forwards) {
  const auto config = core::load_config(path);
  const auto parts = core::split_address(address);
  if (!parts)
    throw std::runtime_error("not an address: " + address + " (use local@domain or *@domain)");
  store::AliasRecord alias;
  alias.local = to_lower_ascii(parts->first);
  alias.domain = require_domain(std::string(parts->second));
  if (alias.local != "*" && !smtp::protocol::is_dot_string(alias.local, /*allow_utf8=*/true)) {
    throw std::runtime_error("not a valid local part: " + std::string(parts->first));
  }
  if (forwards.empty()) throw std::runtime_error("give at least one --forward ADDRESS");
  for (const auto& f : forwards) alias.forwards.push_back(require_destination(f));
  open_metadata_store(config)->add_alias(alias);
  std::cout << "alias " << alias.address() << " ->";
  for (const auto& f : alias.forwards) std::cout << " " << f;
  std::cout << "\n";
  return 0;
}

int alias_remove(const std::filesystem::path& path, const std::string& address) {
  const auto config = core::load_config(path);
  const auto parts = core::split_address(address);
  if (!parts) throw std::runtime_error("not an address: " + address);
  const auto local = to_lower_ascii(parts->first);
  const auto domain = require_domain(std::string(parts->second));
  if (!open_metadata_store(config)->remove_alias(local, domain)) {
    std::cerr << "no alias " << local << "@" << domain << "\n";
    return 1;
  }
  std::cout << "alias " << local << "@" << domain << " removed\n";
  return 0;
}

int alias_list(const std::filesystem::path& path, const std::string& domain) {
  const auto config = core::load_config(path);
  for (const auto& a : open_metadata_store(config)->list_aliases(require_domain(domain))) {
    std::cout << a.address();
    for (const auto& f : a.forwards) std::cout << " " << f;
    std::cout << "\n";
  }
  return 0;
}

int serve(const std::filesystem::path& path) {
  const auto config = core::load_config(path);
  return run_server(config);
}

}  // namespace sealpost::cli
