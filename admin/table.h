// Table: plain-text tables for the admin CLI, in the style of Scalelite's `rake status` (Tabulo
// with a blank border): a header line, then one line per row, columns padded with spaces and
// separated by two spaces, no rules. Text columns align left, number columns right.
//
// Cells may hold untrusted text (meeting ids come from API clients): control characters are
// replaced by '?' so that a cell can never move the cursor or change the terminal's state.
// Widths count UTF-8 code points, not bytes.
// Thread-safety: a plain value.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace sb::admin {

enum class Align { kLeft, kRight };

struct Column {
  std::string header;
  Align align = Align::kLeft;
};

class Table {
 public:
  explicit Table(std::vector<Column> columns);

  // Precondition: cells.size() equals the number of columns (throws std::logic_error if not:
  // a mismatch is a programming error, not an input error).
  void addRow(std::vector<std::string> cells);

  std::size_t rowCount() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }

  // The header line and every row, each ending in '\n', without trailing spaces.
  std::string render() const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;  // already sanitised
};

// The number of columns `text` takes on a terminal: its UTF-8 code points.
std::size_t displayWidth(const std::string& text);

}  // namespace sb::admin
