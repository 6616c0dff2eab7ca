// Cancelling an Asio timer where nothing may throw (stop(), destructors): cancel() throws
// boost::system::system_error only when the operating system refuses, and a stopping part has
// nothing better to do then than go on stopping.
#ifndef CASEWATCH_DAEMON_CANCEL_H_
#define CASEWATCH_DAEMON_CANCEL_H_

#include <exception>

namespace service {

template <class Timer>
void cancel_quietly(Timer& timer) noexcept {
  try {
    timer.cancel();
  } catch (const std::exception&) {  // see above
  }
}

}  // namespace service

#endif  // CASEWATCH_DAEMON_CANCEL_H_
