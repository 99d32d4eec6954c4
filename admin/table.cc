#include "admin/table.h"

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace sb::admin {

namespace {

constexpr std::string_view kColumnGap = "  ";

// Replaces C0 controls and DEL with '?' (tabs and newlines included: a cell is one line).
std::string sanitize(std::string text) {
  for (char& c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) c = '?';
  }
  return text;
}

void appendPadded(std::string& line, const std::string& cell, std::size_t width, Align align) {
  std::size_t padding = width - std::min(width, displayWidth(cell));
  if (align == Align::kRight) line.append(padding, ' ');
  line += cell;
  if (align == Align::kLeft) line.append(padding, ' ');
}

}  // namespace

std::size_t displayWidth(const std::string& text) {
  // Count every byte that is not a UTF-8 continuation byte (10xxxxxx).
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {
  for (Column& column : columns_) column.header = sanitize(std::move(column.header));
}

void Table::addRow(std::vector<std::string> cells) {
  if (cells.size() != columns_.size()) {
    throw std::logic_error("Table::addRow: " + std::to_string(cells.size()) + " cells for " +
                           std::to_string(columns_.size()) + " columns");
  }
  for (std::string& cell : cells) cell = sanitize(std::move(cell));
  rows_.push_back(std::move(cells));
}

std::string Table::render() const {
  std::vector<std::size_t> widths;
  widths.reserve(columns_.size());
  for (const Column& column : columns_) widths.push_back(displayWidth(column.header));
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], displayWidth(row[i]));
    }
  }

  std::string out;
  auto appendLine = [&](auto cellAt) {
    std::string line;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (i > 0) line += kColumnGap;
      appendPadded(line, cellAt(i), widths[i], columns_[i].align);
    }
    line.erase(line.find_last_not_of(' ') + 1);  // npos + 1 == 0 clears an all-blank line
    out += line;
    out += '\n';
  };
  appendLine([&](std::size_t i) -> const std::string& { return columns_[i].header; });
  for (const auto& row : rows_) {
    appendLine([&](std::size_t i) -> const std::string& { return row[i]; });
  }
  return out;
}

}  // namespace sb::admin
