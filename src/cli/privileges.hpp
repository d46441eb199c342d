// Least privilege (DESIGN.md principle 5): the server binds its listeners as root, then becomes
// its own unprivileged user for everything else; it never serves as root. The CLI, run as root,
// acts as that user too, so what it writes in the data directory belongs to the server.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <sys/types.h>

#include "core/config.hpp"

namespace sealpost::cli {

struct ServerUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// The user to become: nullopt when not running as root (there is nothing to drop). As root:
// throws std::runtime_error when `user` is empty and `required` (the server refuses to serve as
// root), when it does not exist, or when it maps to uid 0.
std::optional<ServerUser> server_user(const std::string& user, bool required);

// Hands `data_dir` and everything below it to `user`, then checks that the user can reach it.
// The walk goes by directory descriptors (openat, O_NOFOLLOW) and changes owners with fchownat on
// O_PATH descriptors: a symbolic link is never followed nor changed, a directory swapped for a
// link meanwhile is not entered, and a file with other hard links is left alone (it may be a
// link to a file outside). Throws std::runtime_error naming the path that fails.
void hand_over(const std::filesystem::path& data_dir, const ServerUser& user);

// Becomes `user` for good (supplementary groups cleared); throws when it cannot, or when root
// could be regained.
void become(const ServerUser& user);

// For the server: as root, hand the data directory over and become `user`; a no-op when not
// root.
void drop_privileges(const std::optional<ServerUser>& user, const std::filesystem::path& data_dir);

// For CLI subcommands that write the data directory: as root with `[server] user` set, hand it
// over and become that user; as root without one, stay root (the server hands the directory over
// when it starts). Refuses a user that maps to uid 0.
void become_server_user(const std::filesystem::path& config_path);

}  // namespace sealpost::cli
