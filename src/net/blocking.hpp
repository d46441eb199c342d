// Runs blocking work (SQLite, zstd, fsync, Argon2id) on the worker pool and resumes the calling
// coroutine on its own executor with the result, or with the exception the work threw. The
// coroutine is suspended meanwhile, so the work may use its locals by reference.
#pragma once

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sealpost::net {

template <typename F, typename R = std::invoke_result_t<F&>>
boost::asio::awaitable<R> run_blocking(const boost::asio::any_io_executor& pool, F work) {
  namespace asio = boost::asio;
  using Value = std::conditional_t<std::is_void_v<R>, bool, std::optional<R>>;
  auto initiate = [&pool](auto handler, F f) {
    auto guard = asio::make_work_guard(asio::get_associated_executor(handler));
    asio::post(pool, [h = std::move(handler), f = std::move(f), g = std::move(guard)]() mutable {
      std::exception_ptr error;
      Value value{};
      try {
        if constexpr (std::is_void_v<R>) {
          f();
        } else {
          value.emplace(f());
        }
      } catch (...) {
        error = std::current_exception();
      }
      const auto ex = asio::get_associated_executor(h);
      asio::dispatch(ex, [h = std::move(h), error, v = std::move(value)]() mutable {
        std::move(h)(error, std::move(v));
      });
      g.reset();
    });
  };
  Value v = co_await asio::async_initiate<const asio::use_awaitable_t<>&,
                                          void(std::exception_ptr, Value)>(
      initiate, asio::use_awaitable, std::move(work));
  if constexpr (!std::is_void_v<R>) co_return std::move(*v);
}

}  // namespace sealpost::net
