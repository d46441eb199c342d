// THREAD=REFERENCES and UID THREAD (RFC 5256 sections 2.2 and 4).
#include <algorithm>
#include <unordered_map>

#include "imap/server/search_program.hpp"
#include "imap/server/session_impl.hpp"
#include "mime/header.hpp"
#include "mime/message.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;
using store::mailbox::MessageStore;

namespace {

// THREAD=REFERENCES (RFC 5256 section 2.2) over the stored Message-ID and parents (References,
// then In-Reply-To): containers for every id named, dummies for those not among the messages,
// the dummies pruned, roots with the same base subject gathered, siblings sorted by sent date
// (ties by sequence). Everything is iterative: a chain of a hundred thousand replies nests
// nothing on the stack.
class Threader {
 public:
  static constexpr std::size_t kNone = SIZE_MAX;

  struct Input {
    std::uint32_t number = 0;  // sequence number or UID
    std::int64_t date = 0;     // sent date, else INTERNALDATE
    std::string message_id;
    std::vector<std::string> parents;
  };

  // Threads the input; write() then gives the answer. `subject_of(i)`: the raw Subject of input
  // i (read only for the roots that need it).
  template <typename SubjectOf>
  void run(std::vector<Input> input, SubjectOf subject_of) {
    link_all(input);
    std::vector<std::size_t> roots;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].parent == kNone) roots.push_back(i);
    }
    roots = prune(roots);
    std::sort(roots.begin(), roots.end(),
              [&](std::size_t a, std::size_t b) { return before(a, b); });
    roots = gather_subjects(roots, subject_of);
    sort_siblings(roots);
    roots_ = std::move(roots);
  }

  [[nodiscard]] bool empty() const { return roots_.empty(); }

  // Appends the threads, "(...)" each, until `out` holds `limit` octets (or a little more) or
  // all are written; false once all are. A session flushes between the calls, so even one thread
  // of a hundred thousand replies is never held as one string.
  bool write(std::string& out, std::size_t limit) {
    while (next_root_ < roots_.size()) {
      if (stack_.empty()) {
        out += '(';
        stack_.push_back({roots_[next_root_], SIZE_MAX, false});
      }
      if (!render(out, limit)) return true;
      out += ')';
      ++next_root_;
      if (out.size() >= limit) return next_root_ < roots_.size();
    }
    return false;
  }

 private:
  struct Node {
    std::size_t message = kNone;  // index into the input; kNone: a dummy
    std::uint32_t number = 0;
    std::int64_t date = 0;
    std::size_t parent = kNone;
    std::vector<std::size_t> children;
    bool subject_known = false;
    bool reply = false;
    std::string subject;
  };

  std::size_t container(const std::string& id) {
    const auto [it, added] = by_id_.emplace(id, nodes_.size());
    if (added) nodes_.emplace_back();
    return it->second;
  }

  // Whether `ancestor` is `node` or above it.
  bool above(std::size_t ancestor, std::size_t node) const {
    for (std::size_t p = node, steps = 0; p != kNone && steps <= nodes_.size();
         p = nodes_[p].parent, ++steps) {
      if (p == ancestor) return true;
    }
    return false;
  }

  void unlink(std::size_t child) {
    const std::size_t p = nodes_[child].parent;
    if (p == kNone) return;
    auto& kids = nodes_[p].children;
    kids.erase(std::find(kids.begin(), kids.end(), child));
    nodes_[child].parent = kNone;
  }

  // parent -> child, unless that would make a loop.
  void link(std::size_t parent, std::size_t child) {
    if (above(child, parent) || above(parent, child)) return;
    nodes_[child].parent = parent;
    nodes_[parent].children.push_back(child);
  }

  // Step 1.
  void link_all(std::vector<Input>& input) {
    for (std::size_t i = 0; i < input.size(); ++i) {
      auto& m = input[i];
      std::size_t self = kNone;
      if (!m.message_id.empty()) {
        self = container(m.message_id);
        if (nodes_[self].message != kNone) self = kNone;  // a duplicate id: one of its own
      }
      if (self == kNone) {
        self = nodes_.size();
        nodes_.emplace_back();
      }
      nodes_[self].message = i;
      nodes_[self].number = m.number;
      nodes_[self].date = m.date;
      // (B) each reference the parent of the next, where no link exists yet.
      std::size_t previous = kNone;
      for (const auto& ref : m.parents) {
        if (ref == m.message_id) continue;
        const std::size_t c = container(ref);
        if (previous != kNone && nodes_[c].parent == kNone) link(previous, c);
        previous = c;
      }
      // (C) the last reference is the parent, whatever was presumed before.
      unlink(self);
      if (previous != kNone) link(previous, self);
    }
  }

  // Step 3: dummies without children go; a dummy's children take its place, except that a root
  // dummy stays when it holds several. Children are pruned before their parents.
  std::vector<std::size_t> prune(const std::vector<std::size_t>& roots) {
    std::vector<std::size_t> order;
    std::vector<std::size_t> stack(roots.rbegin(), roots.rend());
    while (!stack.empty()) {
      const std::size_t n = stack.back();
      stack.pop_back();
      order.push_back(n);
      for (const auto k : nodes_[n].children) stack.push_back(k);
    }
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      auto& node = nodes_[*it];
      std::vector<std::size_t> kept;
      for (const auto k : node.children) {
        if (nodes_[k].message != kNone) {
          kept.push_back(k);
          continue;
        }
        for (const auto g : nodes_[k].children) {
          nodes_[g].parent = *it;
          kept.push_back(g);
        }
        nodes_[k].children.clear();
      }
      node.children = std::move(kept);
    }
    std::vector<std::size_t> out;
    for (const auto r : roots) {
      auto& node = nodes_[r];
      if (node.message != kNone || node.children.size() > 1) {
        out.push_back(r);
      } else if (node.children.size() == 1) {
        const std::size_t only = node.children.front();
        nodes_[only].parent = kNone;
        node.children.clear();
        out.push_back(only);
      }
    }
    return out;
  }

  // The date a node sorts by, and its sequence for ties: a dummy's first child's.
  const Node& sort_key(std::size_t n) const {
    while (nodes_[n].message == kNone && !nodes_[n].children.empty())
      n = nodes_[n].children.front();
    return nodes_[n];
  }
  bool before(std::size_t a, std::size_t b) const {
    const Node& x = sort_key(a);
    const Node& y = sort_key(b);
    return x.date != y.date ? x.date < y.date : x.message < y.message;
  }

  template <typename SubjectOf>
  std::string thread_subject(std::size_t n, SubjectOf& subject_of) {
    if (nodes_[n].message == kNone) n = nodes_[n].children.front();
    Node& node = nodes_[n];
    if (!node.subject_known) {
      node.subject_known = true;
      node.subject = base_subject(subject_of(node.message), &node.reply);
    }
    return node.subject;
  }
  bool is_reply(std::size_t n) const { return nodes_[n].message != kNone && nodes_[n].reply; }
  bool is_dummy(std::size_t n) const { return nodes_[n].message == kNone; }

  void adopt(std::size_t parent, std::size_t child) {
    nodes_[child].parent = parent;
    nodes_[parent].children.push_back(child);
  }

  // Step 5: roots with the same base subject become one thread.
  template <typename SubjectOf>
  std::vector<std::size_t> gather_subjects(std::vector<std::size_t> roots, SubjectOf& subject_of) {
    std::unordered_map<std::string, std::size_t> table;
    for (const auto r : roots) {
      std::string subject = thread_subject(r, subject_of);
      if (subject.empty()) continue;
      const auto [it, added] = table.emplace(std::move(subject), r);
      if (added) continue;
      const std::size_t t = it->second;
      if (!is_dummy(t) && (is_dummy(r) || (is_reply(t) && !is_reply(r)))) it->second = r;
    }
    std::vector<bool> gone(nodes_.size(), false);
    for (std::size_t i = 0; i < roots.size(); ++i) {
      const std::size_t r = roots[i];
      if (gone[r]) continue;
      const std::string subject = thread_subject(r, subject_of);
      if (subject.empty()) continue;
      std::size_t& t = table[subject];
      if (t == r) continue;
      if (is_dummy(t) && is_dummy(r)) {
        for (const auto k : nodes_[r].children) adopt(t, k);
        nodes_[r].children.clear();
      } else if (is_dummy(t) || (is_reply(r) && !is_reply(t))) {
        adopt(t, r);
      } else {
        const std::size_t d = nodes_.size();
        nodes_.emplace_back();
        gone.push_back(false);
        const auto pos = std::find(roots.begin(), roots.end(), t);
        adopt(d, t);
        adopt(d, r);
        if (pos != roots.end()) *pos = d;
        t = d;
      }
      gone[r] = true;
    }
    std::vector<std::size_t> out;
    for (const auto r : roots) {
      if (!gone[r]) out.push_back(r);
    }
    return out;
  }

  // Step 6, children before parents, then the roots.
  void sort_siblings(std::vector<std::size_t>& roots) {
    std::vector<std::size_t> order;
    std::vector<std::size_t> stack(roots.begin(), roots.end());
    while (!stack.empty()) {
      const std::size_t n = stack.back();
      stack.pop_back();
      order.push_back(n);
      for (const auto k : nodes_[n].children) stack.push_back(k);
    }
    const auto by_date = [&](std::size_t a, std::size_t b) { return before(a, b); };
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      auto& kids = nodes_[*it].children;
      std::sort(kids.begin(), kids.end(), by_date);
    }
    std::sort(roots.begin(), roots.end(), by_date);
  }

  // RFC 5256 section 4: a chain of only children is written flat ("1 2 3"), a branch point
  // nests each child ("1 (2)(3 4)"), a dummy is only its children ("(2)(3)"). Continues the
  // thread on `stack_` until it is written (true) or `out` reaches `limit` (false).
  bool render(std::string& out, std::size_t limit) {
    auto& stack = stack_;
    while (!stack.empty()) {
      if (out.size() >= limit) return false;
      Frame& f = stack.back();
      const Node& n = nodes_[f.node];
      if (f.next_child == SIZE_MAX) {
        f.next_child = 0;
        f.nested = n.message == kNone || n.children.size() > 1;
        if (n.message != kNone) {
          out += std::to_string(n.number);
          if (!n.children.empty()) out += ' ';
        }
      }
      if (f.next_child > 0 && f.nested) out += ')';
      if (f.next_child == n.children.size()) {
        stack.pop_back();
        continue;
      }
      const std::size_t k = n.children[f.next_child++];
      if (f.nested) out += '(';
      stack.push_back({k, SIZE_MAX, false});
    }
    return true;
  }

  struct Frame {
    std::size_t node;
    std::size_t next_child;  // SIZE_MAX: the node itself is still to be written
    bool nested;             // its children are each in parentheses
  };

  std::vector<Node> nodes_;
  std::unordered_map<std::string, std::size_t> by_id_;
  std::vector<std::size_t> roots_;  // in answer order
  std::size_t next_root_ = 0;       // the thread write() is at
  std::vector<Frame> stack_;        // where in it
};

}  // namespace

