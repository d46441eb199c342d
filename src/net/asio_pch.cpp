// The translation unit that precompiles asio_pch.hpp for the modules (CMakeLists.txt).
