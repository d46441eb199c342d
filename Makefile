# Sealpost: `make demo` and `make test` are the two commands (see README.md).
# `make` builds the release binary build/sealpost.

JOBS ?= $(shell nproc)
# Let ccache reuse objects across clones in other directories (CI builds a fresh clone).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
# ccache caches compilations that use the precompiled header only with these (else every PCH
# user is "uncacheable" and each clean clone rebuilds from scratch).
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime
CMAKE_GEN := -G Ninja
FUZZ_SECONDS ?= 5

.PHONY: all build deps deps-test demo test unit fuzz asan clean format tidy bench

all: build

deps:
	@scripts/install-deps.sh build

deps-test:
	@scripts/install-deps.sh test

build: deps
	@cmake -S . -B build $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
	@cmake --build build -j $(JOBS) --target sealpost

demo: build
	@scripts/install-deps.sh demo
	build/sealpost demo

# The test build: ASan + UBSan, every unit and integration test, then each fuzz target briefly.
asan: deps-test
	@cmake -S . -B build-asan $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DSEALPOST_SANITIZE=ON \
	  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" >/dev/null
	@cmake --build build-asan -j $(JOBS)

unit: asan
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest -j $(JOBS) --output-on-failure --timeout 600

fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B build-fuzz $(CMAKE_GEN) -DSEALPOST_FUZZ=ON \
	  -DSEALPOST_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	cd build-fuzz && ctest -j $(JOBS) --output-on-failure

test: unit fuzz

bench: build
	@scripts/install-deps.sh bench
	@cmake --build build -j $(JOBS) --target sealpost_bench_dkim sealpost_bench_mailbox sealpost_bench_filter_scan
	bench/smtp_forward.sh
	bench/auth.sh
	bench/mailbox.sh
	bench/submission.sh
	bench/filter.sh

format:
	clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.hpp' 'fuzz/*.cpp' 'bench/*.cpp')

# clang-tidy reads compile commands without g++'s precompiled headers.
tidy: deps
	@cmake -S . -B build-tidy $(CMAKE_GEN) -DCMAKE_DISABLE_PRECOMPILE_HEADERS=ON \
	  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
	run-clang-tidy -p build-tidy -quiet 'src/.*\.cpp$$'

clean:
	rm -rf build build-asan build-fuzz build-tidy
