// The control for upward.cpp: the same module may include what it names (core), so this probe
// builds. Together they show that the upward probe fails for its include, not for its setup.
#include "core/strings.hpp"
#include "mime/message.hpp"
