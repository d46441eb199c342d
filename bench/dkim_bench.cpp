// DKIM signing and verification rates (RSA-2048 and Ed25519) on one message, with the keys in an
// in-memory zone (no DNS time) and parsed keys kept across messages as the server keeps them.
// Writes the message, keys and signed copies to DIR so that bench/dkim_bench.py can time dkimpy on
// exactly the same input.
//
//   sealpost_bench_dkim DIR [SECONDS]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "auth/dkim/dkim.hpp"
#include "auth/dkim/key_cache.hpp"
#include "dns/memory_zone.hpp"
#include "testing/async.hpp"

using namespace sealpost;
using Clock = std::chrono::steady_clock;

namespace {

std::string make_message() {
  std::string m =
      "From: Alice Example <alice@example.com>\r\nTo: bob@example.net\r\n"
      "Subject: a benchmark message of some four kilobytes\r\n"
      "Date: Wed, 25 Nov 2026 07:00:00 +0000\r\nMessage-ID: <bench-1@example.com>\r\n"
      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
  while (m.size() < 4096) {
    m += "The quick brown fox jumps over the lazy dog;  tabs\tand  spaces  vary here.\r\n";
  }
  return m;
}

void write(const std::filesystem::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

template <class F>
double rate(double seconds, F&& f) {
  const auto start = Clock::now();
  long n = 0;
  while (since(start) < seconds) {
    f();
    ++n;
  }
  return n / since(start);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [SECONDS]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const double seconds = argc > 2 ? std::stod(argv[2]) : 3.0;
  std::filesystem::create_directories(dir);
  const std::string message = make_message();
  write(dir / "message.eml", message);

  for (const auto alg :
       {auth::dkim::Algorithm::kRsaSha256, auth::dkim::Algorithm::kEd25519Sha256}) {
    const bool rsa = alg == auth::dkim::Algorithm::kRsaSha256;
    const std::string name = rsa ? "rsa" : "ed25519";
    const auto key = auth::dkim::SigningKey::generate(alg);
    if (!key) return 1;
    auth::dkim::SignOptions o;
    o.domain = "example.com";
    o.selector = name;
    const auto field = auth::dkim::sign(message, *key, o);
    if (!field) return 1;
    write(dir / (name + ".pem"), key->private_pem());
    write(dir / (name + ".txt"), key->dns_record());
    write(dir / (name + ".signed.eml"), *field + message);

    dns::MemoryZone zone;
    zone.node(name + "._domainkey.example.com").txt = {key->dns_record()};
    const std::string signed_message = *field + message;
    auth::dkim::KeyCache keys;
    auth::dkim::VerifyOptions verify_options;
    verify_options.key_cache = &keys;
    const double sign_rate = rate(seconds, [&] { (void)auth::dkim::sign(message, *key, o); });
    // Verifications run inside one coroutine, as a server session awaits them: one io_context for
    // the run rather than one per message, whose set-up is no part of verifying.
    long verified = 0;
    long passed = 0;
    const double verify_rate = testing::run_sync([&]() -> boost::asio::awaitable<double> {
      const auto start = Clock::now();
      while (since(start) < seconds) {
        const auto r = co_await auth::dkim::verify(zone, signed_message, verify_options);
        passed += (!r.empty() && r[0].status == auth::dkim::Status::kPass) ? 1 : 0;
        ++verified;
      }
      co_return verified / since(start);
    }());
    if (passed != verified) {
      std::fprintf(stderr, "%s: verification failed\n", name.c_str());
      return 1;
    }
    std::printf("sealpost %-8s sign %8.0f /s   verify %8.0f /s\n", name.c_str(), sign_rate,
                verify_rate);
  }
  return 0;
}
