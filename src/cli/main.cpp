// sealpost: the one binary. Subcommands are thin: they parse arguments and call cli/.
#include <functional>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "cli/hardening.hpp"
#include "cli/privileges.hpp"
#include "core/config.hpp"

int main(int argc, char** argv) {
  using namespace sealpost;
  try {
    cli::harden_process();
  } catch (const std::exception& e) {
    std::cerr << "sealpost: " << e.what() << "\n";
    return 1;
  }
  CLI::App app{"Sealpost: a privacy-first mail server"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("sealpost ") + SEALPOST_VERSION);

  std::string config = "/etc/sealpost/sealpost.toml";
  if (const char* env = std::getenv("SEALPOST_CONFIG")) config = env;
  const auto with_config = [&](CLI::App* cmd) {
    cmd->add_option("-c,--config", config, "configuration file (or $SEALPOST_CONFIG)")
        ->capture_default_str();
  };
  int status = 0;
  // Subcommands that write the data directory act as the server's user (cli/privileges.hpp).
  const auto as_server_user = [&config](std::function<void()> run) {
    return [&config, run = std::move(run)] {
      cli::become_server_user(config);
      run();
    };
  };

  auto* serve = app.add_subcommand("serve", "run the mail server");
  with_config(serve);
  serve->callback([&] { status = cli::serve(config); });

  std::string demo_dir = "sealpost-demo";
  cli::DemoPorts demo_ports;
  auto* demo = app.add_subcommand("demo", "run a self-contained demo on 127.0.0.1");
  demo->add_option("--dir", demo_dir, "directory for the demo's files")->capture_default_str();
  demo->add_option("--port", demo_ports.smtp, "SMTP port")->capture_default_str();
  demo->add_option("--sink-port", demo_ports.sink, "port of the demo's destination sink")
      ->capture_default_str();
  demo->add_option("--imap-port", demo_ports.imap, "IMAP port (STARTTLS)")->capture_default_str();
  demo->add_option("--pop3-port", demo_ports.pop3, "POP3 port (STLS)")->capture_default_str();
  demo->add_option("--submission-port", demo_ports.submission, "submission port (STARTTLS)")
      ->capture_default_str();
  demo->callback([&] { status = cli::demo(demo_dir, demo_ports); });

  auto* cfg = app.add_subcommand("config", "configuration")->require_subcommand(1);
  auto* check = cfg->add_subcommand("check", "validate the config and print effective values");
  with_config(check);
  check->callback([&] { status = cli::config_check(config); });
  cfg->add_subcommand("reference", "print every setting with its default (README.md's table)")
      ->callback([&] { status = cli::config_reference(); });

  std::string name;
  auto* domain = app.add_subcommand("domain", "hosted domains")->require_subcommand(1);
  auto* dadd = domain->add_subcommand("add", "host a domain");
  dadd->add_option("domain", name)->required();
  with_config(dadd);
  dadd->callback(as_server_user([&] { status = cli::domain_add(config, name); }));
  auto* drm = domain->add_subcommand("remove", "stop hosting a domain (and drop its aliases)");
  drm->add_option("domain", name)->required();
  with_config(drm);
  drm->callback(as_server_user([&] { status = cli::domain_remove(config, name); }));
  std::string period;
  auto* dret = domain->add_subcommand(
      "retention", "how long sent mail keeps its sealed content after delivery (then redacted)");
  dret->add_option("domain", name)->required();
  dret->add_option("period", period, "e.g. 30d, 12h, 0 (redact at once), or default")->required();
  with_config(dret);
  dret->callback(as_server_user([&] { status = cli::domain_retention(config, name, period); }));
  auto* dls = domain->add_subcommand("list", "list hosted domains");
  with_config(dls);
  dls->callback(as_server_user([&] { status = cli::domain_list(config); }));

  bool check_dns = false;
  auto* ddns = domain->add_subcommand("dns", "print the DNS records to publish for a domain");
  ddns->add_option("domain", name)->required();
  ddns->add_flag("--check", check_dns, "look each record up and say whether it is published");
  with_config(ddns);
  ddns->callback(as_server_user([&] { status = cli::domain_dns(config, name, check_dns); }));

  int publish_hours = 48;
  int grace_days = 7;
  auto* dkim = app.add_subcommand("dkim", "DKIM keys")->require_subcommand(1);
  auto* drot = dkim->add_subcommand("rotate", "new keys for a domain; the old ones retire later");
  drot->add_option("domain", name)->required();
  drot->add_option("--publish-hours", publish_hours, "hours before signing with the new keys")
      ->capture_default_str()
      ->check(CLI::Range(0, 24 * 30));
  drot->add_option("--grace-days", grace_days, "days the old keys stay published afterwards")
      ->capture_default_str()
      ->check(CLI::Range(0, 365));
  with_config(drot);
  drot->callback(
      as_server_user([&] { status = cli::dkim_rotate(config, name, publish_hours, grace_days); }));
  auto* dlist = dkim->add_subcommand("list", "a domain's DKIM selectors and their state");
  dlist->add_option("domain", name)->required();
  with_config(dlist);
  dlist->callback(as_server_user([&] { status = cli::dkim_list(config, name); }));
  auto* dsign = dkim->add_subcommand("sign", "sign a message (stdin) with a domain's keys");
  dsign->add_option("domain", name)->required();
  with_config(dsign);
  dsign->callback(as_server_user([&] { status = cli::dkim_sign(config, name); }));
  auto* dver = dkim->add_subcommand("verify", "verify a message's DKIM signatures (stdin)");
  with_config(dver);
  dver->callback([&] { status = cli::dkim_verify(config); });

  std::string rrtype = "TXT";
  auto* dnscmd = app.add_subcommand("dns", "DNS as the server sees it")->require_subcommand(1);
  auto* lookup = dnscmd->add_subcommand("lookup", "look a name up, with its DNSSEC status");
  lookup->add_option("name", name)->required();
  lookup->add_option("--type", rrtype, "TXT, A, AAAA, MX, PTR or TLSA")->capture_default_str();
  with_config(lookup);
  lookup->callback([&] { status = cli::dns_lookup(config, name, rrtype); });

  std::string password_file;
  auto* mbox = app.add_subcommand("mailbox", "sealed mailboxes")->require_subcommand(1);
  auto* madd = mbox->add_subcommand("add", "create an encrypted mailbox for an address");
  madd->add_option("address", name)->required();
  madd->add_option("--password-file", password_file,
                   "read the password from the first line of FILE (default: prompt)");
  with_config(madd);
  madd->callback(as_server_user([&] { status = cli::mailbox_add(config, name, password_file); }));
  auto* mdel = mbox->add_subcommand("delete", "delete a mailbox and its files");
  mdel->add_option("address", name)->required();
  with_config(mdel);
  mdel->callback(as_server_user([&] { status = cli::mailbox_delete(config, name); }));
  auto* mls = mbox->add_subcommand("list", "a domain's mailboxes");
  mls->add_option("domain", name)->required();
  with_config(mls);
  mls->callback(as_server_user([&] { status = cli::mailbox_list(config, name); }));
  auto* mchk = mbox->add_subcommand("check", "check a mailbox password");
  mchk->add_option("address", name)->required();
  mchk->add_option("--password-file", password_file, "read the password from FILE");
  with_config(mchk);
  mchk->callback(as_server_user([&] { status = cli::mailbox_check(config, name, password_file); }));

  std::string new_password_file;
  bool rekey = false;
  auto* mpw = mbox->add_subcommand(
      "passwd", "change a mailbox's password (with --rekey, its data's key too)");
  mpw->add_option("address", name)->required();
  mpw->add_option("--password-file", password_file, "the current password, from FILE");
  mpw->add_option("--new-password-file", new_password_file, "the new password, from FILE");
  mpw->add_flag("--rekey", rekey,
                "re-encrypt the mailbox under a new key, so that an old copy of the metadata and "
                "the old password open none of its mail (app passwords are revoked)");
  with_config(mpw);
  mpw->callback(
      [&] { status = cli::mailbox_passwd(config, name, password_file, new_password_file, rekey); });

  auto* mquota = mbox->add_subcommand("quota", "set a mailbox's quota (0: none)");
  mquota->add_option("address", name)->required();
  std::string size;
  mquota->add_option("size", size, "bytes, or with a unit: 500M, 2G")->required();
  with_config(mquota);
  mquota->callback(as_server_user([&] { status = cli::mailbox_quota(config, name, size); }));

  std::string format = "mbox";
  std::filesystem::path out;
  bool encrypted = false;
  std::string folder;
  auto* mexp = mbox->add_subcommand("export", "export a mailbox as mbox, EML files or SQLite");
  mexp->add_option("address", name)->required();
  mexp->add_option("--format", format, "mbox (mboxrd), eml or sqlite")
      ->check(CLI::IsMember({"mbox", "eml", "sqlite"}))
      ->capture_default_str();
  mexp->add_option("-o,--output", out,
                   "mbox: a directory of <folder>.mbox files (a file with --folder); eml: a "
                   "directory; sqlite: a new file")
      ->required();
  mexp->add_flag("--encrypted", encrypted, "sqlite: keep the copy encrypted");
  bool force = false;
  mexp->add_flag("--force", force, "replace output files that exist (refused otherwise)");
  mexp->add_option("--folder", folder, "mbox: only this folder");
  mexp->add_option("--password-file", password_file, "read the password from FILE");
  with_config(mexp);
  mexp->callback(as_server_user([&] {
    status =
        cli::mailbox_export(config, name, password_file, format, out, encrypted, folder, force);
  }));
  std::filesystem::path source;
  auto* mimp = mbox->add_subcommand("import", "import an mbox file or a Maildir");
  mimp->add_option("address", name)->required();
  mimp->add_option("path", source, "an mbox file, a Maildir, or a directory of .mbox files")
      ->required();
  mimp->add_option("--folder", folder, "where an mbox file's messages go (default INBOX)");
  mimp->add_option("--password-file", password_file, "read the password from FILE");
  with_config(mimp);
  mimp->callback(
      [&] { status = cli::mailbox_import(config, name, password_file, source, folder); });

  std::string label;
  auto* apw = mbox->add_subcommand("app-password", "passwords for mail clients, each revocable")
                  ->require_subcommand(1);
  auto* apadd = apw->add_subcommand("add", "create an app password (printed once)");
  apadd->add_option("address", name)->required();
  apadd->add_option("--name", label, "what it is for, e.g. phone")->required();
  apadd->add_option("--password-file", password_file, "the mailbox password, from FILE");
  with_config(apadd);
  apadd->callback(
      as_server_user([&] { status = cli::app_password_add(config, name, password_file, label); }));
  auto* apls = apw->add_subcommand("list", "a mailbox's app passwords");
  apls->add_option("address", name)->required();
  with_config(apls);
  apls->callback(as_server_user([&] { status = cli::app_password_list(config, name); }));
  auto* aprm = apw->add_subcommand("revoke", "revoke an app password");
  aprm->add_option("address", name)->required();
  aprm->add_option("name", label)->required();
  with_config(aprm);
  aprm->callback(as_server_user([&] { status = cli::app_password_revoke(config, name, label); }));

  std::vector<std::string> forwards;
  auto* alias = app.add_subcommand("alias", "forwarding aliases")->require_subcommand(1);
  auto* aadd = alias->add_subcommand("add", "add an alias, or destinations to one");
  aadd->add_option("address", name, "local@domain, or *@domain for a catch-all")->required();
  aadd->add_option("--forward", forwards, "destination address (repeatable)")->required();
  with_config(aadd);
  aadd->callback(as_server_user([&] { status = cli::alias_add(config, name, forwards); }));
  auto* arm = alias->add_subcommand("remove", "remove an alias");
  arm->add_option("address", name)->required();
  with_config(arm);
  arm->callback(as_server_user([&] { status = cli::alias_remove(config, name); }));
  auto* als = alias->add_subcommand("list", "list a domain's aliases");
  als->add_option("domain", name)->required();
  with_config(als);
  als->callback(as_server_user([&] { status = cli::alias_list(config, name); }));

  std::string entry;
  bool all = false;
  auto* q = app.add_subcommand("queue", "the outbound queue")->require_subcommand(1);
  auto* qls = q->add_subcommand("list", "queued and recently sent messages, newest first");
  with_config(qls);
  qls->callback(as_server_user([&] { status = cli::queue_list(config); }));
  auto* qstats = q->add_subcommand("stats", "recipients by state and bounce category (metrics)");
  with_config(qstats);
  qstats->callback(as_server_user([&] { status = cli::queue_stats(config); }));
  auto* qshow = q->add_subcommand("show", "one entry: envelope, each recipient's state, content");
  qshow->add_option("id", entry, "the ID `queue list` prints")->required();
  with_config(qshow);
  qshow->callback(as_server_user([&] { status = cli::queue_show(config, entry); }));
  auto* qretry = q->add_subcommand("retry", "make pending recipients due now");
  qretry->add_option("id", entry, "the ID `queue list` prints");
  qretry->add_flag("--all", all, "every pending entry");
  with_config(qretry);
  qretry->callback(as_server_user([&] { status = cli::queue_retry(config, entry, all); }));
  auto* qdrop = q->add_subcommand("drop", "delete an entry (no bounce is sent)");
  qdrop->add_option("id", entry, "the ID `queue list` prints")->required();
  with_config(qdrop);
  qdrop->callback(as_server_user([&] { status = cli::queue_drop(config, entry); }));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "sealpost: " << e.what() << "\n";
    return 1;
  }
  return status;
}
