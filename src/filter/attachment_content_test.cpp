#include "filter/attachment_content.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include "testing/archive_writer.hpp"
#include "testing/compound_file.hpp"
#include "testing/file_headers.hpp"

namespace sealpost::filter {
namespace {

using testing::dos_program;
using testing::elf_program;
using testing::make_archive;
using testing::Member;
using testing::pdf_document;
using testing::pe_program;
using testing::png_image;
using testing::spec;
using testing::write_member;
using testing::writer;
using testing::zip;

std::vector<Member> docx_members() {
  return {{"[Content_Types].xml", "<?xml version=\"1.0\"?><Types/>"},
          {"_rels/.rels", "<?xml version=\"1.0\"?><Relationships/>"},
          {"word/document.xml", "<?xml version=\"1.0\"?><w:document/>"}};
}

std::vector<std::string> symbols(const ContentScan& scan) {
  std::vector<std::string> out;
  for (const auto& f : scan.findings) out.push_back(f.symbol);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> check(std::string_view bytes, std::string_view name,
                               const ContentLimits& limits = {}) {
  return symbols(check_attachment_content(bytes, name, limits));
}

bool refused(const ContentScan& scan) {
  return decide(scan.findings, Policy{}).action == Action::kReject;
}

using Symbols = std::vector<std::string>;

TEST(FilterAttachmentContentTest, LibmagicIsAvailable) {
  // The build depends on it: without its database every type check would pass silently.
  EXPECT_FALSE(check_attachment_content("x", "").magic_missing);
  EXPECT_EQ(magic_type(pdf_document()), "application/pdf");
}

TEST(FilterAttachmentContentTest, WithoutLibmagicTheOtherChecksStillRun) {
  // Each thread loads libmagic's database on first use, from $MAGIC when it is set: a thread
  // started with it pointing nowhere has none.
  ASSERT_EQ(setenv("MAGIC", "/nonexistent/magic.mgc", 1), 0);
  ContentScan program;
  ContentScan archived;
  std::thread([&] {
    program = check_attachment_content(pe_program(), "report.pdf");
    archived = check_attachment_content(zip({{"run.exe", "x"}}), "a.zip");
  }).join();
  unsetenv("MAGIC");
  EXPECT_TRUE(program.magic_missing);
  EXPECT_EQ(symbols(program), Symbols{});
  EXPECT_EQ(symbols(archived), Symbols{"ARCHIVE_EXECUTABLE"});
  // This thread's was loaded before, and stays.
  EXPECT_EQ(check(pe_program(), "report.pdf"), Symbols{"ATTACHMENT_EXECUTABLE_CONTENT"});
}

TEST(FilterAttachmentContentTest, ProgramsAreRefusedByTheirBytesWhateverTheirName) {
  EXPECT_EQ(magic_type(pe_program()), "application/vnd.microsoft.portable-executable");
  const ContentScan pe = check_attachment_content(pe_program(), "report.pdf");
  EXPECT_EQ(symbols(pe), Symbols{"ATTACHMENT_EXECUTABLE_CONTENT"});
  EXPECT_TRUE(refused(pe));
  EXPECT_EQ(pe.findings[0].reason,
            "a program by its content (application/vnd.microsoft.portable-executable)");
  EXPECT_EQ(magic_type(dos_program()), "application/x-dosexec");
  EXPECT_EQ(check(dos_program(), "report.pdf"), Symbols{"ATTACHMENT_EXECUTABLE_CONTENT"});
  EXPECT_EQ(check(elf_program(), "photo.jpg"), Symbols{"ATTACHMENT_EXECUTABLE_CONTENT"});
  // A Java class and a Mach-O program.
  EXPECT_EQ(check(std::string("\xCA\xFE\xBA\xBE\0\0\0\x34\0\x10", 10), "a.txt"),
            Symbols{"ATTACHMENT_EXECUTABLE_CONTENT"});
  EXPECT_EQ(check(std::string("\xCF\xFA\xED\xFE\x07\0\0\x01\x03\0\0\0\x02\0\0\0", 16) +
                      std::string(16, '\0'),
                  "a.txt"),
            Symbols{"ATTACHMENT_EXECUTABLE_CONTENT"});
  // "MZ" alone is text, not a program.
  EXPECT_EQ(check("MZ and more text", "a.txt"), Symbols{});
}

TEST(FilterAttachmentContentTest, OnlyWhatMayBeAProgramIsGivenToLibmagic) {
  // A PDF, an image and text cannot start a program: libmagic, slow on them, is not asked.
  for (const std::string& bytes : {pdf_document(), png_image(), std::string("MZ and text")}) {
    EXPECT_EQ(check_attachment_content(bytes, "a.bin").typed, bytes.starts_with("MZ") ? 1U : 0U);
  }
  // Programs are, and so is each member of an archive that may be one.
  EXPECT_EQ(check_attachment_content(pe_program(), "a.pdf").typed, 1U);
  EXPECT_EQ(check_attachment_content(elf_program(), "a.jpg").typed, 1U);
  const ContentScan archived =
      check_attachment_content(zip({{"a.txt", "text"}, {"b.dat", pe_program()}}), "a.zip");
  EXPECT_EQ(archived.typed, 1U);  // the program in it
  // A Java archive is a zip: the classes in it are programs.
  EXPECT_EQ(check(zip({{"META-INF/MANIFEST.MF", "Main-Class: A\n"},
                       {"A.class", std::string("\xCA\xFE\xBA\xBE\0\0\0\x34\0\x10", 10)}}),
                  "tool.jar"),
            Symbols{"ATTACHMENT_EXECUTABLE_CONTENT"});
  EXPECT_EQ(symbols(archived), Symbols{"ATTACHMENT_EXECUTABLE_CONTENT"});
}

TEST(FilterAttachmentContentTest, LegitimateAttachmentsHaveNoFindings) {
  EXPECT_EQ(check(pdf_document(), "minutes.pdf"), Symbols{});
  EXPECT_EQ(magic_type(png_image()), "image/png");
  EXPECT_EQ(check(png_image(), "photo.png"), Symbols{});
  EXPECT_EQ(check("Dear all,\nthe minutes are attached.\n", "notes.txt"), Symbols{});
  EXPECT_EQ(check("", "empty.txt"), Symbols{});
  const std::string texts = zip({{"notes/a.txt", "first"}, {"notes/b.txt", "second"}});
  const ContentScan plain = check_attachment_content(texts, "notes.zip");
  EXPECT_EQ(symbols(plain), Symbols{});
  EXPECT_EQ(plain.members, 2U);
  EXPECT_EQ(plain.unpacked, 11U);
  EXPECT_EQ(check(zip(docx_members()), "report.docx"), Symbols{});
  EXPECT_EQ(check(zip({{"minutes.pdf", pdf_document()}, {"photo.png", png_image()}}), "a.zip"),
            Symbols{});
}

TEST(FilterAttachmentContentTest, ArchivesInsideImagesAndPdfsAreStillFound) {
  // Images and PDFs skip libarchive unless one of its readers could take them: each way it could
  // is still read.
  const Symbols program{"ARCHIVE_EXECUTABLE", "ATTACHMENT_EXECUTABLE_CONTENT"};
  // A zip appended to an image, or to a PDF: libarchive finds it from the end.
  const std::string zipped = zip({{"setup.exe", pe_program()}});
  EXPECT_EQ(check(png_image() + zipped, "photo.png"), program);
  EXPECT_EQ(check(pdf_document() + zipped, "minutes.pdf"), program);
  // A tar whose first member's name makes it start as a PDF does.
  const std::string tar = make_archive({{"%PDF-1.7 setup.exe", pe_program()}}, spec("ustar"));
  ASSERT_TRUE(tar.starts_with("%PDF-"));
  EXPECT_EQ(check(tar, "minutes.pdf"), program);
  // An ISO 9660 image whose unused first 32 KiB start as a PNG does.
  std::string iso = make_archive({{"setup.exe", pe_program()}}, spec("iso9660"));
  const std::string png = png_image();
  ASSERT_GT(iso.size(), 32768U + png.size());
  iso.replace(0, 8, png.substr(0, 8));
  EXPECT_EQ(check(iso, "photo.png"), program);
}

TEST(FilterAttachmentContentTest, ProgramNamesInsideArchivesAreRefused) {
  const ContentScan scan =
      check_attachment_content(zip({{"docs/invoice.pdf.exe", "harmless bytes"}}), "invoice.zip");
  EXPECT_EQ(symbols(scan), (Symbols{"ARCHIVE_DOUBLE_EXTENSION", "ARCHIVE_EXECUTABLE"}));
  EXPECT_TRUE(refused(scan));
  for (const auto& f : scan.findings) {
    EXPECT_TRUE(f.reason.ends_with(" in an archive")) << f.reason;
  }
  EXPECT_EQ(check(zip({{"invoice_\xE2\x80\xAE"
                        "fdp.txt",
                        "x"}}),
                  "a.zip"),
            Symbols{"ARCHIVE_BIDI_NAME"});
  // Names in the creator's code page are not UTF-8, and common: not flagged.
  EXPECT_EQ(check(zip({{"R\x84"
                        "sum\x82.txt",
                        "x"}}),
                  "a.zip"),
            Symbols{});
}

TEST(FilterAttachmentContentTest, ProgramsAreFoundInNestedArchivesOfEachFormat) {
  const std::string inner = zip({{"readme.txt", "hello"}, {"setup.dat", dos_program()}});
  const ContentScan nested = check_attachment_content(zip({{"inner.zip", inner}}), "documents.zip");
  EXPECT_EQ(symbols(nested), Symbols{"ATTACHMENT_EXECUTABLE_CONTENT"});
  EXPECT_EQ(nested.findings[0].reason,
            "a program by its content (application/x-dosexec) in an archive");
  EXPECT_EQ(nested.members, 3U);

  for (const char* format : {"7zip", "ustar"}) {
    EXPECT_EQ(check(make_archive({{"report.dat", elf_program()}}, spec(format)), "a"),
              Symbols{"ATTACHMENT_EXECUTABLE_CONTENT"})
        << format;
  }
  EXPECT_EQ(check(make_archive({{"report.dat", pe_program()}}, spec("ustar", "xz")), "a.tar.xz"),
            Symbols{"ATTACHMENT_EXECUTABLE_CONTENT"});
  // A compressed file that is no archive holds what its name says without the extension.
  const std::string gz = make_archive({{"data", pe_program()}}, spec("raw", "gzip"));
  EXPECT_EQ(check(gz, "report.exe.gz"),
            (Symbols{"ARCHIVE_EXECUTABLE", "ATTACHMENT_EXECUTABLE_CONTENT"}));
  EXPECT_EQ(check(make_archive({{"data", "just text"}}, spec("raw", "bzip2")), "notes.txt.bz2"),
            Symbols{});
}

TEST(FilterAttachmentContentTest, NestingIsBoundedByDepth) {
  std::string nested = pe_program();
  std::string name = "setup.dat";
  for (int level = 1; level <= 3; ++level) {
    nested = zip({{name, nested}});
    name = "level" + std::to_string(level) + ".zip";
  }
  // Three archives deep: looked into.
  EXPECT_EQ(check(nested, "a.zip"), Symbols{"ATTACHMENT_EXECUTABLE_CONTENT"});
  // Four: the innermost is not opened, and that is a finding of its own.
  const std::string deeper = zip({{"level3.zip", nested}});
  EXPECT_EQ(check(deeper, "a.zip"), Symbols{"ARCHIVE_TOO_DEEP"});
  ContentLimits limits;
  limits.max_depth = 4;
  EXPECT_EQ(check(deeper, "a.zip", limits), Symbols{"ATTACHMENT_EXECUTABLE_CONTENT"});
}

TEST(FilterAttachmentContentTest, MembersAreBoundedInNumber) {
  std::vector<Member> many;
  for (int i = 0; i < 50; ++i) many.push_back({"file" + std::to_string(i) + ".txt", "x"});
  many.push_back({"last.exe", "x"});
  ContentLimits limits;
  limits.max_members = 10;
  const ContentScan scan = check_attachment_content(zip(many), "a.zip", limits);
  EXPECT_EQ(symbols(scan), Symbols{"ARCHIVE_TOO_MANY"});
  EXPECT_EQ(scan.members, 11U);
  EXPECT_FALSE(refused(scan));
  EXPECT_EQ(check(zip(many), "a.zip"), Symbols{"ARCHIVE_EXECUTABLE"});
}

TEST(FilterAttachmentContentTest, EncryptedArchivesAreFlaggedAndTheirNamesStillChecked) {
  for (const char* method : {"zip:encryption=zipcrypt", "zip:encryption=aes256"}) {
    const std::string encrypted =
        make_archive({{"invoice.txt", "text"}}, spec("zip", nullptr, method, "123"));
    const ContentScan scan = check_attachment_content(encrypted, "invoice.zip");
    EXPECT_EQ(symbols(scan), Symbols{"ARCHIVE_ENCRYPTED"}) << method;
    EXPECT_FALSE(refused(scan));
    EXPECT_EQ(scan.findings[0].score, 5);
    EXPECT_EQ(scan.unpacked, 0U);
    const std::string program =
        make_archive({{"invoice.exe", pe_program()}}, spec("zip", nullptr, method, "1"));
    EXPECT_EQ(check(program, "invoice.zip"), (Symbols{"ARCHIVE_ENCRYPTED", "ARCHIVE_EXECUTABLE"}));
  }
}

TEST(FilterAttachmentContentTest, OfficeMacrosAreRefused) {
  testing::CompoundFileSpec vba;
  vba.entries = {{"VBA", 1}, {"dir", 2}, {"_VBA_PROJECT", 2}, {"PROJECT", 2}};
  std::vector<Member> docm = docx_members();
  docm.push_back({"word/vbaProject.bin", testing::compound_file(vba)});
  const ContentScan ooxml = check_attachment_content(zip(docm), "invoice.docm");
  EXPECT_EQ(symbols(ooxml), Symbols{"OFFICE_MACRO"});
  EXPECT_TRUE(refused(ooxml));
  // By the member's name alone too (the project's content is not needed), and Excel 4.0 sheets.
  std::vector<Member> xlsm = docx_members();
  xlsm.push_back({"xl/vbaProject.bin", "not read"});
  EXPECT_EQ(check(zip(xlsm), "a.xlsm"), Symbols{"OFFICE_MACRO"});
  std::vector<Member> xlm = docx_members();
  xlm.push_back({"xl/macrosheets/sheet1.xml", "<xm:macrosheet/>"});
  EXPECT_EQ(check(zip(xlm), "a.xlsx"), Symbols{"OFFICE_MACRO"});
  // An OLE document (Word 97) with a Macros storage, attached and inside a zip.
  testing::CompoundFileSpec word;
  word.entries = {{"WordDocument", 2}, {"1Table", 2}, {"Macros", 1}, {"VBA", 1}};
  const std::string doc = testing::compound_file(word);
  EXPECT_EQ(check(doc, "letter.doc"), Symbols{"OFFICE_MACRO"});
  EXPECT_EQ(check(zip({{"letter.doc", doc}}), "letter.zip"), Symbols{"OFFICE_MACRO"});
  // Without macros: nothing.
  word.entries = {{"WordDocument", 2}, {"1Table", 2}, {"\x05SummaryInformation", 2}};
  EXPECT_EQ(check(testing::compound_file(word), "letter.doc"), Symbols{});
}

TEST(FilterAttachmentContentTest, InstallersAreProgramsByTheirClassId) {
  testing::CompoundFileSpec msi;
  msi.entries = {{"\x05SummaryInformation", 2}};
  msi.root_clsid = {0x84, 0x10, 0x0C, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46};
  EXPECT_EQ(check(testing::compound_file(msi), "report.pdf"),
            Symbols{"ATTACHMENT_EXECUTABLE_CONTENT"});
}

TEST(FilterAttachmentContentTest, ZipBombsAreCutOffWithoutUnpackingThem) {
  // 100 MiB of zeros: deflate makes about 100 KiB of it, which may yield 100 times that.
  constexpr std::size_t kBomb = std::size_t{100} << 20;
  std::string bomb;
  {
    auto a = writer(spec("zip"), bomb);
    write_member(a.get(), "zeros.txt", kBomb, std::string(std::size_t{1} << 20, '\0'));
    write_member(a.get(), "after.exe", 1, "x");
    ASSERT_EQ(archive_write_close(a.get()), ARCHIVE_OK);
  }
  ASSERT_LT(bomb.size(), std::size_t{1} << 20);
  const ContentScan scan = check_attachment_content(bomb, "a.zip");
  EXPECT_EQ(symbols(scan), Symbols{"ARCHIVE_TOO_LARGE"});
  EXPECT_EQ(scan.findings[0].reason, "an archive unpacking to more than 100 times its size");
  EXPECT_LE(scan.unpacked, bomb.size() * 100);
  EXPECT_GT(scan.unpacked, bomb.size() * 99);
  EXPECT_FALSE(refused(scan));
  // With no ratio to speak of, the total bound cuts it off.
  ContentLimits limits;
  limits.max_ratio = 1'000'000;
  limits.max_unpacked = std::size_t{4} << 20;
  const ContentScan total = check_attachment_content(bomb, "a.zip", limits);
  EXPECT_EQ(symbols(total), Symbols{"ARCHIVE_TOO_LARGE"});
  EXPECT_EQ(total.findings[0].reason, "archives unpacking to more than the filter reads");
  EXPECT_EQ(total.unpacked, limits.max_unpacked);
}

TEST(FilterAttachmentContentTest, LargeMembersAreLookedAtByTheirStart) {
  ContentLimits limits;
  limits.max_member = 4096;
  // A large document: its start says what it is, and that is enough.
  const std::string big_pdf = pdf_document() + std::string(8192, ' ');
  EXPECT_EQ(check(zip({{"big.pdf", big_pdf}}), "a.zip", limits), Symbols{});
  const std::string big_program = pe_program() + std::string(8192, 'x');
  EXPECT_EQ(check(zip({{"big.dat", big_program}}), "a.zip", limits),
            Symbols{"ATTACHMENT_EXECUTABLE_CONTENT"});
  // A large archive inside cannot be looked into whole.
  std::vector<Member> filler;
  for (int i = 0; i < 8; ++i)
    filler.push_back({"f" + std::to_string(i), std::string(1024, 'a' + i)});
  const std::string big_zip = make_archive(filler, spec("zip", nullptr, "zip:compression=store"));
  ASSERT_GT(big_zip.size(), limits.max_member);
  const Symbols found = check(zip({{"inner.zip", big_zip}}), "a.zip", limits);
  EXPECT_NE(std::find(found.begin(), found.end(), "ARCHIVE_TOO_LARGE"), found.end());
}

TEST(FilterAttachmentContentTest, BrokenArchivesDoNotCrashAndScoreLittle) {
  const std::string good =
      zip({{"a.txt", std::string(5000, 'a')}, {"b.txt", std::string(5000, 'b')}});
  for (std::size_t cut : {std::size_t{10}, std::size_t{40}, good.size() / 2, good.size() - 30}) {
    const ContentScan scan = check_attachment_content(good.substr(0, cut), "a.zip");
    double score = 0;
    for (const auto& f : scan.findings) {
      EXPECT_FALSE(f.decides) << f.symbol;
      score += f.score;
    }
    EXPECT_LE(score, 1) << cut;
  }
  std::string corrupted = good;
  for (std::size_t i = 60; i < 200; ++i) corrupted[i] = static_cast<char>(corrupted[i] ^ 0x5A);
  EXPECT_EQ(check(corrupted, "a.zip"), Symbols{"ARCHIVE_UNREADABLE"});
}

}  // namespace
}  // namespace sealpost::filter
