#include "store/mailbox/transfer.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sodium.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.hpp"
#include "core/strings.hpp"
#include "core/unique_fd.hpp"
#include "mime/mbox.hpp"

namespace sealpost::store::mailbox {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kBatchMessages = 500;
constexpr std::size_t kBatchBytes = std::size_t{32} << 20;

// A read-only view of a whole file.
class MappedFile {
 public:
  explicit MappedFile(const fs::path& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw StoreError(path.string() + ": cannot open");
    struct stat st {};
    if (::fstat(fd_, &st) != 0) throw StoreError(path.string() + ": cannot read");
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ > 0) {
      data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
      if (data_ == MAP_FAILED) {
        ::close(fd_);
        throw StoreError(path.string() + ": cannot map");
      }
    }
  }
  ~MappedFile() {
    if (data_ && data_ != MAP_FAILED) ::munmap(data_, size_);
    if (fd_ >= 0) ::close(fd_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  [[nodiscard]] std::string_view view() const {
    return data_ ? std::string_view(static_cast<const char*>(data_), size_) : std::string_view();
  }

 private:
  int fd_ = -1;
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

using Fd = core::UniqueFd;

[[noreturn]] void fail(const fs::path& path, const std::string& what) {
  throw StoreError(path.string() + ": " + what + ": " + std::generic_category().message(errno));
}

// A directory an export writes into. The path the user named is taken as it is (and created when
// missing); everything below it is made and opened relative to its descriptor without following
// a symbolic link, so a link planted in the output cannot send mail (decrypted) elsewhere or
// overwrite a file through it.
class OutputDir {
 public:
  static OutputDir open(const fs::path& path) {
    if (!path.empty()) fs::create_directories(path);
    const fs::path dir = path.empty() ? fs::path(".") : path;
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) fail(dir, "cannot open the output directory");
    return OutputDir(dir, std::move(fd));
  }

  [[nodiscard]] OutputDir subdir(const std::string& name) const {
    const fs::path path = path_ / name;
    if (::mkdirat(fd_.get(), name.c_str(), 0700) != 0 && errno != EEXIST) {
      fail(path, "cannot create");
    }
    Fd fd(::openat(fd_.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) fail(path, "cannot open as a directory (a symbolic link is not followed)");
    return OutputDir(path, std::move(fd));
  }

  // A new file only its owner can read (exports hold mail in the clear). An existing one is
  // refused, unless `overwrite`: then it is removed first (a link, not what it points to).
  [[nodiscard]] Fd create(const std::string& name, bool overwrite) const {
    if (overwrite && ::unlinkat(fd_.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
      fail(path_ / name, "cannot replace");
    }
    Fd fd(::openat(fd_.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                   0600));
    if (fd.get() < 0) {
      if (errno == EEXIST) {
        throw StoreError((path_ / name).string() + " exists (--force replaces it)");
      }
      fail(path_ / name, "cannot create");
    }
    return fd;
  }

  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  OutputDir(fs::path path, Fd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  fs::path path_;
  Fd fd_;
};

class PrivateFile {
 public:
  PrivateFile(const OutputDir& dir, const std::string& name, bool overwrite)
      : path_(dir.path() / name) {
    Fd fd = dir.create(name, overwrite);
    file_ = ::fdopen(fd.get(), "wb");
    if (!file_) fail(path_, "cannot create");
    fd.release();
  }
  ~PrivateFile() {
    if (file_) std::fclose(file_);
  }
  PrivateFile(const PrivateFile&) = delete;
  PrivateFile& operator=(const PrivateFile&) = delete;
  void write(std::string_view bytes) {
    if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
      throw StoreError(path_.string() + ": write failed");
    }
  }
  void close() {
    const bool ok = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
    const bool closed = std::fclose(file_) == 0;
    file_ = nullptr;
    if (!ok || !closed) throw StoreError(path_.string() + ": write failed");
  }

 private:
  fs::path path_;
  std::FILE* file_ = nullptr;
};

// Reads under one snapshot (WAL), so an export is consistent while mail keeps arriving.
class Snapshot {
 public:
  explicit Snapshot(MessageStore& store) : db_(store.database()) { db_.exec("BEGIN"); }
  ~Snapshot() {
    try {
      db_.exec("COMMIT");
    } catch (...) {  // NOLINT(bugprone-empty-catch): a read transaction has nothing to lose
    }
  }
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

 private:
  sqlite::Database& db_;
};

std::size_t count_messages(MessageStore& store, const std::vector<Folder>& folders) {
  std::size_t n = 0;
  for (const auto& f : folders) n += store.messages(f.id).size();
  return n;
}

// The envelope sender recorded at delivery ("Return-Path: <...>" on the first line).
std::string return_path(std::string_view raw) {
  if (!istarts_with(raw, "Return-Path:")) return {};
  const auto eol = raw.find('\n');
  const auto line = raw.substr(0, eol);
  const auto open = line.find('<');
  const auto close = line.find('>', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos) return {};
  return std::string(line.substr(open + 1, close - open - 1));
}

// The directory a folder's export goes in: one directory per level of its name but the last.
// `holder` keeps a subdirectory alive while it is used.
const OutputDir& parent_dir(const OutputDir& root, const std::vector<std::string>& levels,
                            std::optional<OutputDir>& holder) {
  for (std::size_t i = 0; i + 1 < levels.size(); ++i) {
    holder.emplace((holder ? *holder : root).subdir(levels[i]));
  }
  return holder ? *holder : root;
}

bool unsafe_in_export_name(unsigned char c) {
  return c < 0x20 || c == 0x7f || c == '%' || c == '.' || c == '/' || c == '\\';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

void write_mbox(MessageStore& store, const Folder& folder, PrivateFile& out, std::size_t& done,
                std::size_t total, const Progress& progress) {
  std::string chunk;
  for (const auto& m : store.messages(folder.id)) {
    const auto raw = store.raw(folder.id, m.uid);
    if (!raw) continue;
    mime::append_mboxrd(chunk, mime::mbox_from_line(return_path(*raw), m.internal_date), *raw);
    if (chunk.size() > (std::size_t{1} << 20)) {
      out.write(chunk);
      chunk.clear();
    }
    ++done;
    if (progress) progress(done, total);
  }
  out.write(chunk);
  out.close();
}

Folder ensure_folder(MessageStore& store, const std::string& name) {
  if (auto f = store.folder(name)) return *f;
  return store.create_folder(name);
}

SpoolId import_key(std::string_view folder, std::string_view raw) {
  SpoolId key{};
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, key.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(folder.data()),
                            folder.size());
  const unsigned char zero = 0;
  crypto_generichash_update(&st, &zero, 1);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  crypto_generichash_final(&st, key.data(), key.size());
  return key;
}

// mbox flags as mutt and others write them: "Status: RO", "X-Status: AF".
std::uint32_t mbox_flags(std::string_view raw) {
  std::uint32_t flags = 0;
  const auto header_end = raw.find("\r\n\r\n");
  std::string_view header = raw.substr(0, header_end);
  while (!header.empty()) {
    const auto eol = header.find("\r\n");
    const auto line = header.substr(0, eol);
    header.remove_prefix(eol == std::string_view::npos ? header.size() : eol + 2);
    const auto value = [&](std::string_view name) -> std::optional<std::string_view> {
      if (line.size() <= name.size() || !istarts_with(line, name)) return std::nullopt;
      return line.substr(name.size());
    };
    if (auto v = value("status:")) {
      if (v->find('R') != std::string_view::npos) flags |= kSeen;
    } else if (auto x = value("x-status:")) {
      if (x->find('A') != std::string_view::npos) flags |= kAnswered;
      if (x->find('F') != std::string_view::npos) flags |= kFlagged;
      if (x->find('D') != std::string_view::npos) flags |= kDeleted;
      if (x->find('T') != std::string_view::npos) flags |= kDraft;
    }
  }
  return flags;
}

// Maildir flags from a file name's ":2," info (D, F, R, S, T).
std::uint32_t maildir_flags(const std::string& name) {
  const auto info = name.rfind(":2,");
  if (info == std::string::npos) return 0;
  std::uint32_t flags = 0;
  for (char c : name.substr(info + 3)) {
    switch (c) {
      case 'D':
        flags |= kDraft;
        break;
      case 'F':
        flags |= kFlagged;
        break;
      case 'R':
        flags |= kAnswered;
        break;
      case 'S':
        flags |= kSeen;
        break;
      case 'T':
        flags |= kDeleted;
        break;
      default:
        break;
    }
  }
  return flags;
}

// LF-only files (Maildir, most .eml) become CRLF as the store keeps them.
std::optional<std::string> to_crlf(std::string_view bytes, std::size_t max) {
  std::string out;
  out.reserve(std::min(max, bytes.size() + bytes.size() / 40 + 2));
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c == '\n' && (i == 0 || bytes[i - 1] != '\r')) out += '\r';
    out += c;
    if (out.size() > max) return std::nullopt;
  }
  return out;
}

// Collects messages and appends them in bounded transactions.
class Importer {
 public:
  Importer(MessageStore& store, const ImportOptions& options, std::size_t total)
      : store_(store), options_(options), total_(total) {}

  void add(const std::string& folder, std::optional<std::string> raw, std::int64_t date,
           std::uint32_t flags) {
    if (!raw || raw->empty()) {
      ++result_.refused;
      tick();
      return;
    }
    if (folder != folder_) {
      flush();
      folder_ = folder;
    }
    bytes_ += raw->size();
    pending_.push_back({std::move(*raw), date, flags});
    if (pending_.size() >= kBatchMessages || bytes_ >= kBatchBytes) flush();
  }

  ImportResult finish() {
    flush();
    return result_;
  }

 private:
  struct Pending {
    std::string raw;
    std::int64_t date;
    std::uint32_t flags;
  };

  void flush() {
    if (pending_.empty()) return;
    const Folder f = ensure_folder(store_, folder_);
    std::vector<std::optional<MessageFacts>> facts;
    facts.reserve(pending_.size());
    std::vector<NewMessage> batch;
    batch.reserve(pending_.size());
    for (const auto& p : pending_) {
      facts.push_back(options_.facts ? options_.facts(p.raw) : std::nullopt);
      NewMessage m;
      m.raw = p.raw;
      m.internal_date = p.date;
      m.flags = p.flags;
      m.facts = facts.back() ? &*facts.back() : nullptr;
      m.spool_id = import_key(folder_, p.raw);
      batch.push_back(std::move(m));
    }
    for (const auto& a : store_.append(f.id, batch, MessageStore::Quota::kIgnore)) {
      if (a.uid == 0) {
        ++result_.already_there;
      } else {
        ++result_.imported;
      }
      tick();
    }
    pending_.clear();
    bytes_ = 0;
  }

  void tick() {
    ++done_;
    if (options_.progress) options_.progress(done_, total_);
  }

  MessageStore& store_;
  const ImportOptions& options_;
  std::size_t total_;
  std::size_t done_ = 0;
  std::string folder_;
  std::vector<Pending> pending_;
  std::size_t bytes_ = 0;
  ImportResult result_;
};

std::size_t count_mbox(std::string_view data) {
  std::size_t n = 0;
  std::size_t pos = 0;
  while (mime::next_mbox_entry(data, pos)) ++n;
  return n;
}

void import_mbox_file(Importer& importer, std::string_view data, const std::string& folder,
                      const ImportOptions& options) {
  std::size_t pos = 0;
  while (auto e = mime::next_mbox_entry(data, pos)) {
    const auto from = mime::parse_from_line(e->from_line);
    auto raw = mime::mbox_content_to_message(e->content, options.max_message_size);
    const std::uint32_t flags = raw ? mbox_flags(*raw) : 0;
    importer.add(folder, std::move(raw), from.dated ? from.unix_time : core::unix_now(), flags);
  }
}

bool is_maildir(const fs::path& dir) {
  return fs::is_directory(dir / "cur") && fs::is_directory(dir / "new");
}

// A Maildir++ folder directory name (".Projects.2026") as a folder name ("Projects/2026").
std::string maildir_folder(std::string name) {
  name.erase(0, 1);
  std::replace(name.begin(), name.end(), '.', '/');
  return name;
}

std::vector<std::pair<std::string, fs::path>> maildir_folders(const fs::path& root) {
  std::vector<std::pair<std::string, fs::path>> out{{"INBOX", root}};
  for (const auto& e : fs::directory_iterator(root)) {
    const auto name = e.path().filename().string();
    if (e.is_directory() && name.size() > 1 && name[0] == '.' && is_maildir(e.path())) {
      out.emplace_back(maildir_folder(name), e.path());
    }
  }
  std::sort(out.begin() + 1, out.end());
  return out;
}

std::vector<fs::path> maildir_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const char* sub : {"cur", "new"}) {
    for (const auto& e : fs::directory_iterator(dir / sub)) {
      if (e.is_regular_file()) files.push_back(e.path());
    }
  }
  // Maildir names start with the delivery time: name order is arrival order.
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  return files;
}

}  // namespace

