#include "store/mailbox/spool.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
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

std::optional<SpoolId> append_to_spool(const std::filesystem::path& spool,
                                       const std::vector<unsigned char>& sealed,
                                       std::uint64_t max_bytes) {
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
  if (max_bytes > 0) {
    struct stat now {};
    if (::fstat(fd, &now) != 0) {
      ::close(fd);
      throw std::runtime_error(spool.string() + ": cannot measure the spool");
    }
    if (static_cast<std::uint64_t>(now.st_size) + record.size() > max_bytes) {
      ::close(fd);
      return std::nullopt;
    }
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

SpoolReader::SpoolReader(const std::filesystem::path& file, std::size_t max_record)
    : max_record_(max_record) {
  fd_ = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd_ >= 0 && ::fstat(fd_, &st) == 0) left_ = static_cast<std::uint64_t>(st.st_size);
}

SpoolReader::~SpoolReader() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

bool read_exactly(int fd, unsigned char* out, std::size_t n) {
  while (n > 0) {
    const ssize_t r = ::read(fd, out, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    out += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

}  // namespace

std::optional<SpoolRecord> SpoolReader::next() {
  if (fd_ < 0 || left_ < kSpoolHeader) return std::nullopt;
  std::array<unsigned char, kSpoolHeader> header{};
  if (!read_exactly(fd_, header.data(), header.size())) return std::nullopt;
  left_ -= kSpoolHeader;
  const auto parsed = parse_spool_header(header);
  // A length past the bound or past the end of the file is damage, never an allocation.
  if (!parsed || parsed->length > max_record_ || parsed->length > left_) {
    left_ = 0;
    return std::nullopt;
  }
  SpoolRecord r;
  r.id = parsed->id;
  r.sealed.resize(parsed->length);
  if (!read_exactly(fd_, r.sealed.data(), r.sealed.size())) {
    left_ = 0;
    return std::nullopt;
  }
  left_ -= parsed->length;
  return r;
}

std::vector<SpoolRecord> read_spool(const std::filesystem::path& file) {
  std::vector<SpoolRecord> out;
  SpoolReader reader(file);
  while (auto r = reader.next()) out.push_back(std::move(*r));
  return out;
}

namespace {

// Streams one file's records to `commit` in batches.
void import_file(const std::filesystem::path& file,
                 const std::function<void(const std::vector<SpoolRecord>&)>& commit,
                 const SpoolBatching& batching, SpoolImport& done) {
  SpoolReader reader(file);
  std::vector<SpoolRecord> batch;
  std::size_t batch_bytes = 0;
  const auto flush = [&] {
    if (batch.empty()) return;
    commit(batch);
    done.records += batch.size();
    ++done.batches;
    batch.clear();
    batch_bytes = 0;
  };
  while (auto r = reader.next()) {
    if (!batch.empty() && (batch.size() >= batching.max_records ||
                           batch_bytes + r->sealed.size() > batching.max_bytes)) {
      flush();
    }
    batch_bytes += r->sealed.size();
    // What is held: the batch, and the record just read.
    done.peak_bytes = std::max(done.peak_bytes, batch_bytes);
    batch.push_back(std::move(*r));
  }
  flush();
}

}  // namespace

SpoolImport import_spool(const std::filesystem::path& spool,
                         const std::function<void(const std::vector<SpoolRecord>&)>& commit,
                         const SpoolBatching& batching) {
  SpoolImport done;
  const auto aside = importing(spool);
  if (std::filesystem::exists(spool)) {
    if (std::filesystem::exists(aside)) {
      // An earlier import stopped after moving the spool aside: finish that one first.
      import_file(aside, commit, batching, done);
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
  if (!std::filesystem::exists(aside)) return done;
  // Deleted only once every batch has committed.
  import_file(aside, commit, batching, done);
  std::filesystem::remove(aside);
  fsync_dir(spool.parent_path());
  return done;
}

}  // namespace sealpost::store::mailbox