asio::awaitable<void> Session::on_thread(const Command& cmd) {
  const auto& args = std::get<Thread>(cmd.arguments);
  if (args.algorithm != ThreadAlgorithm::kReferences) {
    tagged(cmd, "NO", "Only THREAD=REFERENCES is supported");
    co_return;
  }
  if (refused_charset(cmd, args.charset)) co_return;
  const auto id = sel_->folder_id;
  Threader threader;
  co_await search_store(args.criteria, [&, id](MessageStore& s) {
    bool uses_modseq = false;
    const auto matches =
        run_search(s, id, sel_->uids, sel_->saved, sel_->recent, args.criteria, uses_modseq);
    std::vector<Threader::Input> input(matches.size());
    for (std::size_t i = 0; i < matches.size(); ++i) {
      const auto& m = matches[i];
      input[i].number = cmd.uid ? m.info.uid : m.seq;
      input[i].date = m.info.internal_date;
      if (auto facts = s.facts(id, m.info.uid)) {
        if (facts->sent_date) input[i].date = facts->sent_date;
        input[i].message_id = std::move(facts->message_id);
        input[i].parents = std::move(facts->parents);
      }
    }
    const auto subject_of = [&](std::size_t i) {
      const auto raw = s.raw(id, matches[i].info.uid);
      if (!raw) return std::string();
      const auto parsed = mime::parse_message(*raw);
      if (!parsed) return std::string();
      const auto* f = mime::find_field(parsed->root, "Subject");
      return f ? std::string(f->value) : std::string();
    };
    threader.run(std::move(input), subject_of);
    return true;
  });
  out_ += threader.empty() ? "* THREAD" : "* THREAD ";
  while (threader.write(out_, kOutputHigh)) {
    if (!co_await flush_if_large()) {
      closing_ = true;
      co_return;
    }
  }
  out_ += "\r\n";
  co_await refresh(cmd.uid);
  tagged(cmd, "OK", "THREAD completed");
}

}  // namespace sealpost::imap::server