std::vector<std::string> export_levels(std::string_view folder) {
  std::vector<std::string> levels;
  while (true) {
    const auto slash = folder.find('/');
    const auto level = folder.substr(0, slash);
    std::string name;
    for (const char c : level) {
      if (unsafe_in_export_name(static_cast<unsigned char>(c))) {
        char escaped[4];
        std::snprintf(escaped, sizeof escaped, "%%%02X", static_cast<unsigned char>(c));
        name += escaped;
      } else {
        name += c;
      }
    }
    // An empty level ("a//b") as a lone "%", which no encoded byte gives.
    levels.push_back(name.empty() ? "%" : name);
    if (slash == std::string_view::npos) return levels;
    folder.remove_prefix(slash + 1);
  }
}

std::string folder_from_export_path(const fs::path& relative) {
  std::string folder;
  bool first = true;
  for (const auto& part : relative) {
    if (!first) folder += '/';
    first = false;
    const std::string level = part.string();
    if (level == "%") continue;
    for (std::size_t i = 0; i < level.size(); ++i) {
      const int hi = level[i] == '%' && i + 2 < level.size() ? hex_value(level[i + 1]) : -1;
      const int lo = hi >= 0 ? hex_value(level[i + 2]) : -1;
      if (lo >= 0) {
        folder += static_cast<char>(hi * 16 + lo);
        i += 2;
      } else {
        folder += level[i];  // as an earlier version wrote it
      }
    }
  }
  return folder;
}

