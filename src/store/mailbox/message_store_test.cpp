#include "store/mailbox/message_store.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/strings.hpp"
#include "crypto/mailbox_keys.hpp"
#include "store/mailbox/encrypted_db.hpp"
#include "testing/temp_dir.hpp"

namespace sealpost::store::mailbox {
namespace {

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string message(const std::string& subject, const std::string& body,
                    const std::string& extra = "") {
  return "From: a@example.org\r\nTo: b@example.com\r\nSubject: " + subject + "\r\n" + extra +
         "\r\n" + body + "\r\n";
}

MessageFacts facts_for(const std::string& subject, const std::string& text,
                       const std::string& id = "", std::vector<std::string> parents = {}) {
  MessageFacts f;
  f.envelope = "(NIL \"" + subject + "\" NIL NIL NIL NIL NIL NIL NIL NIL)";
  f.bodystructure = "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1 NIL NIL NIL NIL)";
  f.body = "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1)";
  f.subject = subject;
  f.from = "a@example.org";
  f.to = "b@example.com";
  f.text = text;
  f.message_id = id;
  f.parents = std::move(parents);
  return f;
}

NewMessage nm(std::string_view raw, std::int64_t date, std::uint32_t flags,
              std::vector<std::string> keywords, const MessageFacts* facts) {
  NewMessage n;
  n.raw = raw;
  n.internal_date = date;
  n.flags = flags;
  n.keywords = std::move(keywords);
  n.facts = facts;
  return n;
}

class MessageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { dir = sealpost::testing::fresh_test_dir("sealpost-store"); }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::unique_ptr<MessageStore> open(std::uint64_t quota = 0) {
    return std::make_unique<MessageStore>(open_encrypted(dir / "m.db", key), quota);
  }
  std::filesystem::path dir;
  crypto::SecretBytes key = crypto::new_master_key();
};

TEST_F(MessageStoreTest, StartsWithTheSpecialUseFolders) {
  auto store = open();
  const auto folders = store->folders();
  ASSERT_EQ(folders.size(), 6U);
  EXPECT_EQ(folders[0].name, "INBOX");
  EXPECT_EQ(store->special_folder(SpecialUse::kJunk).name, "Junk");
  EXPECT_EQ(to_string(store->special_folder(SpecialUse::kSent).special_use), "\\Sent");
  for (const auto& f : folders) {
    EXPECT_EQ(f.uidnext, 1U);
    EXPECT_GT(f.uidvalidity, 0U);
  }
  // Distinct UIDVALIDITY per folder, even when created in the same second.
  std::set<std::uint32_t> validities;
  for (const auto& f : folders) validities.insert(f.uidvalidity);
  EXPECT_EQ(validities.size(), folders.size());
  EXPECT_TRUE(store->folder("inbox").has_value()) << "INBOX is case-insensitive";
  EXPECT_FALSE(store->folder("sent").has_value()) << "other names are exact";
  // Reopening keeps them (and their UIDVALIDITY).
  const auto inbox = folders[0];
  store.reset();
  store = open();
  EXPECT_EQ(store->folders().size(), 6U);
  EXPECT_EQ(store->folder("INBOX")->uidvalidity, inbox.uidvalidity);
}

TEST_F(MessageStoreTest, AppendAssignsUidsAndModseqAndKeepsTheBytes) {
  auto store = open();
  const auto inbox = store->special_folder(SpecialUse::kInbox);
  std::string big = message("big", std::string(20000, 'x'));
  const auto f1 = facts_for("one", "first body");
  const auto a = store->append(inbox.id, nm(message("one", "first body"), 1700000000, 0, {}, &f1));
  const auto b =
      store->append(inbox.id, nm(big, 1700000001, kSeen | kFlagged, {"$Label1"}, nullptr));
  EXPECT_EQ(a.uid, 1U);
  EXPECT_EQ(b.uid, 2U);
  EXPECT_GT(b.modseq, a.modseq);
  const auto after = *store->folder("INBOX");
  EXPECT_EQ(after.uidnext, 3U);
  EXPECT_EQ(after.highest_modseq, b.modseq);
  EXPECT_EQ(*store->raw(inbox.id, 1), message("one", "first body"));
  EXPECT_EQ(*store->raw(inbox.id, 2), big) << "compressed bodies come back byte for byte";
  EXPECT_EQ(*store->header(inbox.id, 2),
            "From: a@example.org\r\nTo: b@example.com\r\nSubject: big\r\n\r\n");
  EXPECT_EQ(*store->header(inbox.id, 1),
            "From: a@example.org\r\nTo: b@example.com\r\nSubject: one\r\n\r\n");
  EXPECT_EQ(header_length("No: body\nat all"), 15U);
  EXPECT_EQ(header_length("A: b\n\nbody"), 6U);
  EXPECT_EQ(header_length("\r\nbody"), 2U);
  EXPECT_FALSE(store->raw(inbox.id, 3).has_value());
  const auto infos = store->messages(inbox.id);
  ASSERT_EQ(infos.size(), 2U);
  EXPECT_EQ(infos[1].flags, kSeen | kFlagged);
  EXPECT_EQ(infos[1].keywords, std::vector<std::string>{"$Label1"});
  EXPECT_EQ(infos[1].internal_date, 1700000001);
  EXPECT_EQ(infos[1].size, big.size());
  EXPECT_EQ(store->facts(inbox.id, 1)->envelope, f1.envelope);
  EXPECT_FALSE(store->facts(inbox.id, 2).has_value());
  // Compression: 20 kB of one letter takes far less room than 20 kB.
  EXPECT_LT(compress(big).size(), 1000U);
  EXPECT_EQ(store->usage_bytes(), message("one", "first body").size() + big.size());
  const std::string header_only = "Subject: no body\r\n";
  store->append(inbox.id, nm(header_only, 1700000002, 0, {}, nullptr));
  EXPECT_EQ(*store->raw(inbox.id, 3), header_only) << "nothing after the header: an empty rest";
  EXPECT_EQ(*store->header(inbox.id, 3), header_only);
}

TEST_F(MessageStoreTest, ASchemaTwoMailboxIsMigratedWithItsBytes) {
  const std::string big = message("big", std::string(20000, 'y'));
  const std::string small = message("small", "tiny");
  {
    auto store = open();
    const auto inbox = store->special_folder(SpecialUse::kInbox);
    store->append(inbox.id, nm(small, 1700000000, 0, {}, nullptr));
    store->append(inbox.id, nm(big, 1700000001, 0, {}, nullptr));
  }
  {
    // Schema 2 had the whole message in bodies.data (zstd when bodies.compressed), no
    // body_data table and no folders.recent_uid.
    auto db = open_encrypted(dir / "m.db", key);
    db->exec(
        "BEGIN; ALTER TABLE folders DROP COLUMN recent_uid;"
        "ALTER TABLE bodies ADD COLUMN data BLOB; DROP TABLE body_data;");
    auto put = db->prepare("UPDATE bodies SET data = ?, compressed = ? WHERE id = ?");
    const auto packed = compress(big);
    put.bind_blob(1, std::span(reinterpret_cast<const unsigned char*>(small.data()), small.size()))
        .bind(2, std::int64_t{0})
        .bind(3, std::int64_t{1})
        .run();
    put.reset();
    put.bind_blob(1, packed).bind(2, std::int64_t{1}).bind(3, std::int64_t{2}).run();
    db->exec("UPDATE meta SET value = '2' WHERE key = 'schema'; COMMIT;");
  }
  auto store = open();
  const auto inbox = store->special_folder(SpecialUse::kInbox);
  EXPECT_EQ(*store->raw(inbox.id, 1), small);
  EXPECT_EQ(*store->raw(inbox.id, 2), big);
  EXPECT_EQ(*store->header(inbox.id, 2), big.substr(0, big.find("\r\n\r\n") + 4));
  EXPECT_EQ(store->counts(inbox.id).recent, 0U) << "mail from before the upgrade is not \\Recent";
  const auto more = message("after", "migration");
  store->append(inbox.id, nm(more, 1700000002, kDeleted, {}, nullptr));
  EXPECT_EQ(*store->raw(inbox.id, 3), more);
  EXPECT_EQ(store->counts(inbox.id).recent, 1U);
  EXPECT_EQ(store->expunge(inbox.id), std::vector<std::uint32_t>{3});
  EXPECT_EQ(store->usage_bytes(), small.size() + big.size());
  auto db = open_encrypted(dir / "m.db", key);
  auto left = db->prepare("SELECT count(*) FROM body_data");
  ASSERT_TRUE(left.step());
  EXPECT_EQ(left.integer(0), 2) << "an expunged message's bytes go with it";
}

TEST_F(MessageStoreTest, TheFirstSessionToClaimNewMessagesGetsThemRecent) {
  auto store = open();
  const auto inbox = store->special_folder(SpecialUse::kInbox);
  const auto sent = store->special_folder(SpecialUse::kSent);
  EXPECT_TRUE(store->claim_recent(inbox.id).empty());
  for (int i = 0; i < 3; ++i) {
    (void)store->append(inbox.id, nm(message("r" + std::to_string(i), "b"), 1, 0, {}, nullptr));
  }
  EXPECT_EQ(store->counts(inbox.id).recent, 3U) << "STATUS RECENT counts the unclaimed";
  EXPECT_EQ(store->claim_recent(inbox.id), (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_TRUE(store->claim_recent(inbox.id).empty()) << "a second session sees none recent";
  EXPECT_EQ(store->counts(inbox.id).recent, 0U);
  EXPECT_EQ(store->folder("INBOX")->recent_uid, 4U);

  (void)store->append(inbox.id, nm(message("r3", "b"), 1, kSeen, {}, nullptr));
  const auto copied = store->copy(inbox.id, std::vector<std::uint32_t>{1, 4}, sent.id);
  EXPECT_EQ(store->counts(sent.id).recent, 2U) << "a copy is recent in its new folder";
  EXPECT_EQ(store->claim_recent(sent.id), copied.target);
  (void)store->append(inbox.id, nm(message("r4", "b"), 1, kDeleted, {}, nullptr));
  EXPECT_EQ(store->expunge(inbox.id), std::vector<std::uint32_t>{5});
  EXPECT_EQ(store->claim_recent(inbox.id), std::vector<std::uint32_t>{4})
      << "an expunged message is not claimed, and the mark moves past it";
  EXPECT_EQ(store->folder("INBOX")->recent_uid, 6U);
}

TEST_F(MessageStoreTest, TheKeywordsInUseOnceEachSorted) {
  auto store = open();
  const auto inbox = store->special_folder(SpecialUse::kInbox);
  EXPECT_TRUE(store->keywords(inbox.id, 10).empty());
  (void)store->append(inbox.id, nm(message("k1", "b"), 1, 0, {"$Work", "zeta"}, nullptr));
  (void)store->append(inbox.id, nm(message("k2", "b"), 1, 0, {"$WORK", "Alpha"}, nullptr));
  (void)store->append(inbox.id, nm(message("k3", "b"), 1, kSeen, {}, nullptr));
  auto listed = store->keywords(inbox.id, 10);
  for (auto& k : listed) k = to_lower_ascii(k);  // either spelling of $Work may be listed
  EXPECT_EQ(listed, (std::vector<std::string>{"$work", "alpha", "zeta"}))
      << "case-insensitively once, sorted ignoring case";
  EXPECT_EQ(store->keywords(inbox.id, 1).size(), 1U);
  const auto sent = store->special_folder(SpecialUse::kSent);
  EXPECT_TRUE(store->keywords(sent.id, 10).empty()) << "per folder";
}

TEST_F(MessageStoreTest, AFlagsListingReadsNoBodies) {
  auto store = open();
  const auto inbox = store->special_folder(SpecialUse::kInbox);
  (void)store->append(inbox.id, nm(message("d1", "body"), 1700000000, kSeen, {"$K"}, nullptr));
  (void)store->append(inbox.id, nm(message("d2", "more body"), 1700000001, 0, {}, nullptr));
  const std::vector<std::pair<std::uint32_t, std::uint32_t>> all{{1, 2}};
  const auto full = store->messages(inbox.id, all);
  const auto light = store->messages(inbox.id, all, MessageStore::Detail::kFlags);
  ASSERT_EQ(full.size(), 2U);
  ASSERT_EQ(light.size(), 2U);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(light[i].uid, full[i].uid);
    EXPECT_EQ(light[i].modseq, full[i].modseq);
    EXPECT_EQ(light[i].flags, full[i].flags);
    EXPECT_EQ(light[i].keywords, full[i].keywords);
    EXPECT_EQ(light[i].internal_date, full[i].internal_date);
    EXPECT_GT(full[i].size, 0U);
    EXPECT_EQ(light[i].size, 0U) << "not read";
  }
  EXPECT_EQ(store->changed_since(inbox.id, 0, MessageStore::Detail::kFlags).size(), 2U);
}

TEST_F(MessageStoreTest, InvalidKeywordsAreRefused) {
  auto store = open();
  const auto inbox = store->special_folder(SpecialUse::kInbox);
  const std::string m = message("k", "body");
  EXPECT_THROW(store->append(inbox.id, nm(m, 1, 0, {"bad keyword"}, nullptr)), StoreError);
  EXPECT_THROW(store->append(inbox.id, nm(m, 1, 0, {"(x"}, nullptr)), StoreError);
  EXPECT_TRUE(store->messages(inbox.id).empty()) << "nothing half-added";
}

TEST_F(MessageStoreTest, FlagsExpungeAndTheExpungeLog) {
  auto store = open();
  const auto inbox = store->special_folder(SpecialUse::kInbox);
  for (int i = 0; i < 4; ++i) {
    (void)store->append(inbox.id, nm(message("m" + std::to_string(i), "b"), 1, 0, {}, nullptr));
  }
  const auto before = store->folder("INBOX")->highest_modseq;
  const auto m2 = store->set_flags(inbox.id, 2, kDeleted, {});
  const auto m4 = store->set_flags(inbox.id, 4, kDeleted | kSeen, {"$Junk"});
  EXPECT_GT(m2, before);
  EXPECT_GT(m4, m2);
  EXPECT_EQ(store->set_flags(inbox.id, 99, kSeen, {}), 0U) << "no such UID";
  EXPECT_EQ(store->expunge(inbox.id), (std::vector<std::uint32_t>{2, 4}));
  const auto infos = store->messages(inbox.id);
  ASSERT_EQ(infos.size(), 2U);
  EXPECT_EQ(infos[0].uid, 1U);
  EXPECT_EQ(infos[1].uid, 3U);
  EXPECT_EQ(store->uids(inbox.id), (std::vector<std::uint32_t>{1, 3}));
  EXPECT_EQ(store->expunged_since(inbox.id, before), (std::vector<std::uint32_t>{2, 4}));
  EXPECT_TRUE(store->expunged_since(inbox.id, store->folder("INBOX")->highest_modseq).empty());
  // UIDs are never reused.
  EXPECT_EQ(store->append(inbox.id, nm(message("new", "b"), 1, 0, {}, nullptr)).uid, 5U);
  EXPECT_EQ(store->usage_bytes(), message("m0", "b").size() * 2 + message("new", "b").size());
}

TEST_F(MessageStoreTest, QuotaRefusesWhatDoesNotFit) {
  const std::string m = message("q", std::string(400, 'q'));
  auto store = open(m.size() * 2 + 10);
  const auto inbox = store->special_folder(SpecialUse::kInbox);
  (void)store->append(inbox.id, nm(m, 1, 0, {}, nullptr));
  (void)store->append(inbox.id, nm(m, 1, 0, {}, nullptr));
  EXPECT_THROW(store->append(inbox.id, nm(m, 1, 0, {}, nullptr)), QuotaExceeded);
  EXPECT_EQ(store->messages(inbox.id).size(), 2U);
  // Expunging frees room.
  (void)store->set_flags(inbox.id, 1, kDeleted, {});
  (void)store->expunge(inbox.id);
  EXPECT_EQ(store->append(inbox.id, nm(m, 1, 0, {}, nullptr)).uid, 3U);
}

TEST_F(MessageStoreTest, SpoolRecordsAreImportedOnce) {
  auto store = open();
  const auto inbox = store->special_folder(SpecialUse::kInbox);
  const SpoolId id{1, 2, 3};
  const std::string raw = message("s", "b");
  NewMessage n = nm(raw, 1, 0, {}, nullptr);
  n.spool_id = id;
  EXPECT_EQ(store->append(inbox.id, n).uid, 1U);
  EXPECT_EQ(store->append(inbox.id, n).uid, 0U) << "the same record again is skipped";
  EXPECT_EQ(store->messages(inbox.id).size(), 1U);
}

TEST_F(MessageStoreTest, FullTextSearchFindsSubstringsAcrossFields) {
  auto store = open();
  const auto inbox = store->special_folder(SpecialUse::kInbox);
  const auto f1 = facts_for("Quarterly report", "The numbers for Zürich look fine");
  const auto f2 = facts_for("Lunch", "Shall we meet at noon?");
  (void)store->append(inbox.id, nm(message("Quarterly report", "x"), 1, 0, {}, &f1));
  (void)store->append(inbox.id, nm(message("Lunch", "x"), 1, 0, {}, &f2));
  EXPECT_EQ(store->search_text(inbox.id, "quarter"), std::vector<std::uint32_t>{1});
  EXPECT_EQ(store->search_text(inbox.id, "UMBERS"), std::vector<std::uint32_t>{1});
  EXPECT_EQ(store->search_text(inbox.id, "zurich"), std::vector<std::uint32_t>{1})
      << "diacritics folded";
  EXPECT_EQ(store->search_text(inbox.id, "noon lunch"), std::vector<std::uint32_t>{2});
  EXPECT_EQ(store->search_text(inbox.id, "LU"), (std::vector<std::uint32_t>{2}))
      << "short words are looked for in the messages";
  EXPECT_EQ(store->search_text(inbox.id, "noon lu"), (std::vector<std::uint32_t>{2}));
  EXPECT_TRUE(store->search_text(inbox.id, "noon qu").empty());
  EXPECT_TRUE(store->search_text(inbox.id, "\"quoted\" nothing").empty());
  // Expunged messages leave the index.
  (void)store->set_flags(inbox.id, 1, kDeleted, {});
  (void)store->expunge(inbox.id);
  EXPECT_TRUE(store->search_text(inbox.id, "quarter").empty());
}

TEST_F(MessageStoreTest, TheIndexIsBuiltInBatchesAndSearchSeesEverything) {
  auto store = open();
  const auto inbox = store->special_folder(SpecialUse::kInbox);
  const auto count = [&](const char* sql) {
    auto st = store->database().prepare(sql);
    st.step();
    return st.integer(0);
  };
  std::vector<MessageFacts> facts;
  for (int i = 0; i < 70; ++i) facts.push_back(facts_for("s", "word" + std::to_string(i)));
  for (int i = 0; i < 63; ++i) {
    (void)store->append(inbox.id, nm(message("s", "b"), 1, 0, {}, &facts[i]));
  }
  EXPECT_EQ(count("SELECT count(*) FROM fts_pending"), 63) << "queued, not yet indexed";
  (void)store->append(inbox.id, nm(message("s", "b"), 1, 0, {}, &facts[63]));
  EXPECT_EQ(count("SELECT count(*) FROM fts_pending"), 0) << "the 64th indexes the batch";
  (void)store->append(inbox.id, nm(message("s", "b"), 1, 0, {}, &facts[64]));
  EXPECT_EQ(store->search_text(inbox.id, "word64"), std::vector<std::uint32_t>{65})
      << "a search indexes what waits first";
  EXPECT_EQ(store->search_text(inbox.id, "word63"), std::vector<std::uint32_t>{64});
  EXPECT_EQ(store->search_text(inbox.id, "word5").size(), 11U) << "word5, word50..59: substrings";
  // Expunging a message that still waits removes it from the queue too.
  (void)store->append(inbox.id, nm(message("s", "b"), 1, 0, {}, &facts[65]));
  (void)store->set_flags(inbox.id, 66, kDeleted, {});
  (void)store->expunge(inbox.id);
  EXPECT_EQ(count("SELECT count(*) FROM fts_pending"), 0);
  EXPECT_TRUE(store->search_text(inbox.id, "word65").empty());
}

TEST_F(MessageStoreTest, ThreadsFollowReferencesInAnyArrivalOrder) {
  auto store = open();
  const auto inbox = store->special_folder(SpecialUse::kInbox);
  // The reply arrives before the message it answers.
  const auto reply = facts_for("Re: plan", "ok", "reply@x", {"root@x"});
  const auto root = facts_for("plan", "the plan", "root@x");
  const auto other = facts_for("other", "unrelated", "other@x");
  const auto reply2 = facts_for("Re: Re: plan", "fine", "reply2@x", {"root@x", "reply@x"});
  for (const auto* f : {&reply, &root, &other, &reply2}) {
    (void)store->append(inbox.id, nm(message(f->subject, f->text), 1, 0, {}, f));
  }
  const auto infos = store->messages(inbox.id);
  ASSERT_EQ(infos.size(), 4U);
  EXPECT_EQ(infos[0].thread, infos[1].thread);
  EXPECT_EQ(infos[0].thread, infos[3].thread);
  EXPECT_NE(infos[0].thread, infos[2].thread);
  EXPECT_EQ(store->thread_members(inbox.id, infos[0].thread),
            (std::vector<std::uint32_t>{1, 2, 4}));
}

TEST_F(MessageStoreTest, NoMessageTextInTheFileWalOrShm) {
  const std::string marker = "SEALED-MARKER-4b1d-subject-and-body";
  {
    auto store = open();
    const auto inbox = store->special_folder(SpecialUse::kInbox);
    const auto f = facts_for(marker, marker);
    (void)store->append(inbox.id, nm(message(marker, marker), 1, 0, {}, &f));
    for (const char* suffix : {"", "-wal", "-shm"}) {
      const auto p = dir / ("m.db" + std::string(suffix));
      if (std::filesystem::exists(p)) {
        EXPECT_EQ(read_all(p).find(marker), std::string::npos) << p;
      }
    }
  }
  EXPECT_EQ(read_all(dir / "m.db").find(marker), std::string::npos);
  // Another key does not open it.
  EXPECT_THROW(open_encrypted(dir / "m.db", crypto::new_master_key()), StoreError);
}

TEST_F(MessageStoreTest, StoreFlagsWithOneModseqAndUnchangedSince) {
  auto store = open();
  const auto inbox = store->special_folder(SpecialUse::kInbox);
  for (int i = 0; i < 3; ++i)
    (void)store->append(inbox.id, nm(message("m", "b"), 1, 0, {}, nullptr));
  const std::vector<std::uint32_t> all{1, 2, 3, 9};
  auto r = store->store_flags(inbox.id, all, MessageStore::FlagChange::kAdd, kSeen, {"$Work"});
  ASSERT_EQ(r.changed.size(), 3U) << "UID 9 does not exist";
  const auto m1 = r.changed[0].modseq;
  EXPECT_EQ(r.changed[2].modseq, m1) << "one MODSEQ for the change";
  EXPECT_EQ(r.changed[0].keywords, std::vector<std::string>{"$Work"});
  // Nothing to change: no new MODSEQ.
  r = store->store_flags(inbox.id, all, MessageStore::FlagChange::kAdd, kSeen, {});
  EXPECT_TRUE(r.changed.empty());
  EXPECT_EQ(store->folder("INBOX")->highest_modseq, m1);
  // UNCHANGEDSINCE older than UID 2's MODSEQ: it is left alone and reported.
  const std::vector<std::uint32_t> two{2};
  (void)store->store_flags(inbox.id, two, MessageStore::FlagChange::kAdd, kFlagged, {});
  r = store->store_flags(inbox.id, all, MessageStore::FlagChange::kRemove, kSeen, {"$Work"}, m1);
  EXPECT_EQ(r.modified, std::vector<std::uint32_t>{2});
  ASSERT_EQ(r.changed.size(), 2U);
  EXPECT_EQ(r.changed[0].flags, 0U);
  EXPECT_TRUE(r.changed[0].keywords.empty());
  r = store->store_flags(inbox.id, two, MessageStore::FlagChange::kReplace, kDraft, {"a", "b"});
  EXPECT_EQ(r.changed[0].flags, kDraft);
  EXPECT_EQ(r.changed[0].keywords, (std::vector<std::string>{"a", "b"}));
}

TEST_F(MessageStoreTest, CopyAndMoveShareBodiesAndLogTheMove) {
  auto store = open();
  const auto inbox = store->special_folder(SpecialUse::kInbox);
  const auto archive = store->special_folder(SpecialUse::kArchive);
  const std::string big = message("big", std::string(5000, 'z'));
  for (int i = 0; i < 3; ++i)
    (void)store->append(inbox.id, nm(big, 100 + i, kSeen, {"k"}, nullptr));
  const auto usage = store->usage_bytes();
  const std::vector<std::uint32_t> some{1, 3, 7};
  const auto c = store->copy(inbox.id, some, archive.id);
  EXPECT_EQ(c.source, (std::vector<std::uint32_t>{1, 3}));
  EXPECT_EQ(c.target, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(c.uidvalidity, archive.uidvalidity);
  EXPECT_EQ(store->usage_bytes(), usage) << "copies share the stored bytes";
  const auto copied = store->messages(archive.id);
  EXPECT_EQ(copied[1].internal_date, 102);
  EXPECT_EQ(copied[1].flags, kSeen);
  EXPECT_EQ(*store->raw(archive.id, 2), big);
  const auto before = store->folder("INBOX")->highest_modseq;
  const std::vector<std::uint32_t> two{2};
  const auto m = store->copy(inbox.id, two, archive.id, true);
  EXPECT_EQ(m.target, std::vector<std::uint32_t>{3});
  EXPECT_EQ(store->uids(inbox.id), (std::vector<std::uint32_t>{1, 3}));
  EXPECT_EQ(store->expunged_since(inbox.id, before), std::vector<std::uint32_t>{2});
  // Expunging the originals keeps the copies' bytes.
  (void)store->store_flags(inbox.id, some, MessageStore::FlagChange::kAdd, kDeleted, {});
  (void)store->expunge(inbox.id);
  EXPECT_EQ(*store->raw(archive.id, 1), big);
  EXPECT_EQ(store->usage_bytes(), usage);
}

TEST_F(MessageStoreTest, RenameDeleteAndSubscribe) {
  auto store = open();
  (void)store->create_folder("Projects");
  (void)store->create_folder("Projects/2026");
  const auto validity = store->folder("Projects/2026")->uidvalidity;
  store->rename_folder("Projects", "Work");
  EXPECT_FALSE(store->folder("Projects"));
  ASSERT_TRUE(store->folder("Work/2026"));
  EXPECT_EQ(store->folder("Work/2026")->uidvalidity, validity);
  EXPECT_THROW(store->rename_folder("Work", "Work/inside"), StoreError);
  EXPECT_THROW(store->rename_folder("Work", "Sent"), StoreError);
  // Renaming INBOX moves its messages to a new folder.
  const auto inbox = store->special_folder(SpecialUse::kInbox);
  (void)store->append(inbox.id, nm(message("m", "b"), 1, 0, {}, nullptr));
  store->rename_folder("INBOX", "Old mail");
  EXPECT_TRUE(store->uids(inbox.id).empty());
  EXPECT_EQ(store->uids(store->folder("Old mail")->id).size(), 1U);
  EXPECT_THROW(store->delete_folder("INBOX"), StoreError);
  store->delete_folder("Old mail");
  EXPECT_FALSE(store->folder("Old mail"));
  EXPECT_EQ(store->usage_bytes(), 0U) << "its messages went with it";
  // A deleted special-use folder comes back when delivery needs it.
  store->delete_folder("Junk");
  EXPECT_EQ(store->special_folder(SpecialUse::kJunk).name, "Junk");
  store->set_subscribed("Work", false);
  EXPECT_FALSE(store->folder("Work")->subscribed);
}

TEST_F(MessageStoreTest, CreateFolderValidatesNames) {
  auto store = open();
  const auto f = store->create_folder("Projects/2026");
  EXPECT_EQ(f.uidnext, 1U);
  EXPECT_THROW(store->create_folder("Projects/2026"), StoreError);
  EXPECT_THROW(store->create_folder(""), StoreError);
  EXPECT_THROW(store->create_folder("a//b"), StoreError);
  EXPECT_THROW(store->create_folder(std::string("bad\x01name")), StoreError);
  EXPECT_GT(f.uidvalidity, store->folder("INBOX")->uidvalidity);
}

}  // namespace
}  // namespace sealpost::store::mailbox
