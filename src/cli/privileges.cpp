#include "cli/privileges.hpp"

#include <stdexcept>

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

namespace sealpost::cli {

void drop_privileges(const std::string& user, const std::filesystem::path& data_dir) {
  if (user.empty() || ::geteuid() != 0) return;
  const passwd* pw = ::getpwnam(user.c_str());
  if (!pw) throw std::runtime_error("server.user: no such user: " + user);
  if (pw->pw_uid == 0) return;
  const uid_t uid = pw->pw_uid;
  const gid_t gid = pw->pw_gid;

  // The server writes its store (and SQLite's -wal/-shm files) from now on as that user.
  const auto give = [&](const std::filesystem::path& p) {
    if (::lchown(p.c_str(), uid, gid) != 0) {
      throw std::runtime_error(p.string() + ": cannot hand over to user " + user);
    }
  };
  give(data_dir);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(data_dir)) {
    give(entry.path());
  }

  if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) {
    throw std::runtime_error("server.user: cannot switch to user " + user);
  }
  if (::setuid(0) == 0) throw std::runtime_error("server.user: root privileges were not dropped");
}

}  // namespace sealpost::cli