std::size_t export_mbox(MessageStore& store, const fs::path& out,
                        const std::optional<std::string>& folder, const ExportOptions& options) {
  Snapshot snapshot(store);
  std::vector<Folder> folders;
  if (folder) {
    auto f = store.folder(*folder);
    if (!f) throw StoreError("no folder " + *folder);
    folders.push_back(std::move(*f));
  } else {
    folders = store.folders();
  }
  const std::size_t total = count_messages(store, folders);
  std::size_t done = 0;
  if (folder) {
    if (!out.has_filename()) throw StoreError(out.string() + ": not a file name");
    PrivateFile file(OutputDir::open(out.parent_path()), out.filename().string(),
                     options.overwrite);
    write_mbox(store, folders.front(), file, done, total, options.progress);
    return done;
  }
  const auto root = OutputDir::open(out);
  for (const auto& f : folders) {
    const auto levels = export_levels(f.name);
    std::optional<OutputDir> holder;
    PrivateFile file(parent_dir(root, levels, holder), levels.back() + ".mbox", options.overwrite);
    write_mbox(store, f, file, done, total, options.progress);
  }
  return done;
}

std::size_t export_eml(MessageStore& store, const fs::path& out, const ExportOptions& options) {
  Snapshot snapshot(store);
  const auto folders = store.folders();
  const std::size_t total = count_messages(store, folders);
  std::size_t done = 0;
  const auto root = OutputDir::open(out);
  for (const auto& f : folders) {
    const auto levels = export_levels(f.name);
    std::optional<OutputDir> holder;
    const auto dir = parent_dir(root, levels, holder).subdir(levels.back());
    for (const auto& m : store.messages(f.id)) {
      const auto raw = store.raw(f.id, m.uid);
      if (!raw) continue;
      PrivateFile file(dir, std::to_string(m.uid) + ".eml", options.overwrite);
      file.write(*raw);
      file.close();
      ++done;
      if (options.progress) options.progress(done, total);
    }
  }
  return done;
}

