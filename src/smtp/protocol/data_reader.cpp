#include "smtp/protocol/data_reader.hpp"

#include <cstring>

namespace sealpost::smtp::protocol {

void DataReader::emit(std::string_view bytes, std::string& out) {
  const std::size_t before = content_size_;
  content_size_ += bytes.size();
  if (oversize_) return;
  if (content_size_ > max_size_) {
    // Keep exactly the first max_size_ octets, however the input was split.
    out.append(bytes.substr(0, max_size_ - before));
    oversize_ = true;
    return;
  }
  out.append(bytes);
}

std::size_t DataReader::feed(std::string_view input, std::string& out) {
  std::size_t i = 0;
  const std::size_t n = input.size();
  while (i < n && state_ != State::kDone) {
    switch (state_) {
      case State::kLineStart:
        if (input[i] == '.') {
          state_ = State::kDot;
          ++i;
        } else {
          state_ = State::kText;
        }
        break;
      case State::kDot:
        if (input[i] == '\r') {
          state_ = State::kDotCr;
          ++i;
        } else {
          // Dot-stuffing: a leading dot followed by anything else is removed.
          state_ = State::kText;
        }
        break;
      case State::kDotCr:
        if (input[i] == '\n') {
          state_ = State::kDone;
          ++i;
        } else {
          // ".<CR>" followed by something other than LF: a bare CR, not an end marker.
          bare_line_ending_ = true;
          emit("\r", out);
          state_ = State::kText;
        }
        break;
      case State::kText: {
        // Copy the run of ordinary octets in one go.
        const char* start = input.data() + i;
        std::size_t run = 0;
        while (i + run < n && start[run] != '\r' && start[run] != '\n') ++run;
        if (run > 0) emit(std::string_view(start, run), out);
        i += run;
        if (i == n) break;
        if (input[i] == '\r') {
          state_ = State::kCr;
        } else {
          bare_line_ending_ = true;  // bare LF: kept as data, never a line start
          emit("\n", out);
        }
        ++i;
        break;
      }
      case State::kCr:
        if (input[i] == '\n') {
          emit("\r\n", out);
          state_ = State::kLineStart;
          ++i;
        } else {
          bare_line_ending_ = true;  // bare CR: kept as data, never a line start
          emit("\r", out);
          state_ = State::kText;
        }
        break;
      case State::kDone:
        break;
    }
  }
  return i;
}

bool has_bare_line_ending(std::string_view content) noexcept {
  for (std::size_t i = 0; i < content.size(); ++i) {
    if (content[i] == '\r') {
      if (i + 1 >= content.size() || content[i + 1] != '\n') return true;
      ++i;
    } else if (content[i] == '\n') {
      return true;
    }
  }
  return false;
}

}  // namespace sealpost::smtp::protocol
