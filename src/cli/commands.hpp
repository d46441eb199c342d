// The `sealpost` subcommands. Each returns the process exit status.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/secret_bytes.hpp"
#include "store/metadata_store.hpp"

namespace sealpost::cli {

// The server key (data_dir/server.key, created on first use): DKIM private keys are sealed under
// it.
core::SecretBytes server_key(const core::Config& config);
// A new domain's first DKIM keys (RSA-2048 and Ed25519), signing at once.
void create_domain_keys(const core::Config& config, store::MetadataStore& store,
                        const std::string& domain);

int config_check(const std::filesystem::path& config);
// What the content filter finds in the message on `in`, printed to `out` (offline, but for the
// virus scan by the clamd [filter] clamd names, when it names one), with the configuration's
// [filter] and Public Suffix List (`settings_from` names where they came from: the file, or the
// built-in defaults). `own_domains`: domains whose lookalikes are looked for as the MX looks for
// its hosted domains' (it reads no store).
int filter_explain(std::istream& in, std::ostream& out, const core::Config& config,
                   const std::string& settings_from,
                   const std::vector<std::string>& own_domains = {});
// Every setting, its default and what it does, as the Markdown table of README.md.
int config_reference();
int serve(const std::filesystem::path& config);
int domain_add(const std::filesystem::path& config, const std::string& domain);
int domain_remove(const std::filesystem::path& config, const std::string& domain);
int domain_list(const std::filesystem::path& config);
int domain_retention(const std::filesystem::path& config, const std::string& domain,
                     const std::string& period);
// `sealpost domain filter`: each of `filter` ("on", "off"), `spam_action` ("reject", "junk") and
// `adult` ("on", "off") given sets the domain's own, "default" returns it to [filter]; then
// prints what applies.
int domain_filter(const std::filesystem::path& config, const std::string& domain,
                  const std::string& filter, const std::string& spam_action,
                  const std::string& adult);
int alias_add(const std::filesystem::path& config, const std::string& address,
              const std::vector<std::string>& forwards);
int alias_remove(const std::filesystem::path& config, const std::string& address);
int alias_list(const std::filesystem::path& config, const std::string& domain);
int domain_dns(const std::filesystem::path& config, const std::string& domain, bool check);
int dkim_rotate(const std::filesystem::path& config, const std::string& domain, int publish_hours,
                int grace_days);
int dkim_list(const std::filesystem::path& config, const std::string& domain);
int dkim_sign(const std::filesystem::path& config, const std::string& domain);
int dkim_verify(const std::filesystem::path& config);
int dns_lookup(const std::filesystem::path& config, const std::string& name,
               const std::string& type);
int mailbox_add(const std::filesystem::path& config, const std::string& address,
                const std::string& password_file);
int mailbox_delete(const std::filesystem::path& config, const std::string& address);
int mailbox_list(const std::filesystem::path& config, const std::string& domain);
int mailbox_check(const std::filesystem::path& config, const std::string& address,
                  const std::string& password_file);
// rekey: also re-encrypt the mailbox under a new master key (app passwords are revoked).
int mailbox_passwd(const std::filesystem::path& config, const std::string& address,
                   const std::string& password_file, const std::string& new_password_file,
                   bool rekey);
int mailbox_quota(const std::filesystem::path& config, const std::string& address,
                  const std::string& size);
int mailbox_export(const std::filesystem::path& config, const std::string& address,
                   const std::string& password_file, const std::string& format,
                   const std::filesystem::path& out, bool encrypted, const std::string& folder,
                   bool force);
int mailbox_import(const std::filesystem::path& config, const std::string& address,
                   const std::string& password_file, const std::filesystem::path& path,
                   const std::string& folder);
int app_password_add(const std::filesystem::path& config, const std::string& address,
                     const std::string& password_file, const std::string& label);
int app_password_list(const std::filesystem::path& config, const std::string& address);
int app_password_revoke(const std::filesystem::path& config, const std::string& address,
                        const std::string& label);
int queue_list(const std::filesystem::path& config);
int queue_stats(const std::filesystem::path& config);
int queue_show(const std::filesystem::path& config, const std::string& id);
int queue_retry(const std::filesystem::path& config, const std::string& id, bool all);
int queue_drop(const std::filesystem::path& config, const std::string& id);
struct DemoPorts {
  std::uint16_t smtp = 2525;
  std::uint16_t sink = 2526;
  std::uint16_t imap = 2143;
  std::uint16_t pop3 = 2110;
  std::uint16_t submission = 2587;
};
int demo(const std::filesystem::path& dir, const DemoPorts& ports);

}  // namespace sealpost::cli
