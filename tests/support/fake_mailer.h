// A test double of service::Mailer: records every call and answers with the scripted results
// in order, then with kSent once the script is used up.
#ifndef CASEWATCH_TESTS_SUPPORT_FAKE_MAILER_H_
#define CASEWATCH_TESTS_SUPPORT_FAKE_MAILER_H_

#include <algorithm>
#include <deque>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/mailer.h"

namespace service {

class FakeMailer final : public Mailer {
 public:
  struct Sent {
    Envelope envelope;
    std::string bytes;
    SendOutcome outcome = SendOutcome::kSent;
  };

  SendResult send(const Envelope& envelope, std::string_view bytes) override {
    SendResult result;
    if (!script_.empty()) {
      result = std::move(script_.front());
      script_.pop_front();
    }
    calls_.push_back({envelope, std::string(bytes), result.outcome});
    return result;
  }

  void script(SendResult result) { script_.push_back(std::move(result)); }
  const std::vector<Sent>& calls() const { return calls_; }  // every attempt, in order

  // The accepted ones.
  std::vector<Sent> delivered() const {
    std::vector<Sent> out;
    std::copy_if(calls_.begin(), calls_.end(), std::back_inserter(out),
                 [](const Sent& s) { return s.outcome == SendOutcome::kSent; });
    return out;
  }

 private:
  std::deque<SendResult> script_;
  std::vector<Sent> calls_;
};

}  // namespace service

#endif  // CASEWATCH_TESTS_SUPPORT_FAKE_MAILER_H_
