// Delivery into sealed mailboxes, and opening a big one. Writes the messages it delivers to
// DIR/messages/ so that bench/mailbox.sh can give Dovecot's LDA exactly the same input.
//
//   sealpost_bench_mailbox DIR [MESSAGES] [OPEN_MESSAGES]
//
// Prints, for MESSAGES messages delivered one by one (each durable before the next, as the MX
// does before it answers 250): the rate into an encrypted mailbox (MIME structure, zstd, FTS,
// commit with synchronous=FULL), into the same store unencrypted, and into a locked mailbox's
// sealed spool (seal + fsync). Then builds a mailbox of OPEN_MESSAGES messages and times opening
// it as a login does: the key, the schema check, the folder list and INBOX's UIDs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "crypto/mailbox_keys.hpp"
#include "store/mailbox/encrypted_db.hpp"
#include "store/mailbox/facts.hpp"
#include "store/mailbox/local_delivery.hpp"
#include "store/mailbox/message_store.hpp"
#include "store/mailbox/spool.hpp"

using namespace sealpost;
using namespace sealpost::store::mailbox;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

// A mix like real mail: plain text of 1-12 KB, and every fourth message a multipart with a
// base64 attachment of ~30 KB. Deterministic, so runs compare.
std::vector<std::string> make_messages(std::size_t n) {
  static constexpr std::string_view kWords[] = {
      "meeting", "report",  "quarterly", "numbers", "please", "review", "attached",
      "thanks",  "project", "deadline",  "update",  "team",   "budget", "invoice"};
  std::vector<std::string> out;
  out.reserve(n);
  std::uint32_t seed = 12345;
  const auto next = [&seed] {
    seed = seed * 1103515245 + 12345;
    return (seed >> 16) & 0x7fff;
  };
  for (std::size_t i = 0; i < n; ++i) {
    std::string m = "Return-Path: <sender" + std::to_string(i % 50) + "@example.org>\r\n";
    m += "Received: from mx.example.org (mx.example.org [192.0.2.1]) by mx.sealpost.test\r\n";
    m += "Date: Wed, 25 Nov 2026 07:" + std::to_string(10 + i % 50) + ":00 +0000\r\n";
    m += "From: Sender " + std::to_string(i % 50) + " <sender" + std::to_string(i % 50) +
         "@example.org>\r\nTo: alice@example.com\r\n";
    m += "Subject: " + std::string(kWords[i % 14]) + " " + std::string(kWords[(i / 3) % 14]) +
         " #" + std::to_string(i) + "\r\n";
    m += "Message-ID: <bench-" + std::to_string(i) + "@example.org>\r\n";
    if (i % 5 != 0) m += "In-Reply-To: <bench-" + std::to_string(i - i % 5) + "@example.org>\r\n";
    m += "MIME-Version: 1.0\r\n";
    const bool multipart = i % 4 == 3;
    std::string text;
    const std::size_t text_size = 1024 + (next() % 11) * 1024;
    while (text.size() < text_size) {
      for (int w = 0; w < 10; ++w) {
        text += kWords[next() % 14];
        text += ' ';
      }
      text += "\r\n";
    }
    if (!multipart) {
      m += "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text;
    } else {
      m += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\r\n\r\n";
      m += "--b" + std::to_string(i) + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
           text + "\r\n";
      m += "--b" + std::to_string(i) +
           "\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n"
           "Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n";
      static constexpr std::string_view kB64 =
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      for (int line = 0; line < 400; ++line) {
        for (int c = 0; c < 76; ++c) m += kB64[next() % 64];
        m += "\r\n";
      }
      m += "--b" + std::to_string(i) + "--\r\n";
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::unique_ptr<store::sqlite::Database> open_plain(const fs::path& file) {
  auto db = std::make_unique<store::sqlite::Database>(file.string());
  db->exec("PRAGMA auto_vacuum = FULL; PRAGMA encoding = 'UTF-8';");
  db->exec(
      "PRAGMA journal_mode = WAL; PRAGMA secure_delete = ON; PRAGMA synchronous = NORMAL;"
      "PRAGMA foreign_keys = ON; PRAGMA temp_store = 1;");
  db->optimize_on_close();
  return db;
}

double cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Rate {
  double per_second = 0;  // wall clock, fsync included
  double cpu_us = 0;      // CPU time per message (user + system)
};

// What the MX does per message into an open mailbox (deliver_local's open path).
Rate deliver_all(MessageStore& store, const std::vector<std::string>& messages) {
  const auto start = Clock::now();
  const double cpu = cpu_seconds();
  for (const auto& raw : messages) {
    const auto inbox = store.special_folder(SpecialUse::kInbox);
    const auto facts = message_facts(raw);
    NewMessage m;
    m.raw = raw;
    m.internal_date = 1795000000;
    m.facts = facts ? &*facts : nullptr;
    (void)store.append(inbox.id, m);
  }
  const auto n = static_cast<double>(messages.size());
  return {n / std::chrono::duration<double>(Clock::now() - start).count(),
          (cpu_seconds() - cpu) * 1e6 / n};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [MESSAGES] [OPEN_MESSAGES]\n", argv[0]);
    return 2;
  }
  const fs::path dir = argv[1];
  const std::size_t count = argc > 2 ? std::stoul(argv[2]) : 1000;
  const std::size_t open_count = argc > 3 ? std::stoul(argv[3]) : 100000;
  fs::remove_all(dir);
  fs::create_directories(dir / "messages");
  const auto messages = make_messages(count);
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    std::ofstream(dir / "messages" / (std::to_string(i) + ".eml"), std::ios::binary) << messages[i];
    bytes += messages[i].size();
  }
  std::printf("messages: %zu, %.1f KiB on average\n", count, bytes / 1024.0 / count);

  // Three rounds, alternating which store goes first, each into a new file: fsync times on a
  // virtual disk vary from run to run, so the medians are compared, and the CPU time per
  // message (which fsync waits do not inflate) too.
  const auto key = crypto::new_master_key();
  std::vector<double> enc_rate, plain_rate, enc_cpu, plain_cpu;
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 2; ++k) {
      const bool encrypted = (k == 0) == (round % 2 == 0);
      const auto file = dir / ((encrypted ? "encrypted" : "plain") + std::to_string(round) + ".db");
      MessageStore store(encrypted ? open_encrypted(file, key) : open_plain(file));
      const Rate r = deliver_all(store, messages);
      (encrypted ? enc_rate : plain_rate).push_back(r.per_second);
      (encrypted ? enc_cpu : plain_cpu).push_back(r.cpu_us);
    }
  }
  const double encrypted = median(enc_rate);
  const double plain = median(plain_rate);
  std::printf("deliveries/s encrypted mailbox: %.0f (CPU %.0f us/message)\n", encrypted,
              median(enc_cpu));
  std::printf("deliveries/s unencrypted store: %.0f (CPU %.0f us/message)\n", plain,
              median(plain_cpu));
  std::printf("encryption cost: %.1f%% of the rate, %.1f%% more CPU\n",
              (1.0 - encrypted / plain) * 100.0, (median(enc_cpu) / median(plain_cpu) - 1) * 100);

  // A locked mailbox: seal to its public key, append, fsync.
  {
    const auto keys = crypto::SpoolKeys::generate();
    const auto start = Clock::now();
    for (const auto& raw : messages) {
      const std::string payload = encode_spool_payload({1795000000, false, raw});
      (void)append_to_spool(dir / "locked.spool", crypto::seal_to(keys.public_key, payload));
    }
    std::printf(
        "deliveries/s locked mailbox (sealed spool): %.0f\n",
        static_cast<double>(count) / std::chrono::duration<double>(Clock::now() - start).count());
  }

  // A big mailbox, built in large batches, then opened as a login opens it.
  if (open_count > 0) {
    const fs::path big = dir / "big.db";
    {
      MessageStore store(open_encrypted(big, key));
      const auto inbox = store.special_folder(SpecialUse::kInbox);
      std::vector<std::optional<MessageFacts>> facts;
      for (const auto& raw : messages) facts.push_back(message_facts(raw));
      std::vector<NewMessage> batch;
      for (std::size_t i = 0; i < open_count; ++i) {
        NewMessage m;
        m.raw = messages[i % messages.size()];
        m.internal_date = 1795000000 + static_cast<std::int64_t>(i);
        m.flags = i % 3 == 0 ? 0 : kSeen;
        m.facts = facts[i % messages.size()] ? &*facts[i % messages.size()] : nullptr;
        batch.push_back(m);
        if (batch.size() == 5000) {
          (void)store.append(inbox.id, batch);
          batch.clear();
        }
      }
      if (!batch.empty()) (void)store.append(inbox.id, batch);
    }
    std::printf("mailbox of %zu messages: %.0f MiB\n", open_count,
                static_cast<double>(fs::file_size(big)) / (1 << 20));
    std::vector<double> times;
    std::size_t seen = 0;
    for (int run = 0; run < 7; ++run) {
      const auto start = Clock::now();
      MessageStore store(open_encrypted(big, key));
      const auto folders = store.folders();
      const auto inbox = store.special_folder(SpecialUse::kInbox);
      seen = store.uids(inbox.id).size();
      times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      (void)folders;
    }
    std::printf("open (key, schema, folders, INBOX's %zu UIDs): median %.1f ms, first %.1f ms\n",
                seen, median(times), times.front());
  }
  return 0;
}
