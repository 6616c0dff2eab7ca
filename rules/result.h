// Problems with input data, returned as values (see STYLE.md, "Error handling").
#ifndef CASEWATCH_RULES_RESULT_H_
#define CASEWATCH_RULES_RESULT_H_

#include <cstddef>
#include <string>
#include <tl/expected.hpp>

namespace rules {

// One problem with input data. `line` and `column` are 1-based; 0 means "not applicable".
// `column` names the column header when known (CSV rows), else is empty.
struct Problem {
  std::size_t line = 0;
  std::string column;
  std::string message;
  bool operator==(const Problem&) const = default;
};

template <class T>
using Result = tl::expected<T, Problem>;

inline tl::unexpected<Problem> fail(std::string message, std::size_t line = 0,
                                    std::string column = {}) {
  return tl::unexpected<Problem>(Problem{line, std::move(column), std::move(message)});
}

}  // namespace rules

#endif  // CASEWATCH_RULES_RESULT_H_
