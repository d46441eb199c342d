// Compiled as part of the mime module (see CMakeLists.txt, "layering"): mime sits below smtp, so
// this include must not be found, and the build of this probe must fail.
#include "smtp/protocol/reply.hpp"
