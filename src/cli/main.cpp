// sealpost: the one binary. Subcommands are thin: they parse arguments and call cli/. Each
// command group (`sealpost mailbox ...`, `sealpost queue ...`) is declared by a function of its
// own; main builds them from one table, in the order `sealpost --help` lists them.
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "cli/hardening.hpp"
#include "cli/privileges.hpp"
#include "core/config.hpp"

namespace sealpost::cli {
namespace {

// What every subcommand shares: the configuration file, the exit status the one that runs sets,
// and the variables the groups' options are parsed into.
class Invocation {
 public:
  Invocation() {
    if (const char* env = std::getenv("SEALPOST_CONFIG")) config = env;
  }

  // `cmd` takes -c,--config and, when it is the command given, runs `run` for the exit status.
  void runs(CLI::App* cmd, std::function<int()> run) {
    cmd->add_option("-c,--config", config, "configuration file (or $SEALPOST_CONFIG)")
        ->capture_default_str();
    cmd->callback([this, run = std::move(run)] { status = run(); });
  }

  // The same for subcommands that write the data directory: they act as the server's user
  // (cli/privileges.hpp).
  void runs_as_server_user(CLI::App* cmd, std::function<int()> run) {
    runs(cmd, [this, run = std::move(run)] {
      become_server_user(config);
      return run();
    });
  }

  // A group's option values: CLI11 writes them while parsing, after the group's function has
  // returned, so they live as long as the invocation.
  template <class Values>
  Values& keep() {
    auto values = std::make_shared<Values>();
    kept_.push_back(values);
    return *values;
  }

  std::string config = "/etc/sealpost/sealpost.toml";
  int status = 0;

