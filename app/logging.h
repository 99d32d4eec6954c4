// Log set-up of the executables: level (LOG_LEVEL) and format (LOG_FORMAT). In JSON format every
// line is one object {"time","level","logger","msg"} (the access log writes its own objects).
#pragma once

#include "core/config.h"

namespace sb {

void configureLogging(const Config& config);

}  // namespace sb
