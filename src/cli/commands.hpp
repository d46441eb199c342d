// The `sealpost` subcommands. Each returns the process exit status.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace sealpost::cli {

int config_check(const std::filesystem::path& config);
int serve(const std::filesystem::path& config);
int domain_add(const std::filesystem::path& config, const std::string& domain);
int domain_remove(const std::filesystem::path& config, const std::string& domain);
int domain_list(const std::filesystem::path& config);
int alias_add(const std::filesystem::path& config, const std::string& address,
              const std::vector<std::string>& forwards);
int alias_remove(const std::filesystem::path& config, const std::string& address);
int alias_list(const std::filesystem::path& config, const std::string& domain);
int demo(const std::filesystem::path& dir, std::uint16_t port, std::uint16_t sink_port);

}  // namespace sealpost::cli
