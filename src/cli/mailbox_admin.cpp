// `sealpost mailbox add|delete|list|check`: sealed mailboxes. Passwords come from a prompt
// without echo, or from the first line of --password-file (its newline removed).
#include <fstream>
#include <iostream>

#include <termios.h>
#include <unistd.h>

#include "cli/commands.hpp"
#include "cli/server_runtime.hpp"
#include "core/config.hpp"
#include "core/domain.hpp"
#include "core/strings.hpp"
#include "crypto/secret.hpp"
#include "store/mailbox/mailboxes.hpp"

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

}  // namespace

int mailbox_add(const std::filesystem::path& path, const std::string& address,
                const std::string& password_file) {
  const auto config = core::load_config(path);
  const auto [addr, domain] = require_address(address);
  auto store = open_metadata_store(config);
  const std::string pw = read_password(password_file, true);
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
                   const std::string& password_file, const std::string& new_password_file) {
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
  // A new wrapping of the same key: the database is not rekeyed, app passwords keep working.
  const auto wrapped = store::mailbox::wrap_for(*store, *unlocked, new_pw);
  if (!wrapped) throw std::runtime_error("mailbox " + addr + " has no credential to rewrap");
  store->set_credential({addr, "password", *wrapped, 0});
  std::cout << "password of " << addr << " changed\n";
  return 0;
}

}  // namespace sealpost::cli
