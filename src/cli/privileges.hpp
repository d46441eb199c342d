// Least privilege (DESIGN.md principle 5): bind the listeners as root, then become an ordinary
// user for everything else.
#pragma once

#include <filesystem>
#include <string>

namespace sealpost::cli {

// When running as root and `user` is set: hands the data directory to that user, then drops to
// its uid/gid (supplementary groups cleared) for good. Throws std::runtime_error naming the
// user when it does not exist or the switch fails. A no-op when `user` is empty or not root.
void drop_privileges(const std::string& user, const std::filesystem::path& data_dir);

}  // namespace sealpost::cli
