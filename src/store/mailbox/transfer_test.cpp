#include "store/mailbox/transfer.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sealpost::store::mailbox {
namespace {

// The file export_mbox writes for a folder, relative to its directory.
std::filesystem::path mbox_file(const std::string& folder) {
  const auto levels = export_levels(folder);
  std::filesystem::path p;
  for (std::size_t i = 0; i + 1 < levels.size(); ++i) p /= levels[i];
  return p / (levels.back() + ".mbox");
}

TEST(ExportNamesTest, DistinctFoldersNeverShareAFile) {
  const std::vector<std::string> folders = {
      "a/b",     "a_b",      "a%2Fb",    "a.b",   "a%2Eb", "A/B",   "a",
      "a.mbox",  "a/b.mbox", "a.mbox/b", ".",     "..",    "_.",    "_..",
      ".hidden", "_.hidden", "a//b",     "a/",    "/a",    "%",     "%25",
      "x\\y",    "x\ny",     "Entwürfe", "INBOX", "Inbox", "1.eml", "Projects/2026"};
  std::map<std::string, std::string> seen;
  for (const auto& f : folders) {
    const auto file = mbox_file(f).generic_string();
    const auto [it, fresh] = seen.emplace(file, f);
    EXPECT_TRUE(fresh) << '"' << f << "\" and \"" << it->second << "\" both give " << file;
    // Every level is an ordinary name: no "." or "..", no hidden file, no separator.
    for (const auto& level : export_levels(f)) {
      EXPECT_FALSE(level.empty()) << f;
      EXPECT_NE(level.front(), '.') << f;
      EXPECT_EQ(level.find('/'), std::string::npos) << f;
    }
  }
}

TEST(ExportNamesTest, ImportOfAnExportDirectoryGivesTheNamesBack) {
  for (const std::string f :
       {"INBOX", "Projects/2026", "a.b/c%d", "..", "a//b", "x\ny", "Entwürfe"}) {
    auto relative = mbox_file(f);
    relative.replace_extension();
    EXPECT_EQ(folder_from_export_path(relative), f);
  }
  // Names as an earlier version wrote them stay as they are.
  EXPECT_EQ(folder_from_export_path("Projects/2026.x"), "Projects/2026.x");
  EXPECT_EQ(folder_from_export_path("100%"), "100%");
}

TEST(ExportNamesTest, ReadableNamesStayReadable) {
  EXPECT_EQ(export_levels("Projects/2026"), (std::vector<std::string>{"Projects", "2026"}));
  EXPECT_EQ(export_levels("Sent Items"), (std::vector<std::string>{"Sent Items"}));
  EXPECT_EQ(export_levels(".."), (std::vector<std::string>{"%2E%2E"}));
}

}  // namespace
}  // namespace sealpost::store::mailbox
