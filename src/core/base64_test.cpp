#include "core/base64.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sealpost::core {
namespace {

TEST(Base64Test, StrictDecodesWhatTheEncoderWrites) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  for (std::size_t n = 0; n <= all.size(); n += 17) {
    const std::string bytes = all.substr(0, n);
    EXPECT_EQ(base64_decode(base64_encode(bytes), Base64Mode::kStrict), bytes) << n;
  }
  EXPECT_EQ(base64_decode("", Base64Mode::kStrict), "");
  EXPECT_EQ(base64_decode("AGFsaWNlAHNlY3JldA==", Base64Mode::kStrict),
            std::string("\0alice\0secret", 13));
}

TEST(Base64Test, StrictRefusesAnythingButRfc4648) {
  for (const std::string_view bad :
       {"QQ", "QQ=", "QQ===", "Q===", "====", "QUJD\r\n", "QU JD", "QUJD=", "QU=D", "QUJ-", "QUJ_",
        "Q\xc3\xa9==", "QR==", "QUJ="}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(base64_decode(bad, Base64Mode::kStrict), std::nullopt);
  }
  EXPECT_EQ(base64_decode("QQ==", Base64Mode::kStrict), "A");
  EXPECT_EQ(base64_decode("QUI=", Base64Mode::kStrict), "AB");
  EXPECT_EQ(base64_decode("QUE=", Base64Mode::kStrict), "AA");
}

TEST(Base64Test, DkimValuesMayBeFoldedAnywhere) {
  EXPECT_EQ(base64_decode("SGVs\r\n bG8=", Base64Mode::kFolded), "Hello");
  EXPECT_EQ(base64_decode(" SGVsbG8 = \t", Base64Mode::kFolded), "Hello");
  EXPECT_EQ(base64_decode("SGVsbG8", Base64Mode::kFolded), "Hello") << "padding may be missing";
  for (const std::string_view bad : {"SGVsbG8=x", "SGVsbG8===", "SGVs=bG8", "SGVsb", "SG*k"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(base64_decode(bad, Base64Mode::kFolded), std::nullopt);
  }
  const auto bytes = base64_decode_bytes("AAEC /w==", Base64Mode::kFolded);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, (std::vector<std::uint8_t>{0, 1, 2, 255}));
  EXPECT_EQ(base64_encode(std::span<const std::uint8_t>(*bytes)), "AAEC/w==");
}

TEST(Base64Test, EncodedWordsMayLackPaddingButNotHoldJunk) {
  EXPECT_EQ(base64_decode("SGk", Base64Mode::kWord), "Hi");
  EXPECT_EQ(base64_decode("SGk=", Base64Mode::kWord), "Hi");
  EXPECT_EQ(base64_decode("SG k=", Base64Mode::kWord), std::nullopt);
  EXPECT_EQ(base64_decode("SG*k", Base64Mode::kWord), std::nullopt);
}

TEST(Base64Test, BodiesSkipWhatIsNotTheAlphabetAndStopAtPadding) {
  EXPECT_EQ(base64_decode("SGVs\r\nbG8*\r\n", Base64Mode::kLenient), "Hello");
  EXPECT_EQ(base64_decode("SGk=SGk=", Base64Mode::kLenient), "Hi");
  EXPECT_EQ(base64_decode("SGVsbG8=", Base64Mode::kLenient, 3), "Hel");
  EXPECT_EQ(base64_decode("\xff\x01!", Base64Mode::kLenient), "");
}

}  // namespace
}  // namespace sealpost::core