void export_sqlite(MessageStore& store, const fs::path& out, bool encrypted,
                   const ExportOptions& options) {
  if (!out.has_filename()) throw StoreError(out.string() + ": not a file name");
  // Made here, empty, owner-only and not through a link; VACUUM INTO fills an empty file.
  (void)OutputDir::open(out.parent_path()).create(out.filename().string(), options.overwrite);
  // A URI for the target: "key=" (empty) writes it unencrypted; without it SQLite3 Multiple
  // Ciphers encrypts the copy with the mailbox's own key.
  std::string uri = "file:";
  for (const char c : fs::absolute(out).string()) {
    if (c == '?' || c == '#' || c == '%') {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      uri += buf;
    } else {
      uri += c;
    }
  }
  if (!encrypted) uri += "?key=";
  const mode_t old = ::umask(077);
  try {
    store.database().prepare("VACUUM INTO ?").bind(1, uri).run();
  } catch (...) {
    ::umask(old);
    throw;
  }
  ::umask(old);
}

ImportResult import_mail(MessageStore& store, const fs::path& path, const ImportOptions& options) {
  if (fs::is_regular_file(path)) {
    const MappedFile file(path);
    std::size_t probe = 0;
    if (!mime::next_mbox_entry(file.view(), probe)) {
      throw StoreError(path.string() + ": not an mbox file (it does not start with \"From \")");
    }
    Importer importer(store, options, count_mbox(file.view()));
    import_mbox_file(importer, file.view(), options.folder, options);
    return importer.finish();
  }
  if (!fs::is_directory(path)) throw StoreError(path.string() + ": no such file or directory");
  if (is_maildir(path)) {
    const auto folders = maildir_folders(path);
    std::map<std::string, std::vector<fs::path>> files;
    std::size_t total = 0;
    for (const auto& [name, dir] : folders) {
      files[name] = maildir_files(dir);
      total += files[name].size();
    }
    Importer importer(store, options, total);
    for (const auto& [name, dir] : folders) {
      const std::string folder = name == "INBOX" ? options.folder : name;
      for (const auto& file : files[name]) {
        const MappedFile mapped(file);
        // The file's time is its delivery time (what Dovecot takes as INTERNALDATE).
        struct stat st {};
        const std::int64_t date = ::stat(file.c_str(), &st) == 0
                                      ? static_cast<std::int64_t>(st.st_mtime)
                                      : core::unix_now();
        importer.add(folder, to_crlf(mapped.view(), options.max_message_size), date,
                     maildir_flags(file.filename().string()));
      }
    }
    return importer.finish();
  }
  // A directory of "<folder>.mbox" files, as export_mbox writes them.
  std::vector<std::pair<std::string, fs::path>> boxes;
  for (const auto& e : fs::recursive_directory_iterator(path)) {
    if (!e.is_regular_file() || e.path().extension() != ".mbox") continue;
    auto rel = fs::relative(e.path(), path);
    rel.replace_extension();
    boxes.emplace_back(folder_from_export_path(rel), e.path());
  }
  if (boxes.empty()) {
    throw StoreError(path.string() + ": neither a Maildir nor a directory of .mbox files");
  }
  std::sort(boxes.begin(), boxes.end());
  std::vector<std::unique_ptr<MappedFile>> mapped;
  std::size_t total = 0;
  for (const auto& [name, file] : boxes) {
    mapped.push_back(std::make_unique<MappedFile>(file));
    total += count_mbox(mapped.back()->view());
  }
  Importer importer(store, options, total);
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    import_mbox_file(importer, mapped[i]->view(), boxes[i].first, options);
  }
  return importer.finish();
}

}  // namespace sealpost::store::mailbox
