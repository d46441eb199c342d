#include "filter/attachment_name.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sealpost::filter {
namespace {

std::vector<std::string> symbols(std::string_view name, std::string_view type = {}) {
  std::vector<std::string> out;
  for (const auto& f : check_attachment_name(name, type)) out.push_back(f.symbol);
  return out;
}

bool refused(std::string_view name, std::string_view type = {}) {
  return decide(check_attachment_name(name, type), Policy{}).action == Action::kReject;
}

TEST(FilterAttachmentNameTest, ProgramsAreRefusedByNameOrType) {
  for (std::string_view n :
       {"setup.exe", "SETUP.EXE", "run.scr", "x.js", "a.vbs", "a.hta", "disk.iso", "link.lnk",
        "pack.msi", "tool.jar", "x.ps1", "run.exe.", "run.exe   ", "run.EXE . ."}) {
    EXPECT_TRUE(refused(n)) << n;
    EXPECT_EQ(symbols(n), std::vector<std::string>{"ATTACHMENT_EXECUTABLE"}) << n;
  }
  EXPECT_TRUE(refused("document", "application/x-msdownload"));
  EXPECT_TRUE(refused("", "Application/X-MSDOS-Program"));
  for (std::string_view n : {"report.pdf", "photo.jpg", "notes.txt", "archive.zip", "exe",
                             "my.exe.notes.txt", ".bashrc", "", "invoice"}) {
    EXPECT_FALSE(refused(n)) << n;
    EXPECT_TRUE(symbols(n).empty()) << n;
  }
}

TEST(FilterAttachmentNameTest, NamesThatHideTheirExtensionAreFlagged) {
  EXPECT_EQ(symbols("invoice.pdf.exe"),
            (std::vector<std::string>{"ATTACHMENT_EXECUTABLE", "ATTACHMENT_DOUBLE_EXTENSION"}));
  EXPECT_EQ(symbols("photo.jpg          .zip"),
            std::vector<std::string>{"ATTACHMENT_DOUBLE_EXTENSION"});
  EXPECT_EQ(symbols("scan.PDF.html"), std::vector<std::string>{"ATTACHMENT_DOUBLE_EXTENSION"});
  EXPECT_TRUE(symbols("archive.tar.gz").empty());
  EXPECT_TRUE(symbols("v1.2.pdf").empty());
  EXPECT_TRUE(symbols("letter.pdf.pdf").empty());
}

TEST(FilterAttachmentNameTest, BidirectionalTricksAreRefused) {
  // "invoice_<RLO>fdp.exe" shows as "invoice_exe.pdf".
  EXPECT_TRUE(
      refused("invoice_\xE2\x80\xAE"
              "fdp.exe"));
  EXPECT_EQ(symbols("photo\xE2\x80\xAEgpj.zip"), std::vector<std::string>{"ATTACHMENT_BIDI_NAME"});
  EXPECT_TRUE(
      refused("a\xE2\x81\xA6"
              "b.txt"));                                                 // U+2066, an isolate
  EXPECT_TRUE(symbols("\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D.pdf").empty());  // Hebrew is not a trick
}

TEST(FilterAttachmentNameTest, ControlCharactersAndBrokenUtf8AddToTheScore) {
  EXPECT_EQ(symbols(std::string("a\0b.txt", 7)),
            std::vector<std::string>{"ATTACHMENT_NAME_CONTROL"});
  EXPECT_EQ(symbols("a\x85"
                    "b.txt"),
            std::vector<std::string>{"ATTACHMENT_NAME_CONTROL"});
  EXPECT_EQ(symbols("a\xC2\x85"
                    "b.txt"),
            std::vector<std::string>{"ATTACHMENT_NAME_CONTROL"});
  EXPECT_FALSE(refused("a\tb.txt"));
}

TEST(FilterAttachmentNameTest, TheExtensionIsWhatWindowsRunsBy) {
  EXPECT_EQ(extension_of("a.b.EXE"), "exe");
  EXPECT_EQ(extension_of("a.exe. . "), "exe");
  EXPECT_EQ(extension_of("noext"), "");
  EXPECT_EQ(extension_of("dot."), "");
}

}  // namespace
}  // namespace sealpost::filter
