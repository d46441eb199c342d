// `sealpost mailbox add|delete|list|check`: sealed mailboxes. Passwords come from a prompt
// without echo, or from the first line of --password-file (its newline removed).
#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>

#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include "access/password_strength.hpp"
#include "cli/commands.hpp"
#include "cli/server_runtime.hpp"
#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/domain.hpp"
#include "core/strings.hpp"
#include "crypto/secret.hpp"
#include "store/mailbox/encrypted_db.hpp"
#include "store/mailbox/facts.hpp"
#include "store/mailbox/local_delivery.hpp"
#include "store/mailbox/mailboxes.hpp"
#include "store/mailbox/rekey.hpp"
#include "store/mailbox/transfer.hpp"

namespace sealpost::cli {
namespace {

// A lowercase local@domain with the domain as an A-label.
std::pair<std::string, std::string> require_address(const std::string& text) {
  const auto parts = core::split_address(text);
  if (!parts || parts->first.empty()) throw std::runtime_error("not an address: " + text);
  const auto domain = core::to_a_label(std::string(parts->second));
  if (!domain) throw std::runtime_error("not a valid domain: " + std::string(parts->second));
  return {to_lower_ascii(parts->first) + "@" + *domain, *domain};
}

std::string prompt(const char* text) {
  std::cerr << text << std::flush;
  termios old{};
  const bool tty = ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::cerr << "\n";
  return line;
}

std::string read_password(const std::string& file, bool confirm) {
  std::string pw;
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("--password-file: cannot read " + file);
    std::getline(in, pw);
    if (!pw.empty() && pw.back() == '\r') pw.pop_back();
  } else {
    if (!::isatty(STDIN_FILENO)) {
      throw std::runtime_error("no terminal to ask for the password: use --password-file FILE");
    }
    pw = prompt("Password: ");
    if (confirm && prompt("Again: ") != pw) throw std::runtime_error("the passwords differ");
  }
  if (pw.empty()) throw std::runtime_error("the password must not be empty");
  return pw;
}

// A password the user chose must be hard to guess (zxcvbn, [access] min_password_score).
void require_strong(const core::Config& config, const std::string& password,
                    const std::string& address) {
  if (auto refusal =
          access::password_refusal(password, address, config.access.min_password_score)) {
    throw std::runtime_error(*refusal);
  }
}

// The mailbox open with its password, its spool moved in (as at any login).
struct OpenedMailbox {
  store::mailbox::Unlocked unlocked;
  std::unique_ptr<store::mailbox::MessageStore> store;
};

std::optional<OpenedMailbox> open_mailbox(const core::Config& config, store::MetadataStore& meta,
                                          const std::string& address,
                                          const std::string& password_file) {
  const std::string pw = read_password(password_file, false);
  auto unlocked = store::mailbox::unlock(meta, address, pw);
  if (!unlocked) return std::nullopt;
  auto db = store::mailbox::open_encrypted(
      store::mailbox::database_file(config.data_dir, unlocked->record), unlocked->master_key);
  auto store = std::make_unique<store::mailbox::MessageStore>(
      std::move(db), static_cast<std::uint64_t>(unlocked->record.quota_bytes));
  (void)store::mailbox::import_spool_into(
      *store, *unlocked, store::mailbox::spool_file(config.data_dir, unlocked->record),
      store::mailbox::message_facts);
  return OpenedMailbox{std::move(*unlocked), std::move(store)};
}

// "\rexporting 1200/5000 24%" on a terminal, redrawn at each whole percent.
store::mailbox::Progress progress_bar(const char* what) {
  if (!::isatty(STDERR_FILENO)) return nullptr;
  return [what, last = -1](std::size_t done, std::size_t total) mutable {
    const int percent = total == 0 ? 100 : static_cast<int>(done * 100 / total);
    if (percent == last && done != total) return;
    last = percent;
    const int width = 30;
    const int filled = percent * width / 100;
    std::cerr << "\r" << what << " [" << std::string(static_cast<std::size_t>(filled), '#')
              << std::string(static_cast<std::size_t>(width - filled), ' ') << "] " << done << "/"
              << total << " " << percent << "%" << (done == total ? "\n" : "") << std::flush;
  };
}

std::int64_t parse_size(const std::string& text) {
  std::size_t used = 0;
  long long n = 0;
  try {
    n = std::stoll(text, &used);
  } catch (const std::exception&) {
    throw std::runtime_error("not a size: " + text);
  }
  std::string unit = to_lower_ascii(text.substr(used));
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  const std::int64_t scale = unit.empty()  ? 1
                             : unit == "k" ? 1LL << 10
                             : unit == "m" ? 1LL << 20
                             : unit == "g" ? 1LL << 30
                             : unit == "t" ? 1LL << 40
                                           : 0;
  if (scale == 0 || n < 0 || n > (1LL << 50) / scale) {
    throw std::runtime_error("not a size: " + text);
  }
  return n * scale;
}

bool valid_label(const std::string& label) {
  return !label.empty() && label.size() <= 64 && label != "password" &&
         std::all_of(label.begin(), label.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
         });
}

