// Test helper: the first bytes of common files, hand-assembled rather than checked in, enough for
// libmagic to name their type: programs (MS-DOS, PE, ELF) and documents (PDF, PNG).
#pragma once

#include <algorithm>
#include <iterator>
#include <string>

namespace sealpost::testing {

// A PE header as a linker writes it: the MS-DOS stub's "MZ", e_lfanew at 0x3C, "PE\0\0", a COFF
// header for i386 and the PE32 optional header's magic.
inline std::string pe_program() {
  std::string b(0x200, '\0');
  b[0] = 'M';
  b[1] = 'Z';
  b[0x18] = 0x40;  // e_lfarlc: a new-style executable
  b[0x3C] = static_cast<char>(0x80);
  b.replace(0x80, 4, std::string("PE\0\0", 4));
  b[0x84] = 0x4C;  // machine: i386
  b[0x85] = 0x01;
  b[0x86] = 1;                        // sections
  b[0x94] = static_cast<char>(0xE0);  // size of the optional header
  b[0x96] = 0x02;                     // characteristics: executable image, 32-bit
  b[0x97] = 0x01;
  b[0x98] = 0x0B;  // optional header magic: PE32
  b[0x99] = 0x01;
  b[0x98 + 68] = 2;  // subsystem: Windows GUI
  return b;
}

// An MS-DOS program's header (the start of every PE file, and a program of its own): its
// relocation table at 0x1E, before where a new-style header would point.
inline std::string dos_program() {
  std::string b(0x200, '\0');
  const unsigned char fields[] = {'M',  'Z', 0x90, 0,    3, 0, 0, 0, 4, 0, 0, 0,    0xFF,
                                  0xFF, 0,   0,    0xB8, 0, 0, 0, 0, 0, 0, 0, 0x1E, 0};
  std::copy(std::begin(fields), std::end(fields), b.begin());
  return b;
}

// An ELF header: 64-bit, little-endian, an executable for x86-64.
inline std::string elf_program() {
  std::string b(64, '\0');
  b.replace(0, 7,
            "\x7F"
            "ELF\x02\x01\x01");
  b[16] = 2;     // ET_EXEC
  b[18] = 0x3E;  // x86-64
  b[20] = 1;     // version
  b[52] = 64;    // header size
  return b;
}

inline std::string pdf_document() {
  return "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
         "2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n"
         "%%EOF\n";
}

inline std::string png_image() {
  return std::string(
      "\x89PNG\r\n\x1A\n\0\0\0\x0DIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1F\x15"
      "\xC4\x89\0\0\0\x0AIDAT\x78\x9C\x63\0\x01\0\0\x05\0\x01\x0D\x0A\x2D\xB4\0\0"
      "\0\0IEND\xAE\x42\x60\x82",
      67);
}

}  // namespace sealpost::testing
