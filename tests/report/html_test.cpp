#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "report/report.h"
#include "tests/report/fixture.h"
#include "tests/support/temp_dir.h"

namespace {

std::string lowered(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::unique_ptr<report_test::Fixture> hostile_week() {
  auto fixture = report_test::week_47();
  auto& item = fixture->review.sections[0].open[0];
  item.latest_note = rules::Note{"<script>alert('x')</script> & \"q\" <img src=x>", "<b>eve</b>",
                                 "2026-11-19T10:15:00Z"};
  item.finding.worker = "O'Neill & <Sons>";
  return fixture;
}

}  // namespace

TEST_CASE("the HTML review is self-contained and has nothing active in it", "[report][html]") {
  const std::string html = lowered(report::render_html(hostile_week()->review));
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("http") == std::string::npos);
  CHECK(lowered(report::render_html(report_test::week_47()->review)).find("src=") ==
        std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find("<style") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("<svg") == std::string::npos);
  CHECK(html.find("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">") !=
        std::string::npos);
  CHECK(html.starts_with("<!doctype html>\n"));
  CHECK(html.ends_with("</html>\n"));
}

TEST_CASE("the HTML review escapes every data value", "[report][html]") {
  const std::string html = report::render_html(hostile_week()->review);
  CHECK(html.find(
            "<i>Note (&lt;b&gt;eve&lt;/b&gt;, 19 Nov 2026):</i> &lt;script&gt;alert(&#39;x&#39;)"
            "&lt;/script&gt; &amp; &quot;q&quot; &lt;img src=x&gt;</td>") != std::string::npos);
  CHECK(html.find("O&#39;Neill &amp; &lt;Sons&gt;") != std::string::npos);
  CHECK(html.find("O'Neill") == std::string::npos);
  CHECK(html.find("Team: South &amp; East &lt;Family Support&gt; (1)") != std::string::npos);
}

TEST_CASE("the HTML review draws the trend as bars and colours the scorecard", "[report][html]") {
  const std::string html = report::render_html(report_test::week_47()->review);
  // W47 total 15 is the largest of the 12 weeks (18 in W45): 15 * 100 / 18 = 83%.
  // Bars are table cells of a width (Outlook draws those; it ignores a div's width).
  CHECK(html.find("<table width=\"83%\" cellpadding=\"0\"") != std::string::npos);
  CHECK(html.find("<table width=\"100%\" cellpadding=\"0\"") != std::string::npos);
  CHECK(html.find("color:#ffffff;font-weight:bold\">Red</td>") != std::string::npos);
  CHECK(html.find("color:#000000;font-weight:bold\">Amber</td>") != std::string::npos);
  CHECK(html.find(">Green</td>") != std::string::npos);
}

TEST_CASE("headless Chromium renders the HTML review at phone width", "[report][html][chromium]") {
  const std::filesystem::path chromium = "/usr/bin/chromium";
  if (!std::filesystem::exists(chromium)) {
    WARN("skipped: /usr/bin/chromium is absent");
    return;
  }
  test_support::TempDir dir;
  const auto page = dir.write("review.html", report::render_html(report_test::week_47()->review));
  const auto shot = dir / "shot.png";
  const std::string command =
      "timeout 120 " + chromium.string() +
      " --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking"
      " --disable-component-update --disable-sync --user-data-dir=" +
      (dir / "profile").string() + " --screenshot=" + shot.string() +
      " --window-size=412,900 file://" + page.string() + " >" + (dir / "chromium.log").string() +
      " 2>&1";
  const int status = std::system(command.c_str());
  INFO(test_support::read_file(dir / "chromium.log"));
  CHECK(status == 0);
  REQUIRE(std::filesystem::exists(shot));
  CHECK(std::filesystem::file_size(shot) > 0);
  CHECK(test_support::read_file(shot).starts_with("\x89PNG"));
  if (const char* keep = std::getenv("CASEWATCH_KEEP_SCREENSHOT")) {
    std::filesystem::copy_file(shot, keep, std::filesystem::copy_options::overwrite_existing);
  }
}
