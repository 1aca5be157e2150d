// The HTTP values of platform/js (js/http.h) under the names the runtime and the layers above it
// use: a request a client sends to a Worker, and the response.
#pragma once

#include "platform/js/http.h"

namespace runtime {

using js::HeaderList;
using js::HttpRequest;
using js::HttpResponse;

}  // namespace runtime
