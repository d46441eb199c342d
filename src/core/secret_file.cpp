// Secret key files: created once with random bytes, owner-only, durable; refused when anyone
// else could read or replace them.
#include "core/secret_file.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/unique_fd.hpp"

namespace sealpost::core {
namespace {

constexpr std::size_t kCreatedKeyBytes = 32;

using Fd = UniqueFd;

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& what) {
  throw std::runtime_error("key file " + file.string() + ": " + what);
}

[[noreturn]] void fail_errno(const std::filesystem::path& file, const std::string& what, int err) {
  fail(file, what + ": " + std::generic_category().message(err));
}

SecretBytes read_key(int fd, const std::filesystem::path& file, std::size_t min_bytes,
                     std::size_t max_bytes) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail_errno(file, "cannot stat", errno);
  if (!S_ISREG(st.st_mode)) fail(file, "is not a regular file");
  if ((st.st_mode & 077) != 0) {
    std::array<char, 8> mode{};
    (void)std::snprintf(mode.data(), mode.size(), "%04o",
                        static_cast<unsigned>(st.st_mode & 07777));
    fail(file, std::string("is accessible by group or others (mode ") + mode.data() +
                   "); it must be readable by its owner only: chmod 600 " + file.string());
  }
  // One byte more than allowed, to tell "too long" from "exactly the maximum".
  SecretBytes key(max_bytes + 1);
  std::size_t n = 0;
  while (n < key.size()) {
    const ssize_t got = ::read(fd, key.data() + n, key.size() - n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      fail_errno(file, "cannot read", errno);
    }
    if (got == 0) break;
    n += static_cast<std::size_t>(got);
  }
  if (n < min_bytes || n > max_bytes) {
    fail(file, n < min_bytes
                   ? "is " + std::to_string(n) + " bytes; the key needs at least " +
                         std::to_string(min_bytes)
                   : "is over " + std::to_string(max_bytes) + " bytes; this is not a key file");
  }
  key.shrink(n);
  return key;
}

void write_all(int fd, const SecretBytes& bytes, const std::filesystem::path& file) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t put = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) fail_errno(file, "cannot write the new key", put < 0 ? errno : EIO);
    done += static_cast<std::size_t>(put);
  }
}

// Makes a new key file; nullopt when another process put one in place first.
std::optional<SecretBytes> create_key(const std::filesystem::path& file) {
  std::string temp = file.string() + ".tmp.XXXXXX";
  Fd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (fd.get() < 0) fail_errno(file, "cannot create a temporary file beside it", errno);
  struct RemoveUnlessKept {
    const std::string& path;
    bool keep = false;
    ~RemoveUnlessKept() {
      if (!keep) ::unlink(path.c_str());
    }
  } temp_file{temp};

  auto key = SecretBytes::random(kCreatedKeyBytes);
  if (::fchmod(fd.get(), 0600) != 0) fail_errno(file, "cannot set mode 0600", errno);
  write_all(fd.get(), key, file);
  if (::fsync(fd.get()) != 0) fail_errno(file, "cannot fsync the new key", errno);
  if (::close(fd.release()) != 0) fail_errno(file, "cannot close the new key", errno);
  // No-replace, so two processes starting at once agree on one key instead of each keeping
  // the one it wrote.
  if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, file.c_str(), RENAME_NOREPLACE) != 0) {
    const int err = errno;
    if (err == EEXIST) return std::nullopt;
    if (err != EINVAL && err != ENOSYS && err != ENOTSUP) {
      fail_errno(file, "cannot move the new key into place", err);
    }
    if (::rename(temp.c_str(), file.c_str()) != 0) {
      fail_errno(file, "cannot move the new key into place", errno);
    }
  }
  temp_file.keep = true;
  // The rename is durable only once the directory is: a key lost in a crash would, for
  // example, orphan every SRS address handed out under it.
  const auto dir = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
  const Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0) fail_errno(file, "cannot open its directory to fsync it", errno);
  if (::fsync(dir_fd.get()) != 0 && errno != EINVAL) {
    fail_errno(file, "cannot fsync its directory", errno);
  }
  return key;
}

}  // namespace

SecretBytes load_or_create_secret(const std::filesystem::path& file, std::size_t min_bytes,
                                  std::size_t max_bytes) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  // At most twice: losing the creation race to another process means loading its key.
  for (int attempt = 0; attempt < 2; ++attempt) {
    // O_NONBLOCK so a FIFO planted at the path cannot hang startup; read_key refuses it.
    const Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (fd.get() >= 0) return read_key(fd.get(), file, min_bytes, max_bytes);
    if (errno != ENOENT) fail_errno(file, "cannot open", errno);
    if (auto key = create_key(file)) return std::move(*key);
  }
  fail(file, "appeared and vanished while being created");
}

}  // namespace sealpost::core
