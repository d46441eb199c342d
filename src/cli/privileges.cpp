#include "cli/privileges.hpp"

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/server_runtime.hpp"
#include "core/unique_fd.hpp"

namespace sealpost::cli {

namespace {

// A data directory is a few levels deep; deeper means something was planted there.
constexpr int kMaxDepth = 16;

using Fd = core::UniqueFd;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::generic_category().message(errno));
}

struct stat stat_of(int fd, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail(path.string() + ": cannot stat");
  return st;
}

void give(int fd, const struct stat& st, const ServerUser& user,
          const std::filesystem::path& path) {
  if (st.st_uid == user.uid && st.st_gid == user.gid) return;
  if (::fchownat(fd, "", user.uid, user.gid, AT_EMPTY_PATH) != 0) {
    fail(path.string() + ": cannot hand over to user " + user.name);
  }
}

void hand_over_below(int dir_fd, const std::filesystem::path& path, const ServerUser& user,
                     int depth) {
  if (depth > kMaxDepth) throw std::runtime_error(path.string() + ": nested too deep");
  // fdopendir owns the descriptor it is given: a duplicate, so dir_fd stays ours.
  const int listing = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (listing < 0) fail(path.string() + ": cannot list");
  DIR* dir = ::fdopendir(listing);
  if (dir == nullptr) {
    ::close(listing);
    fail(path.string() + ": cannot list");
  }
  const std::unique_ptr<DIR, int (*)(DIR*)> closer(dir, ::closedir);
  ::rewinddir(dir);
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    const auto child = path / name;
    // O_PATH with O_NOFOLLOW names the entry itself, whatever it is, without following it.
    const Fd node(::openat(dir_fd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (node.get() < 0) {
      if (errno == ENOENT) continue;  // gone meanwhile
      fail(child.string() + ": cannot open");
    }
    const struct stat st = stat_of(node.get(), child);
    if (S_ISDIR(st.st_mode)) {
      const Fd sub(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (sub.get() < 0) fail(child.string() + ": cannot open");
      const struct stat opened = stat_of(sub.get(), child);
      if (opened.st_dev != st.st_dev || opened.st_ino != st.st_ino) {
        throw std::runtime_error(child.string() + ": changed while being handed over");
      }
      give(sub.get(), opened, user, child);
      hand_over_below(sub.get(), child, user, depth + 1);
    } else if (S_ISREG(st.st_mode) && st.st_nlink == 1) {
      give(node.get(), st, user, child);
    }
    // Symbolic links, files with other hard links and special files are left as they are.
  }
}

void refuse_dumps() {
  // A change of uid resets the dumpable flag to fs.suid_dumpable, which may be 1.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) fail("cannot make the process non-dumpable");
}

}  // namespace

std::optional<ServerUser> server_user(const std::string& user, bool required) {
  if (::geteuid() != 0) return std::nullopt;
  if (user.empty()) {
    if (!required) return std::nullopt;
    throw std::runtime_error(
        "refusing to serve as root: set [server] user to an unprivileged user (the install step, "
        "scripts/install-deps.sh, creates the system user \"sealpost\")");
  }
  const passwd* pw = ::getpwnam(user.c_str());
  if (pw == nullptr) throw std::runtime_error("server.user: no such user: " + user);
  if (pw->pw_uid == 0 || pw->pw_gid == 0) {
    throw std::runtime_error("server.user: " + user +
                             " is root (uid or group 0): name an unprivileged user");
  }
  return ServerUser{user, pw->pw_uid, pw->pw_gid};
}

void hand_over(const std::filesystem::path& data_dir, const ServerUser& user) {
  // The configured path itself may be a link an operator made (/var/lib/sealpost -> /srv/...);
  // nothing below it is followed.
  const Fd top(::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (top.get() < 0) fail(data_dir.string() + ": cannot open the data directory");
  give(top.get(), stat_of(top.get(), data_dir), user, data_dir);
  hand_over_below(top.get(), data_dir, user, 0);
}

void become(const ServerUser& user) {
  if (::setgroups(0, nullptr) != 0 || ::setgid(user.gid) != 0 || ::setuid(user.uid) != 0) {
    fail("server.user: cannot switch to user " + user.name);
  }
  if (::setuid(0) == 0) throw std::runtime_error("server.user: root privileges were not dropped");
  refuse_dumps();
}

void drop_privileges(const std::optional<ServerUser>& user, const std::filesystem::path& data_dir) {
  if (!user) return;
  hand_over(data_dir, *user);
  become(*user);
  if (::access(data_dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    fail("server.user " + user->name + " cannot use the data directory " + data_dir.string() +
         " (every directory above it must be searchable by that user, e.g. chmod o+x)");
  }
}

void become_server_user(const std::filesystem::path& config_path) {
  const auto config = core::load_config(config_path);
  const auto user = server_user(config.user, false);
  if (!user) return;
  prepare_data_dir(config);
  drop_privileges(user, config.data_dir);
}

}  // namespace sealpost::cli
