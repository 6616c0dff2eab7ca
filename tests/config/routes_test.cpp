// [[route]] alerts and reviews: which kinds of alert a route gets, and the --check warning when
// operator alerts would go to the whole-review route.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "config/config.h"
#include "tests/support/config_errors.h"

namespace {

const std::filesystem::path kFile = "/etc/casewatch/casewatch.toml";

const std::string kMail =
    "[mail]\n"                         // 1
    "server = \"smtp://127.0.0.1\"\n"  // 2
    "tls = \"none\"\n"                 // 3
    "from = \"cw@b.uk\"\n"             // 4
    "[[route]]\n"                      // 5
    "name = \"heads\"\n"               // 6
    "to = [\"hos@b.uk\"]\n";           // 7

}  // namespace

TEST_CASE("a route lists the alert kinds it gets, and reviews = false makes it operational",
          "[config]") {
  const auto config =
      config::parse_config(kMail +
                               "[[route]]\nname = \"ops\"\nto = [\"ops@b.uk\"]\nreviews = false\n"
                               "[[route]]\nname = \"rejects\"\nto = [\"data@b.uk\"]\n"
                               "alerts = [\"rejected_extract\", \"escalation\"]\n",
                           kFile);

  REQUIRE(config.routes.size() == 3);
  const auto& [heads, ops, rejects] =
      std::tie(config.routes[0], config.routes[1], config.routes[2]);
  CHECK(heads.reviews);
  CHECK_FALSE(heads.alerts.has_value());
  CHECK(heads.receives("escalation"));
  CHECK(heads.receives("threshold"));
  CHECK_FALSE(heads.receives("delivery_failing"));
  CHECK_FALSE(ops.reviews);
  for (const auto& kind : config::kOperatorAlertKinds) {
    CHECK(ops.receives(kind));
  }
  CHECK_FALSE(ops.receives("escalation"));
  CHECK(rejects.receives("rejected_extract"));
  CHECK(rejects.receives("escalation"));
  CHECK_FALSE(rejects.receives("threshold"));
  CHECK_FALSE(rejects.receives("stale_source"));
  CHECK(config.warnings.empty());  // the operations route gets every operator kind
}

TEST_CASE("a warning names the operator alerts that would go to the whole-review route",
          "[config]") {
  const auto none = config::parse_config(kMail, kFile);
  REQUIRE(none.warnings.size() == 1);
  CHECK(none.warnings[0] ==
        "/etc/casewatch/casewatch.toml: warning: no [[route]] lists the operator alerts "
        "rejected_extract, stale_source, unmatched_file, delivery_failing, calendar_ending: they "
        "go to the whole-review route(s), with the review's recipients; add an operations route "
        "(reviews = false) for them");

  const auto some = config::parse_config(
      kMail +
          "[[route]]\nname = \"ops\"\nto = [\"ops@b.uk\"]\nreviews = false\n"
          "alerts = [\"delivery_failing\", \"rejected_extract\", \"stale_source\"]\n",
      kFile);
  REQUIRE(some.warnings.size() == 1);
  CHECK(some.warnings[0].find("operator alerts unmatched_file, calendar_ending:") !=
        std::string::npos);

  CHECK(config::parse_config("", kFile).warnings.empty());  // no routes: no mail to misroute
}

TEST_CASE("an unknown alert kind is an error on its line", "[config]") {
  const auto errors =
      test_support::config_errors(kMail + "alerts = [\"escalation\", \"rejected\"]\n", kFile);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] ==
        "/etc/casewatch/casewatch.toml:8: unknown alert kind 'rejected' in 'alerts' of [[route]] "
        "'heads': expected some of escalation, threshold, rejected_extract, stale_source, "
        "unmatched_file, delivery_failing, calendar_ending");
}

TEST_CASE("escalate_listed_after is read beside escalate_after", "[config]") {
  const auto config = config::parse_config(
      "[[source]]\nname = \"cases\"\nkey = \"Case ID\"\n[source.fields]\nopened = \"Open\"\n"
      "worker = \"Worker\"\nteam = \"Team\"\n"
      "[[rule]]\nid = \"u\"\nkind = \"unallocated\"\nsource = \"cases\"\n"
      "escalate_after = \"8w\"\nescalate_listed_after = \"6w\"\n",
      kFile);
  REQUIRE(config.rule_alerts.size() == 1);
  CHECK(config.rule_alerts[0].escalate_after == rules::Duration{8, rules::Unit::kWeeks});
  CHECK(config.rule_alerts[0].escalate_listed_after == rules::Duration{6, rules::Unit::kWeeks});
}
