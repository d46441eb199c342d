#include "auth/dkim/canon.hpp"

#include "core/strings.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SEALPOST_CANON_AVX512 1
#endif

namespace sealpost::auth::dkim {

namespace {

// Relaxed body canonicalisation (RFC 6376 section 3.4.4) writes into a buffer sized for the body
// (it only ever shrinks it) through a pointer: appending byte by byte to a std::string costs more
// than hashing the result. Each run of WSP becomes one space, none when the run ends its line
// (CRLF follows) or the body.
//
// Byte by byte, from `p` to `end`: the portable path, and the tail of the vector one.
char* relaxed_scalar(const char* p, const char* end, char* o) {
  while (p < end) {
    if (!is_wsp(*p)) {
      *o++ = *p++;
      continue;
    }
    do ++p;
    while (p < end && is_wsp(*p));
    if (p == end || (*p == '\r' && p + 1 < end && p[1] == '\n')) continue;
    *o++ = ' ';
  }
  return o;
}

#ifdef SEALPOST_CANON_AVX512
// 64 bytes at a time with AVX-512 VBMI2's byte compression: a run's space is written at its last
// byte (where the next byte, read by an overlapping load, is no WSP) unless CRLF follows. Stops
// where fewer than 66 bytes are left (the two bytes of lookahead stay inside the body) and returns
// how far it got; `o` needs 64 bytes of slack past what it writes. A run cut by the stop loses
// nothing: its earlier bytes were dropped here and relaxed_scalar writes its one space.
__attribute__((target("avx512f,avx512bw,avx512vbmi2,popcnt"))) const char* relaxed_avx512(
    const char* p, const char* end, char*& o) {
  const __m512i space = _mm512_set1_epi8(' ');
  const __m512i tab = _mm512_set1_epi8('\t');
  const __m512i cr = _mm512_set1_epi8('\r');
  const __m512i lf = _mm512_set1_epi8('\n');
  while (end - p >= 66) {
    const __m512i v0 = _mm512_loadu_si512(p);
    const __m512i v1 = _mm512_loadu_si512(p + 1);
    const __m512i v2 = _mm512_loadu_si512(p + 2);
    const __mmask64 wsp = _mm512_cmpeq_epi8_mask(v0, space) | _mm512_cmpeq_epi8_mask(v0, tab);
    const __mmask64 wsp_next = _mm512_cmpeq_epi8_mask(v1, space) | _mm512_cmpeq_epi8_mask(v1, tab);
    const __mmask64 crlf_next = _mm512_cmpeq_epi8_mask(v1, cr) & _mm512_cmpeq_epi8_mask(v2, lf);
    const __mmask64 keep = ~wsp | (wsp & ~wsp_next & ~crlf_next);
    const __m512i spaced = _mm512_mask_mov_epi8(v0, wsp, space);
    // A compress into a register and a full store: the compressing store is slow on some CPUs.
    _mm512_storeu_si512(o, _mm512_maskz_compress_epi8(keep, spaced));
    o += _mm_popcnt_u64(keep);
    p += 64;
  }
  return p;
}

bool has_avx512_vbmi2() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vbmi2");
  return has;
}
#endif

// No empty lines at the end, for both canonicalisations (sections 3.4.3, 3.4.4).
void finish_body(Canon c, std::string& out) {
  while (out.ends_with("\r\n\r\n")) out.resize(out.size() - 2);
  if (out == "\r\n") out.clear();
  if (c == Canon::kSimple && out.empty()) out = "\r\n";
}

std::string canonical_body_with(Canon c, std::string_view body, bool vector) {
  std::string out;
  if (c == Canon::kSimple) {
    out.reserve(body.size() + 2);
    out.assign(body);
  } else {
    out.resize(body.size() + 64);  // the vector path's slack
    const char* p = body.data();
    const char* const end = p + body.size();
    char* o = out.data();
#ifdef SEALPOST_CANON_AVX512
    if (vector && has_avx512_vbmi2()) p = relaxed_avx512(p, end, o);
#else
    (void)vector;
#endif
    o = relaxed_scalar(p, end, o);
    out.resize(static_cast<std::size_t>(o - out.data()));
  }
  if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";  // a last line without CRLF
  finish_body(c, out);
  return out;
}

}  // namespace

void canonical_header(Canon c, std::string_view name, std::string_view raw, std::string& out) {
  if (c == Canon::kSimple) {
    out += raw;
    return;
  }
  std::string_view value = raw.substr(raw.find(':') + 1);
  if (value.ends_with("\r\n")) value.remove_suffix(2);
  // Written through a pointer into room for all of it, then cut to what was written (as the body).
  const std::size_t start = out.size();
  out.resize(start + name.size() + 1 + value.size() + 2);
  char* o = out.data() + start;
  for (char ch : name) *o++ = ascii_lower(ch);
  *o++ = ':';
  // Unfold, reduce whitespace, and drop it at both ends of the value (section 3.4.2), in one pass.
  bool started = false;  // past the leading whitespace
  bool space = false;    // a run of WSP waits for the next character
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char ch = value[i];
    if (ch == '\r' && i + 1 < value.size() && value[i + 1] == '\n') {
      ++i;
      continue;
    }
    if (is_wsp(ch)) {
      space = started;
      continue;
    }
    if (space) *o++ = ' ';
    space = false;
    started = true;
    *o++ = ch;
  }
  *o++ = '\r';
  *o++ = '\n';
  out.resize(static_cast<std::size_t>(o - out.data()));
}

std::string canonical_body(Canon c, std::string_view body) {
  return canonical_body_with(c, body, true);
}

namespace detail {

std::string canonical_body_portable(Canon c, std::string_view body) {
  return canonical_body_with(c, body, false);
}

}  // namespace detail

}  // namespace sealpost::auth::dkim
