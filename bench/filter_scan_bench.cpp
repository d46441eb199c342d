// The filter's offline checks (filter/message_scan.hpp: MIME parsing, links, HTML, attachments,
// archives, lookalikes) on each message given, in a loop: what one message costs the MX before
// any DNS or clamd. For profiling (`perf record -g build/sealpost_bench_filter_scan ...`) and for
// the before/after figures of a change; bench/filter.sh measures the whole MX.
//
//   sealpost_bench_filter_scan [--seconds S] [--psl FILE] MESSAGE.eml...
//   (bench/filter_load.py --write-samples DIR writes one message of each kind the load sends)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "auth/dmarc/public_suffix.hpp"
#include "filter/lookalike.hpp"
#include "filter/message_scan.hpp"
#include "mime/message.hpp"

using namespace sealpost;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  ::setenv("TZ", ":/etc/localtime", 0);  // as sealpost's main() does
  double seconds = 1;
  std::string psl_path = "/usr/share/publicsuffix/public_suffix_list.dat";
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::stod(argv[++i]);
    } else if (arg == "--psl" && i + 1 < argc) {
      psl_path = argv[++i];
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s [--seconds S] [--psl FILE] MESSAGE.eml...\n", argv[0]);
    return 2;
  }
  const auto psl = auth::dmarc::PublicSuffixList::load(psl_path);
  if (!psl) {
    std::fprintf(stderr, "cannot load the public suffix list %s\n", psl_path.c_str());
    return 1;
  }
  const filter::ProtectedDomains protect(*psl, {"bench.test"});
  std::printf("%-24s %10s %10s %9s\n", "message", "octets", "us/message", "findings");
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string raw = ss.str();
    long n = 0;
    std::size_t findings = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    while (elapsed < seconds) {
      const auto message = mime::parse_message(raw);
      if (!message) break;
      findings = filter::scan_message(*message, {}, &*psl, &protect).findings.size();
      ++n;
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    }
    const std::string name = file.substr(file.find_last_of('/') + 1);
    std::printf("%-24s %10zu %10.1f %9zu\n", name.c_str(), raw.size(),
                n == 0 ? 0.0 : elapsed * 1e6 / static_cast<double>(n), findings);
  }
  return 0;
}
