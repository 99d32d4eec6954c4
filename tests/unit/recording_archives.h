// Recording archives for the importer tests: tar files written with libarchive, well-formed
// (as BBB's post-publish hook and Scalelite's transfer script make them) or hostile (links,
// devices, "..", absolute paths), and BBB-shaped metadata.xml files.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace sb {

// metadata.xml as BBB 2.7/3.0 writes it for one playback format of one recording.
inline std::string sampleMetadataXml(const std::string& recordId, const std::string& meetingId,
                                     const std::string& format = "presentation",
                                     const std::string& extraMeta = "") {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<recording>
  <id>)" +
         recordId + R"(</id>
  <state>published</state>
  <published>true</published>
  <start_time>1700000000000</start_time>
  <end_time>1700000600000</end_time>
  <participants>4</participants>
  <raw_size>951067</raw_size>
  <meeting id=")" +
         recordId + R"(" externalId=")" + meetingId + R"(" name="Lecture" breakout="false"/>
  <meta>
    <isBreakout>false</isBreakout>
    <meetingName>Lecture</meetingName>
    <meetingId>)" +
         meetingId + R"(</meetingId>
    <gl-listed>true</gl-listed>)" +
         extraMeta + R"(
  </meta>
  <playback>
    <format>)" +
         format + R"(</format>
    <link>https://bbb1.example.com/playback/)" +
         format + "/2.3/" + recordId + R"(</link>
    <processing_time>7177</processing_time>
    <duration>600000</duration>
    <size>2048</size>
  </playback>
</recording>
)";
}

// Writes a tar archive entry by entry. Compression: "" (none), "gzip", "xz", "zstd".
class TarWriter {
 public:
  explicit TarWriter(const std::string& path, const std::string& compression = "") {
    a_ = archive_write_new();
    archive_write_set_format_pax_restricted(a_);
    if (compression == "gzip") archive_write_add_filter_gzip(a_);
    if (compression == "xz") archive_write_add_filter_xz(a_);
    if (compression == "zstd") archive_write_add_filter_zstd(a_);
    if (archive_write_open_filename(a_, path.c_str()) != ARCHIVE_OK) {
      throw std::runtime_error(archive_error_string(a_));
    }
  }
  ~TarWriter() { close(); }
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  TarWriter& file(const std::string& name, const std::string& content) {
    archive_entry* e = entry(name, AE_IFREG, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    write(e);
    archive_write_data(a_, content.data(), content.size());
    return *this;
  }
  // A file of `size` bytes streamed in 1 MiB blocks (large archives without their size in memory).
  TarWriter& bigFile(const std::string& name, uint64_t size) {
    archive_entry* e = entry(name, AE_IFREG, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(size));
    write(e);
    std::string block(1 << 20, 'x');
    for (uint64_t left = size; left > 0;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(left, block.size()));
      archive_write_data(a_, block.data(), n);
      left -= n;
    }
    return *this;
  }
  TarWriter& dir(const std::string& name) {
    write(entry(name, AE_IFDIR, 0755));
    return *this;
  }
  TarWriter& symlink(const std::string& name, const std::string& target) {
    archive_entry* e = entry(name, AE_IFLNK, 0777);
    archive_entry_set_symlink(e, target.c_str());
    write(e);
    return *this;
  }
  TarWriter& hardlink(const std::string& name, const std::string& target) {
    archive_entry* e = entry(name, AE_IFREG, 0644);
    archive_entry_set_hardlink(e, target.c_str());
    write(e);
    return *this;
  }
  TarWriter& device(const std::string& name) {
    archive_entry* e = entry(name, AE_IFCHR, 0644);
    archive_entry_set_rdev(e, makedev(1, 3));
    write(e);
    return *this;
  }
  TarWriter& fifo(const std::string& name) {
    write(entry(name, AE_IFIFO, 0644));
    return *this;
  }
  // One recording's format as BBB publishes it: <format>/<id>/metadata.xml and a media file.
  TarWriter& recording(const std::string& recordId, const std::string& meetingId,
                       const std::string& format = "presentation") {
    dir(format + "/" + recordId);
    file(format + "/" + recordId + "/metadata.xml", sampleMetadataXml(recordId, meetingId, format));
    file(format + "/" + recordId + "/video/webcams.webm", "media of " + recordId);
    return *this;
  }
  void close() {
    if (!a_) return;
    archive_write_close(a_);
    archive_write_free(a_);
    a_ = nullptr;
    if (e_) archive_entry_free(e_);
    e_ = nullptr;
  }

 private:
  archive_entry* entry(const std::string& name, unsigned type, unsigned perm) {
    if (!e_) e_ = archive_entry_new();
    archive_entry_clear(e_);
    archive_entry_set_pathname(e_, name.c_str());
    archive_entry_set_filetype(e_, type);
    archive_entry_set_perm(e_, perm);
    archive_entry_set_mtime(e_, 1700000000, 0);
    return e_;
  }
  void write(archive_entry* e) {
    if (archive_write_header(a_, e) != ARCHIVE_OK) {
      throw std::runtime_error(archive_error_string(a_));
    }
  }

  archive* a_ = nullptr;
  archive_entry* e_ = nullptr;
};

}  // namespace sb