// 20 characters from an alphabet without look-alikes, in groups of four: ~100 bits.
std::string new_app_password() {
  static constexpr std::string_view kAlphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  std::string out;
  for (int i = 0; i < 20; ++i) {
    if (i > 0 && i % 4 == 0) out += '-';
    out += kAlphabet[randombytes_uniform(static_cast<std::uint32_t>(kAlphabet.size()))];
  }
  return out;
}

}  // namespace

int mailbox_quota(const std::filesystem::path& path, const std::string& address,
                  const std::string& size) {
  const auto config = core::load_config(path);
  const auto [addr, domain] = require_address(address);
  const auto bytes = parse_size(size);
  auto store = open_metadata_store(config);
  if (!store->set_quota(addr, bytes)) {
    std::cerr << "no mailbox " << addr << "\n";
    return 1;
  }
  std::cout << "quota of " << addr << ": "
            << (bytes == 0 ? "none" : std::to_string(bytes) + " bytes") << "\n";
  return 0;
}

int mailbox_export(const std::filesystem::path& path, const std::string& address,
                   const std::string& password_file, const std::string& format,
                   const std::filesystem::path& out, bool encrypted, const std::string& folder,
                   bool force) {
  const auto config = core::load_config(path);
  const auto [addr, domain] = require_address(address);
  auto meta = open_metadata_store(config);
  auto opened = open_mailbox(config, *meta, addr, password_file);
  if (!opened) {
    std::cerr << "authentication failed\n";
    return 1;
  }
  auto& store = *opened->store;
  store::mailbox::ExportOptions options{force, progress_bar("exporting")};
  if (format == "sqlite") {
    store::mailbox::export_sqlite(store, out, encrypted, options);
    std::cout << "exported " << addr << " to " << out.string()
              << (encrypted ? " (encrypted with the mailbox key)" : " (decrypted: keep it safe)")
              << "\n";
    return 0;
  }
  if (encrypted) throw std::runtime_error("--encrypted applies to --format sqlite only");
  std::size_t n = 0;
  if (format == "mbox") {
    n = store::mailbox::export_mbox(
        store, out, folder.empty() ? std::nullopt : std::optional<std::string>(folder), options);
  } else {
    if (!folder.empty()) throw std::runtime_error("--folder applies to --format mbox only");
    n = store::mailbox::export_eml(store, out, options);
  }
  std::cout << "exported " << n << " messages of " << addr << " to " << out.string()
            << " (decrypted: keep it safe)\n";
  return 0;
}

int mailbox_import(const std::filesystem::path& path, const std::string& address,
                   const std::string& password_file, const std::filesystem::path& source,
                   const std::string& folder) {
  const auto config = core::load_config(path);
  const auto [addr, domain] = require_address(address);
  auto meta = open_metadata_store(config);
  auto opened = open_mailbox(config, *meta, addr, password_file);
  if (!opened) {
    std::cerr << "authentication failed\n";
    return 1;
  }
  store::mailbox::ImportOptions options;
  if (!folder.empty()) options.folder = folder;
  options.max_message_size = config.limits.max_message_size;
  options.facts = store::mailbox::message_facts;
  options.progress = progress_bar("importing");
  const auto r = store::mailbox::import_mail(*opened->store, source, options);
  std::cout << "imported " << r.imported << " messages into " << addr;
  if (r.already_there > 0) std::cout << ", " << r.already_there << " were there already";
  if (r.refused > 0) std::cout << ", " << r.refused << " refused (empty or over the size limit)";
  std::cout << "\n";
  return 0;
}

int app_password_add(const std::filesystem::path& path, const std::string& address,
                     const std::string& password_file, const std::string& label) {
  const auto config = core::load_config(path);
  const auto [addr, domain] = require_address(address);
  if (!valid_label(label)) {
    throw std::runtime_error(
        "--name: letters, digits, '.', '-' and '_', at most 64, not \"password\"");
  }
  auto store = open_metadata_store(config);
  for (const auto& c : store->credentials(addr)) {
    if (c.name == label) throw std::runtime_error("an app password named " + label + " exists");
  }
  const std::string pw = read_password(password_file, false);
  const auto unlocked = store::mailbox::unlock(*store, addr, pw);
  if (!unlocked) {
    std::cerr << "authentication failed\n";
    return 1;
  }
  const std::string app = new_app_password();
  const auto wrapped = store::mailbox::wrap_for(*store, *unlocked, app);
  if (!wrapped) throw std::runtime_error("mailbox " + addr + " has no credential to extend");
  store->set_credential({addr, label, *wrapped, core::unix_now()});
  std::cout << "app password " << label << " for " << addr << ": " << app
            << "\n(shown once; it opens the mailbox like the password, revoke it with "
               "`sealpost mailbox app-password revoke "
            << addr << " " << label << "`)\n";
  return 0;
}

