#include "store/mailbox/spool.hpp"

#include <fstream>
#include <stdexcept>
#include <string>

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sealpost::store::mailbox {

namespace {

void fsync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::filesystem::path importing(const std::filesystem::path& spool) {
  return spool.string() + ".importing";
}

}  // namespace

SpoolId append_to_spool(const std::filesystem::path& spool,
                        const std::vector<unsigned char>& sealed) {
  if (sealed.empty() || sealed.size() > kMaxSpoolRecord) {
    throw std::runtime_error(spool.string() + ": record size out of bounds");
  }
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
  SpoolId id;
  randombytes_buf(id.data(), id.size());
  const std::vector<unsigned char> record = encode_spool_record(id, sealed);

  const bool existed = std::filesystem::exists(spool);
  int fd = -1;
  for (int attempt = 0;; ++attempt) {
    fd = ::open(spool.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error(spool.string() + ": cannot open the spool");
    // One writer at a time, so records never interleave.
    ::flock(fd, LOCK_EX);
    // An import may have moved the file aside while we waited for the lock: the record must go
    // into the file at the path, not into one already being imported.
    struct stat opened {};
    struct stat named {};
    if (::fstat(fd, &opened) == 0 && ::stat(spool.c_str(), &named) == 0 &&
        opened.st_ino == named.st_ino && opened.st_dev == named.st_dev) {
      break;
    }
    ::close(fd);
    if (attempt == 100) throw std::runtime_error(spool.string() + ": the spool keeps moving");
  }
  std::size_t done = 0;
  while (done < record.size()) {
    const ssize_t w = ::write(fd, record.data() + done, record.size() - done);
    if (w <= 0) {
      ::close(fd);
      throw std::runtime_error(spool.string() + ": write failed");
    }
    done += static_cast<std::size_t>(w);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) throw std::runtime_error(spool.string() + ": fsync failed");
  if (!existed) fsync_dir(spool.parent_path());
  return id;
}

std::vector<SpoolRecord> read_spool(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {};
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), {});
  return parse_spool(bytes);
}

std::size_t import_spool(const std::filesystem::path& spool,
                         const std::function<void(const std::vector<SpoolRecord>&)>& commit) {
  const auto aside = importing(spool);
  if (std::filesystem::exists(spool)) {
    if (std::filesystem::exists(aside)) {
      // An earlier import stopped after moving the spool aside: finish that one first.
      auto earlier = read_spool(aside);
      if (!earlier.empty()) commit(earlier);
      std::filesystem::remove(aside);
      fsync_dir(spool.parent_path());
    }
    // Take the lock so no append is half-written, then move the spool aside while holding it:
    // an appender waiting for the lock sees the file moved and starts a new spool.
    const int fd = ::open(spool.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) ::flock(fd, LOCK_EX);
    std::error_code ec;
    std::filesystem::rename(spool, aside, ec);
    if (fd >= 0) ::close(fd);
    if (ec) throw std::runtime_error(spool.string() + ": cannot move the spool aside");
    fsync_dir(spool.parent_path());
  }
  if (!std::filesystem::exists(aside)) return 0;
  const auto records = read_spool(aside);
  if (!records.empty()) commit(records);
  std::filesystem::remove(aside);
  fsync_dir(spool.parent_path());
  return records.size();
}

}  // namespace sealpost::store::mailbox