 private:
  std::vector<std::shared_ptr<void>> kept_;
};

void add_serve(CLI::App& serve, Invocation& in) {
  in.runs(&serve, [&in] { return cli::serve(in.config); });
}

void add_demo(CLI::App& demo, Invocation& in) {
  struct Values {
    std::string dir = "sealpost-demo";
    cli::DemoPorts ports;
  };
  auto& v = in.keep<Values>();
  demo.add_option("--dir", v.dir, "directory for the demo's files")->capture_default_str();
  demo.add_option("--port", v.ports.smtp, "SMTP port")->capture_default_str();
  demo.add_option("--sink-port", v.ports.sink, "port of the demo's destination sink")
      ->capture_default_str();
  demo.add_option("--imap-port", v.ports.imap, "IMAP port (STARTTLS)")->capture_default_str();
  demo.add_option("--pop3-port", v.ports.pop3, "POP3 port (STLS)")->capture_default_str();
  demo.add_option("--submission-port", v.ports.submission, "submission port (STARTTLS)")
      ->capture_default_str();
  demo.callback([&in, &v] { in.status = cli::demo(v.dir, v.ports); });
}

void add_config(CLI::App& cfg, Invocation& in) {
  cfg.require_subcommand(1);
  auto* check = cfg.add_subcommand("check", "validate the config and print effective values");
  in.runs(check, [&in] { return cli::config_check(in.config); });
  // Needs no configuration file: it prints the built-in table.
  cfg.add_subcommand("reference", "print every setting with its default (README.md's table)")
      ->callback([&in] { in.status = cli::config_reference(); });
}

void add_filter(CLI::App& filter, Invocation& in) {
  filter.require_subcommand(1);
  auto* explain = filter.add_subcommand(
      "explain",
      "print what the content filter finds in the message on stdin, offline but for clamd");
  auto& clamd = in.keep<std::string>();
  auto* clamd_option = explain->add_option(
      "--clamd", clamd,
      "scan with the clamd at this socket path or IP:PORT (\"\": no scan), in place of [filter] "
      "clamd");
  auto& own = in.keep<std::vector<std::string>>();
  explain->add_option("--own-domain", own,
                      "a domain whose lookalikes are flagged, as the MX flags its hosted domains' "
                      "(repeatable)");
  // Works without a configuration file: the built-in [filter] settings are used then, and clamd
  // is asked only when --clamd names it.
  in.runs(explain, [&in, explain, clamd_option, &clamd, &own] {
    const bool named =
        explain->get_option("--config")->count() > 0 || std::getenv("SEALPOST_CONFIG") != nullptr;
    const bool defaults = !named && !std::filesystem::exists(in.config);
    core::Config config = defaults ? core::Config{} : core::load_config(in.config);
    if (clamd_option->count() > 0) {
      config.filter.clamd = clamd;
    } else if (defaults) {
      config.filter.clamd.clear();
    }
    return cli::filter_explain(std::cin, std::cout, config,
                               defaults ? "the built-in defaults" : in.config, own);
  });
}

void add_domain(CLI::App& domain, Invocation& in) {
  struct Values {
    std::string name;
    std::string period;
    bool check_dns = false;
    std::string filter;
    std::string spam_action;
    std::string adult;
  };
  auto& v = in.keep<Values>();
  domain.require_subcommand(1);
  auto* dadd = domain.add_subcommand("add", "host a domain");
  dadd->add_option("domain", v.name)->required();
  in.runs_as_server_user(dadd, [&in, &v] { return cli::domain_add(in.config, v.name); });
  auto* drm = domain.add_subcommand("remove", "stop hosting a domain (and drop its aliases)");
  drm->add_option("domain", v.name)->required();
  in.runs_as_server_user(drm, [&in, &v] { return cli::domain_remove(in.config, v.name); });
  auto* dret = domain.add_subcommand(
      "retention", "how long sent mail keeps its sealed content after delivery (then redacted)");
  dret->add_option("domain", v.name)->required();
  dret->add_option("period", v.period, "e.g. 30d, 12h, 0 (redact at once), or default")->required();
  in.runs_as_server_user(dret,
                         [&in, &v] { return cli::domain_retention(in.config, v.name, v.period); });
  auto* dfilter = domain.add_subcommand(
      "filter", "a domain's own content-filter settings (without options: what applies)");
  dfilter->add_option("domain", v.name)->required();
  dfilter->add_option("--filter", v.filter, "check the domain's mail (on), or not (off)")
      ->check(CLI::IsMember({"on", "off", "default"}));
  dfilter
      ->add_option("--action-spam", v.spam_action,
                   "what mail at [filter] reject_score gets: refused (reject) or kept as junk")
      ->check(CLI::IsMember({"reject", "junk", "default"}));
  dfilter
      ->add_option("--adult", v.adult,
                   "adult-content protection: ask the family-filter resolver (on) or not (off)")
      ->check(CLI::IsMember({"on", "off", "default"}));
  in.runs_as_server_user(dfilter, [&in, &v] {
    return cli::domain_filter(in.config, v.name, v.filter, v.spam_action, v.adult);
  });
  auto* dls = domain.add_subcommand("list", "list hosted domains");
  in.runs_as_server_user(dls, [&in] { return cli::domain_list(in.config); });

  auto* ddns = domain.add_subcommand("dns", "print the DNS records to publish for a domain");
  ddns->add_option("domain", v.name)->required();
  ddns->add_flag("--check", v.check_dns, "look each record up and say whether it is published");
  in.runs_as_server_user(ddns,
                         [&in, &v] { return cli::domain_dns(in.config, v.name, v.check_dns); });
}

void add_dkim(CLI::App& dkim, Invocation& in) {
  struct Values {
    std::string domain;
    int publish_hours = 48;
    int grace_days = 7;
  };
  auto& v = in.keep<Values>();
  dkim.require_subcommand(1);
  auto* drot = dkim.add_subcommand("rotate", "new keys for a domain; the old ones retire later");
  drot->add_option("domain", v.domain)->required();
  drot->add_option("--publish-hours", v.publish_hours, "hours before signing with the new keys")
      ->capture_default_str()
      ->check(CLI::Range(0, 24 * 30));
  drot->add_option("--grace-days", v.grace_days, "days the old keys stay published afterwards")
      ->capture_default_str()
      ->check(CLI::Range(0, 365));
  in.runs_as_server_user(drot, [&in, &v] {
    return cli::dkim_rotate(in.config, v.domain, v.publish_hours, v.grace_days);
  });
  auto* dlist = dkim.add_subcommand("list", "a domain's DKIM selectors and their state");
  dlist->add_option("domain", v.domain)->required();
  in.runs_as_server_user(dlist, [&in, &v] { return cli::dkim_list(in.config, v.domain); });
  auto* dsign = dkim.add_subcommand("sign", "sign a message (stdin) with a domain's keys");
  dsign->add_option("domain", v.domain)->required();
  in.runs_as_server_user(dsign, [&in, &v] { return cli::dkim_sign(in.config, v.domain); });
  auto* dver = dkim.add_subcommand("verify", "verify a message's DKIM signatures (stdin)");
  in.runs(dver, [&in] { return cli::dkim_verify(in.config); });
}

void add_dns(CLI::App& dns, Invocation& in) {
  struct Values {
    std::string name;
    std::string rrtype = "TXT";
  };
  auto& v = in.keep<Values>();
  dns.require_subcommand(1);
  auto* lookup = dns.add_subcommand("lookup", "look a name up, with its DNSSEC status");
  lookup->add_option("name", v.name)->required();
  lookup->add_option("--type", v.rrtype, "TXT, A, AAAA, MX, PTR or TLSA")->capture_default_str();
  in.runs(lookup, [&in, &v] { return cli::dns_lookup(in.config, v.name, v.rrtype); });
}

// `sealpost mailbox app-password ...`, within the mailbox group.
void add_app_password(CLI::App& mailbox, Invocation& in) {
  struct Values {
    std::string address;
    std::string label;
    std::string password_file;
  };
  auto& v = in.keep<Values>();
  auto* apw = mailbox.add_subcommand("app-password", "passwords for mail clients, each revocable")
                  ->require_subcommand(1);
  auto* apadd = apw->add_subcommand("add", "create an app password (printed once)");
  apadd->add_option("address", v.address)->required();
  apadd->add_option("--name", v.label, "what it is for, e.g. phone")->required();
  apadd->add_option("--password-file", v.password_file, "the mailbox password, from FILE");
  in.runs_as_server_user(apadd, [&in, &v] {
    return cli::app_password_add(in.config, v.address, v.password_file, v.label);
  });
  auto* apls = apw->add_subcommand("list", "a mailbox's app passwords");
  apls->add_option("address", v.address)->required();
  in.runs_as_server_user(apls, [&in, &v] { return cli::app_password_list(in.config, v.address); });
  auto* aprm = apw->add_subcommand("revoke", "revoke an app password");
  aprm->add_option("address", v.address)->required();
  aprm->add_option("name", v.label)->required();
  in.runs_as_server_user(
      aprm, [&in, &v] { return cli::app_password_revoke(in.config, v.address, v.label); });
}

void add_mailbox(CLI::App& mbox, Invocation& in) {
  struct Values {
    std::string name;
    std::string password_file;
    std::string new_password_file;
    bool rekey = false;
    std::string size;
    std::string format = "mbox";
    std::filesystem::path out;
    bool encrypted = false;
    bool force = false;
    std::string folder;
    std::filesystem::path source;
  };
  auto& v = in.keep<Values>();
  mbox.require_subcommand(1);
  auto* madd = mbox.add_subcommand("add", "create an encrypted mailbox for an address");
  madd->add_option("address", v.name)->required();
  madd->add_option("--password-file", v.password_file,
                   "read the password from the first line of FILE (default: prompt)");
  in.runs_as_server_user(
      madd, [&in, &v] { return cli::mailbox_add(in.config, v.name, v.password_file); });
  auto* mdel = mbox.add_subcommand("delete", "delete a mailbox and its files");
  mdel->add_option("address", v.name)->required();
  in.runs_as_server_user(mdel, [&in, &v] { return cli::mailbox_delete(in.config, v.name); });
  auto* mls = mbox.add_subcommand("list", "a domain's mailboxes");
  mls->add_option("domain", v.name)->required();
  in.runs_as_server_user(mls, [&in, &v] { return cli::mailbox_list(in.config, v.name); });
  auto* mchk = mbox.add_subcommand("check", "check a mailbox password");
  mchk->add_option("address", v.name)->required();
  mchk->add_option("--password-file", v.password_file, "read the password from FILE");
  in.runs_as_server_user(
      mchk, [&in, &v] { return cli::mailbox_check(in.config, v.name, v.password_file); });

  auto* mpw = mbox.add_subcommand("passwd",
                                  "change a mailbox's password (with --rekey, its data's key too)");
  mpw->add_option("address", v.name)->required();
  mpw->add_option("--password-file", v.password_file, "the current password, from FILE");
  mpw->add_option("--new-password-file", v.new_password_file, "the new password, from FILE");
  mpw->add_flag("--rekey", v.rekey,
                "re-encrypt the mailbox under a new key, so that an old copy of the metadata and "
                "the old password open none of its mail (app passwords are revoked)");
  in.runs(mpw, [&in, &v] {
    return cli::mailbox_passwd(in.config, v.name, v.password_file, v.new_password_file, v.rekey);
  });

  auto* mquota = mbox.add_subcommand("quota", "set a mailbox's quota (0: none)");
  mquota->add_option("address", v.name)->required();
  mquota->add_option("size", v.size, "bytes, or with a unit: 500M, 2G")->required();
  in.runs_as_server_user(mquota,
                         [&in, &v] { return cli::mailbox_quota(in.config, v.name, v.size); });

  auto* mexp = mbox.add_subcommand("export", "export a mailbox as mbox, EML files or SQLite");
  mexp->add_option("address", v.name)->required();
  mexp->add_option("--format", v.format, "mbox (mboxrd), eml or sqlite")
      ->check(CLI::IsMember({"mbox", "eml", "sqlite"}))
      ->capture_default_str();
  mexp->add_option("-o,--output", v.out,
                   "mbox: a directory of <folder>.mbox files (a file with --folder); eml: a "
                   "directory; sqlite: a new file")
      ->required();
  mexp->add_flag("--encrypted", v.encrypted, "sqlite: keep the copy encrypted");
  mexp->add_flag("--force", v.force, "replace output files that exist (refused otherwise)");
  mexp->add_option("--folder", v.folder, "mbox: only this folder");
  mexp->add_option("--password-file", v.password_file, "read the password from FILE");
  in.runs_as_server_user(mexp, [&in, &v] {
    return cli::mailbox_export(in.config, v.name, v.password_file, v.format, v.out, v.encrypted,
                               v.folder, v.force);
  });
  auto* mimp = mbox.add_subcommand("import", "import an mbox file or a Maildir");
  mimp->add_option("address", v.name)->required();
  mimp->add_option("path", v.source, "an mbox file, a Maildir, or a directory of .mbox files")
      ->required();
  mimp->add_option("--folder", v.folder, "where an mbox file's messages go (default INBOX)");
  mimp->add_option("--password-file", v.password_file, "read the password from FILE");
  in.runs(mimp, [&in, &v] {
    return cli::mailbox_import(in.config, v.name, v.password_file, v.source, v.folder);
  });

  add_app_password(mbox, in);
}

void add_alias(CLI::App& alias, Invocation& in) {
  struct Values {
    std::string name;
    std::vector<std::string> forwards;
  };
  auto& v = in.keep<Values>();
  alias.require_subcommand(1);
  auto* aadd = alias.add_subcommand("add", "add an alias, or destinations to one");
  aadd->add_option("address", v.name, "local@domain, or *@domain for a catch-all")->required();
  aadd->add_option("--forward", v.forwards, "destination address (repeatable)")->required();
  in.runs_as_server_user(aadd, [&in, &v] { return cli::alias_add(in.config, v.name, v.forwards); });
  auto* arm = alias.add_subcommand("remove", "remove an alias");
  arm->add_option("address", v.name)->required();
  in.runs_as_server_user(arm, [&in, &v] { return cli::alias_remove(in.config, v.name); });
  auto* als = alias.add_subcommand("list", "list a domain's aliases");
  als->add_option("domain", v.name)->required();
  in.runs_as_server_user(als, [&in, &v] { return cli::alias_list(in.config, v.name); });
}

void add_queue(CLI::App& q, Invocation& in) {
  struct Values {
    std::string entry;
    bool all = false;
  };
  auto& v = in.keep<Values>();
  q.require_subcommand(1);
  auto* qls = q.add_subcommand("list", "queued and recently sent messages, newest first");
  in.runs_as_server_user(qls, [&in] { return cli::queue_list(in.config); });
  auto* qstats = q.add_subcommand("stats", "recipients by state and bounce category (metrics)");
  in.runs_as_server_user(qstats, [&in] { return cli::queue_stats(in.config); });
  auto* qshow = q.add_subcommand("show", "one entry: envelope, each recipient's state, content");
  qshow->add_option("id", v.entry, "the ID `queue list` prints")->required();
  in.runs_as_server_user(qshow, [&in, &v] { return cli::queue_show(in.config, v.entry); });
  auto* qretry = q.add_subcommand("retry", "make pending recipients due now");
  qretry->add_option("id", v.entry, "the ID `queue list` prints");
  qretry->add_flag("--all", v.all, "every pending entry");
  in.runs_as_server_user(qretry, [&in, &v] { return cli::queue_retry(in.config, v.entry, v.all); });
  auto* qdrop = q.add_subcommand("drop", "delete an entry (no bounce is sent)");
  qdrop->add_option("id", v.entry, "the ID `queue list` prints")->required();
  in.runs_as_server_user(qdrop, [&in, &v] { return cli::queue_drop(in.config, v.entry); });
}

struct CommandGroup {
  const char* name;
  const char* usage;  // its line in `sealpost --help`
  void (*add)(CLI::App& group, Invocation& in);
};

constexpr CommandGroup kCommandGroups[] = {
    {"serve", "run the mail server", add_serve},
    {"demo", "run a self-contained demo on 127.0.0.1", add_demo},
    {"config", "configuration", add_config},
    {"domain", "hosted domains", add_domain},
    {"dkim", "DKIM keys", add_dkim},
    {"dns", "DNS as the server sees it", add_dns},
    {"mailbox", "sealed mailboxes", add_mailbox},
    {"alias", "forwarding aliases", add_alias},
    {"queue", "the outbound queue", add_queue},
    {"filter", "the content filter", add_filter},
};

}  // namespace
}  // namespace sealpost::cli

int main(int argc, char** argv) {
  using namespace sealpost;
  // Without TZ, glibc checks /etc/localtime again (a stat, or a read) at every localtime() and
  // mktime(), which libarchive calls for each zip member the filter reads: name it once, before
  // any thread starts. (A change of the system's zone is seen at the next start.)
  ::setenv("TZ", ":/etc/localtime", 0);
  try {
    cli::harden_process();
  } catch (const std::exception& e) {
    std::cerr << "sealpost: " << e.what() << "\n";
    return 1;
  }
  CLI::App app{"Sealpost: a privacy-first mail server"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("sealpost ") + SEALPOST_VERSION);

  cli::Invocation in;
  for (const auto& group : cli::kCommandGroups)
    group.add(*app.add_subcommand(group.name, group.usage), in);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "sealpost: " << e.what() << "\n";
    return 1;
  }
  return in.status;
}
