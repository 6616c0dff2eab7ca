// rules: the pure core of casewatch. Dates and the working-day calendar, sources and records,
// rule definitions, evaluation into findings and band counts, KPIs, and the plain values of the
// findings history. No I/O, no logging, no clock: the as-of date is always a parameter. Depends
// on the standard library and tl::expected only.
#ifndef CASEWATCH_RULES_RULES_H_
#define CASEWATCH_RULES_RULES_H_

#include "rules/calendar.h"
#include "rules/date.h"
#include "rules/evaluate.h"
#include "rules/history.h"
#include "rules/result.h"
#include "rules/review.h"
#include "rules/rule.h"
#include "rules/source.h"
#include "rules/track.h"
#include "rules/view.h"

#endif  // CASEWATCH_RULES_RULES_H_