int app_password_list(const std::filesystem::path& path, const std::string& address) {
  const auto config = core::load_config(path);
  const auto [addr, domain] = require_address(address);
  auto store = open_metadata_store(config);
  for (const auto& c : store->credentials(addr)) {
    if (c.name != "password") std::cout << c.name << "\t" << c.created << "\n";
  }
  return 0;
}

int app_password_revoke(const std::filesystem::path& path, const std::string& address,
                        const std::string& label) {
  const auto config = core::load_config(path);
  const auto [addr, domain] = require_address(address);
  if (label == "password") throw std::runtime_error("the password itself cannot be revoked");
  auto store = open_metadata_store(config);
  if (!store->remove_credential(addr, label)) {
    std::cerr << "no app password " << label << " for " << addr << "\n";
    return 1;
  }
  std::cout << "app password " << label << " of " << addr << " revoked\n";
  return 0;
}

int mailbox_add(const std::filesystem::path& path, const std::string& address,
                const std::string& password_file) {
  const auto config = core::load_config(path);
  const auto [addr, domain] = require_address(address);
  auto store = open_metadata_store(config);
  const std::string pw = read_password(password_file, true);
  require_strong(config, pw, addr);
  store::mailbox::create_mailbox(*store, config.data_dir, addr, domain, pw);
  std::cout << "mailbox " << addr << " created (encrypted; only its password opens it)\n";
  return 0;
}

int mailbox_delete(const std::filesystem::path& path, const std::string& address) {
  const auto config = core::load_config(path);
  const auto [addr, domain] = require_address(address);
  auto store = open_metadata_store(config);
  if (!store::mailbox::delete_mailbox(*store, config.data_dir, addr)) {
    std::cerr << "no mailbox " << addr << "\n";
    return 1;
  }
  std::cout << "mailbox " << addr << " deleted with its files\n";
  return 0;
}

int mailbox_list(const std::filesystem::path& path, const std::string& domain) {
  const auto config = core::load_config(path);
  const auto d = core::to_a_label(domain);
  if (!d) throw std::runtime_error("not a valid domain: " + domain);
  auto store = open_metadata_store(config);
  for (const auto& m : store->list_mailboxes(*d)) std::cout << m.address << "\n";
  return 0;
}

int mailbox_check(const std::filesystem::path& path, const std::string& address,
                  const std::string& password_file) {
  const auto config = core::load_config(path);
  const auto [addr, domain] = require_address(address);
  auto store = open_metadata_store(config);
  const std::string pw = read_password(password_file, false);
  if (!store::mailbox::unlock(*store, addr, pw)) {
    // The same answer for an unknown mailbox and a wrong password.
    std::cerr << "authentication failed\n";
    return 1;
  }
  std::cout << "authentication ok\n";
  return 0;
}

int mailbox_passwd(const std::filesystem::path& path, const std::string& address,
                   const std::string& password_file, const std::string& new_password_file,
                   bool rekey) {
  const auto config = core::load_config(path);
  const auto [addr, domain] = require_address(address);
  auto store = open_metadata_store(config);
  const std::string old_pw = read_password(password_file, false);
  const auto unlocked = store::mailbox::unlock(*store, addr, old_pw);
  if (!unlocked) {
    std::cerr << "authentication failed\n";
    return 1;
  }
  std::cerr << (new_password_file.empty() ? "The new password:\n" : "");
  const std::string new_pw = read_password(new_password_file, true);
  require_strong(config, new_pw, addr);
  if (rekey) {
    const auto done = store::mailbox::rekey_mailbox(*store, config.data_dir, addr, old_pw, new_pw);
    if (!done) {
      std::cerr << "authentication failed\n";
      return 1;
    }
    std::cout << "password of " << addr
              << " changed and its mail re-encrypted under a new key (the old password and any "
                 "copy of the old key open none of it)\n";
    if (done->revoked_app_passwords > 0) {
      std::cout << done->revoked_app_passwords
                << " app password(s) revoked: they opened the old key; create new ones with "
                   "`sealpost mailbox app-password add "
                << addr << "`\n";
    }
    return 0;
  }
  // A new wrapping of the same key: the database is not rekeyed, app passwords keep working.
  const auto wrapped = store::mailbox::wrap_for(*store, *unlocked, new_pw);
  if (!wrapped) throw std::runtime_error("mailbox " + addr + " has no credential to rewrap");
  store->set_credential({addr, "password", *wrapped, 0});
  std::cout << "password of " << addr << " changed\n";
  return 0;
}

}  // namespace sealpost::cli
