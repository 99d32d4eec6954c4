#include "admin/admin_commands.h"

#include <cmath>
#include <exception>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "admin/admin_client.h"
#include "admin/format.h"
#include "core/server.h"

namespace sb::admin {

namespace {

using nlohmann::json;

constexpr int kExitFailure = 1;      // the API refused, the answer was wrong, or a usage error
constexpr int kExitUnreachable = 2;  // no HTTP answer from the router

constexpr const char* kDefaultUrl = "http://127.0.0.1:8080";

// Footers: CLI11 lists a parent's options only in the parent's help, so each leaf points there.
std::string connectionFooter(const std::string& parent) {
  return "--url, --token and --json may also follow the subcommand, e.g. `switchboard " + parent +
         " list --json`.";
}

// Gives every leaf of `parent` the pointer to the parent's connection options, after its own
// footer when it has one.
void addLeafFooters(CLI::App& parent) {
  std::string pointer =
      "Also takes --url, --token and --json: see `switchboard " + parent.get_name() + " --help`.";
  for (CLI::App* leaf : parent.get_subcommands({})) {
    std::string footer = leaf->get_footer();
    leaf->footer(footer.empty() ? pointer : footer + "\n\n" + pointer);
  }
}

// How to reach the router: the options each top-level admin command carries.
struct Connection {
  std::string url = kDefaultUrl;
  std::string token;  // never printed
  bool json = false;
};

void addConnectionOptions(CLI::App& command, Connection& connection) {
  command
      .add_option("--url", connection.url,
                  "Base URL of the Switchboard router whose admin API to use")
      ->envname("SWITCHBOARD_URL")
      ->capture_default_str();
  command
      .add_option("--token", connection.token,
                  "Admin API bearer token (better set in the environment: command lines are "
                  "visible to other users)")
      ->envname("SWITCHBOARD_ADMIN_TOKEN");
  command.add_flag("--json", connection.json,
                   "Print the router's JSON answer instead of a table or a short line");
}

[[noreturn]] void fail(int exitCode, const std::string& message) {
  std::cout.flush();
  std::cerr << "error: " << message << std::endl;
  throw CLI::RuntimeError(exitCode);
}

// The answer of a successful call; otherwise prints why and throws CLI::RuntimeError.
json unwrap(ApiResult result, const AdminClient& client) {
  if (result.ok()) return std::move(result).value();
  const ApiFailure& failure = result.failure();
  switch (failure.kind) {
    case ApiFailureKind::kUnreachable:
      fail(kExitUnreachable, "cannot reach Switchboard at " + urlForDisplay(client.baseUrl()) +
                                 ": " + failure.message);
    case ApiFailureKind::kUnauthorized:
      fail(kExitFailure, "the admin token was refused (set SWITCHBOARD_ADMIN_TOKEN or --token)");
    case ApiFailureKind::kRejected:
    case ApiFailureKind::kBadAnswer:
      fail(kExitFailure, failure.message);
  }
  fail(kExitFailure, failure.message);
}

// The array `answer[key]`, or a failure: the router answered 2xx with something else.
const json& requireArray(const json& answer, const char* key) {
  if (!answer.is_object() || !answer.contains(key) || !answer.at(key).is_array()) {
    fail(kExitFailure, std::string("unexpected answer from Switchboard: no \"") + key +
                           "\" list (is --url pointing at a Switchboard router?)");
  }
  return answer.at(key);
}

void printJson(json answer) {
  redactSecrets(answer);
  std::cout << answer.dump(2) << std::endl;
}

// Prints the answer itself with --json, otherwise `line`.
void printResult(const Connection& connection, json answer, const std::string& line) {
  if (connection.json) {
    printJson(std::move(answer));
  } else {
    std::cout << line << std::endl;
  }
}

void requireNonEmpty(const std::string& value, const char* what) {
  if (value.empty()) fail(kExitFailure, std::string(what) + " must not be empty");
}

double validMultiplier(double multiplier) {
  if (!std::isfinite(multiplier) || multiplier <= 0) {
    fail(kExitFailure, "--load-multiplier must be a number greater than 0");
  }
  return multiplier;
}

// A secret given as "-" is read from the first line of standard input, so that it stays out of
// the shell history and the process list.
std::string resolveSecret(std::string secret) {
  if (secret != "-") return secret;
  std::string line;
  if (!std::getline(std::cin, line)) fail(kExitFailure, "no secret on standard input");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  requireNonEmpty(line, "the secret read from standard input");
  return line;
}

// Wraps a command body: any unexpected exception becomes an "error:" line and exit code 1
// instead of a crash with a half-written output. CLI11's own errors pass through.
std::function<void()> guarded(std::function<void()> body) {
  return [body = std::move(body)] {
    try {
      body();
    } catch (const CLI::Error&) {
      throw;
    } catch (const std::exception& e) {
      fail(kExitFailure, e.what());
    }
  };
}

AdminClient makeClient(const Connection& connection) {
  return AdminClient(AdminClientOptions{.baseUrl = connection.url, .token = connection.token});
}

// ---- servers ------------------------------------------------------------------------------

void addServersList(CLI::App& servers, std::shared_ptr<Connection> connection) {
  CLI::App* list = servers.add_subcommand(
      "list", "List the BBB servers of the pool with their state, health, usage and load");
  list->fallthrough();
  list->callback(guarded([connection] {
    AdminClient client = makeClient(*connection);
    json answer = unwrap(client.listServers(), client);
    if (connection->json) return printJson(std::move(answer));
    const json& rows = requireArray(answer, "servers");
    if (rows.empty()) {
      std::cerr << "No servers are configured. Add one with: switchboard servers add URL SECRET"
                << std::endl;
      return;
    }
    std::cout << serversTable(rows).render() << std::flush;
  }));
}

// --ws-url, --wss-url and --max-connections, shared by `servers add` and `servers update`.
struct SignallingOptions {
  std::string wsUrl, wssUrl;
  int maxConnections = 0;
  CLI::Option* ws = nullptr;
  CLI::Option* wss = nullptr;
  CLI::Option* capacity = nullptr;

  void declare(CLI::App* command) {
    ws = command->add_option("--ws-url", wsUrl,
                             "Signalling endpoint handed out by /rtcloadbalance, ws://host:port "
                             "(\"\" clears)");
    wss = command->add_option("--wss-url", wssUrl,
                              "Secure signalling endpoint, wss://host:port (\"\" clears)");
    capacity = command
                   ->add_option("--max-connections", maxConnections,
                                "Concurrent clients the server takes (default 500)")
                   ->check(CLI::PositiveNumber);
  }
  template <typename Fields>
  void fill(Fields& out) const {
    if (ws->count() > 0) out.wsUrl = wsUrl;
    if (wss->count() > 0) out.wssUrl = wssUrl;
    if (capacity->count() > 0) out.maxConnections = maxConnections;
  }
};

void addServersAdd(CLI::App& servers, std::shared_ptr<Connection> connection) {
  struct Args {
    std::string url, secret, tag;
    double loadMultiplier = 1.0;
    bool enable = false;
    int maxUsers = 0, maxMeetings = 0;
    SignallingOptions signalling;
  };
  auto args = std::make_shared<Args>();
  CLI::App* add = servers.add_subcommand(
      "add", "Add a BBB server (disabled unless --enable) and print only its new id");
  add->fallthrough();
  add->add_option("URL", args->url,
                  "The server's URL, e.g. https://bbb1.example.com (/bigbluebutton/api is added "
                  "when missing)")
      ->required();
  add->add_option("SECRET", args->secret,
                  "The server's shared secret (`bbb-conf --secret`); - reads it from stdin")
      ->required();
  CLI::Option* tag = add->add_option(
      "--tag", args->tag, "Tag for meetings created with meta_server-tag (default: untagged)");
  CLI::Option* multiplier =
      add->add_option("--load-multiplier", args->loadMultiplier,
                      "Weight of this server's load; higher for weaker servers (default: 1)");
  add->add_flag("--enable", args->enable,
                "Enable the server at once instead of adding it disabled");
  CLI::Option* maxUsers = add->add_option("--max-users", args->maxUsers,
                                          "Capacity: no new meetings once it has this many users")
                              ->check(CLI::NonNegativeNumber);
  CLI::Option* maxMeetings = add->add_option("--max-meetings", args->maxMeetings,
                                             "Capacity: no new meetings past this many meetings")
                                 ->check(CLI::NonNegativeNumber);
  args->signalling.declare(add);
  add->callback(guarded([connection, args, tag, multiplier, maxUsers, maxMeetings] {
    NewServer server{.url = args->url, .secret = resolveSecret(args->secret)};
    requireNonEmpty(server.url, "the URL");
    if (tag->count() > 0) server.tag = args->tag;
    if (multiplier->count() > 0) server.loadMultiplier = validMultiplier(args->loadMultiplier);
    if (args->enable) server.state = AdminState::kEnabled;
    if (maxUsers->count() > 0) server.maxUsers = args->maxUsers;
    if (maxMeetings->count() > 0) server.maxMeetings = args->maxMeetings;
    args->signalling.fill(server);

    AdminClient client = makeClient(*connection);
    json answer = unwrap(client.addServer(server), client);
    if (connection->json) return printJson(std::move(answer));
    std::string id = stringField(answer, "id");
    if (id.empty()) fail(kExitFailure, "unexpected answer from Switchboard: the server has no id");
    std::cout << id << std::endl;
  }));
}

void addServersUpdate(CLI::App& servers, std::shared_ptr<Connection> connection) {
  struct Args {
    std::string id, url, secret, tag;
    double loadMultiplier = 1.0;
    int maxUsers = 0, maxMeetings = 0;
    bool addedByOperator = false;
    SignallingOptions signalling;
  };
  auto args = std::make_shared<Args>();
  CLI::App* update = servers.add_subcommand(
      "update", "Change a server's URL, secret, tag, capacity or endpoints; the rest is kept");
  update->fallthrough();
  update->add_option("ID", args->id, "The server's id (see `switchboard servers list`)")
      ->required();
  CLI::Option* url = update->add_option("--url", args->url, "New URL of the BBB server");
  CLI::Option* secret =
      update->add_option("--secret", args->secret, "New shared secret; - reads it from stdin");
  CLI::Option* tag = update->add_option("--tag", args->tag, "New tag; --tag \"\" clears the tag");
  CLI::Option* multiplier = update->add_option("--load-multiplier", args->loadMultiplier,
                                               "New load multiplier; higher for weaker servers");
  CLI::Option* maxUsers =
      update->add_option("--max-users", args->maxUsers, "New user capacity; 0 = no limit")
          ->check(CLI::NonNegativeNumber);
  CLI::Option* maxMeetings =
      update->add_option("--max-meetings", args->maxMeetings, "New meeting capacity; 0 = no limit")
          ->check(CLI::NonNegativeNumber);
  args->signalling.declare(update);
  CLI::Option* byOperator = update->add_option(
      "--added-by-operator", args->addedByOperator,
      "true: the registration token may no longer change or deregister it (as for servers "
      "added with `servers add`); false: a node may register over it");
  update->footer(
      "Here --url is the BBB server's new URL. To address another router, set SWITCHBOARD_URL\n"
      "or put its --url before `update`: switchboard servers --url http://router:8080 update ...");
  update->callback(
      guarded([connection, args, url, secret, tag, multiplier, maxUsers, maxMeetings, byOperator] {
        requireNonEmpty(args->id, "the server id");
        ServerChanges changes;
        if (url->count() > 0) changes.url = args->url;
        if (secret->count() > 0) changes.secret = resolveSecret(args->secret);
        if (tag->count() > 0) changes.tag = args->tag;
        if (multiplier->count() > 0) changes.loadMultiplier = validMultiplier(args->loadMultiplier);
        if (maxUsers->count() > 0) changes.maxUsers = args->maxUsers;
        if (maxMeetings->count() > 0) changes.maxMeetings = args->maxMeetings;
        args->signalling.fill(changes);
        if (byOperator->count() > 0) changes.addedByOperator = args->addedByOperator;
        if (changes.empty()) {
          fail(kExitFailure,
               "nothing to update: give --url, --secret, --tag, --load-multiplier, --max-users, "
               "--max-meetings, --ws-url, --wss-url, --max-connections or --added-by-operator");
        }
        AdminClient client = makeClient(*connection);
        printResult(*connection, unwrap(client.updateServer(args->id, changes), client), "OK");
      }));
}

void addServersStateChange(CLI::App& servers, std::shared_ptr<Connection> connection,
                           AdminState state, const char* name, const char* description) {
  auto id = std::make_shared<std::string>();
  CLI::App* command = servers.add_subcommand(name, description);
  command->fallthrough();
  command->add_option("ID", *id, "The server's id (see `switchboard servers list`)")->required();
  command->callback(guarded([connection, id, state] {
    requireNonEmpty(*id, "the server id");
    AdminClient client = makeClient(*connection);
    printResult(*connection, unwrap(client.setServerState(*id, state), client), "OK");
  }));
}

void addServersRemove(CLI::App& servers, std::shared_ptr<Connection> connection) {
  auto id = std::make_shared<std::string>();
  CLI::App* remove = servers.add_subcommand(
      "remove",
      "Remove a server from the pool (its meetings are ended there and re-created elsewhere on "
      "their next join)");
  remove->fallthrough();
  remove->add_option("ID", *id, "The server's id (see `switchboard servers list`)")->required();
  remove->callback(guarded([connection, id] {
    requireNonEmpty(*id, "the server id");
    AdminClient client = makeClient(*connection);
    json answer = unwrap(client.removeServer(*id), client);
    std::int64_t orphaned = integerField(answer, "orphaned_meetings");
    printResult(*connection, std::move(answer), "OK");
    if (orphaned > 0) {
      std::cerr << "warning: " << countOf(orphaned, "meeting")
                << " of the removed server are orphaned (see `switchboard meetings list`)"
                << std::endl;
    }
  }));
}

void addServersPanic(CLI::App& servers, std::shared_ptr<Connection> connection) {
  struct Args {
    std::string id;
    bool failover = false;
    bool keepState = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* panic = servers.add_subcommand(
      "panic",
      "End every meeting of a server (or move them with --failover), then disable it unless "
      "--keep-state");
  panic->fallthrough();
  panic->add_option("ID", args->id, "The server's id (see `switchboard servers list`)")->required();
  panic->add_flag("--failover", args->failover,
                  "End the meetings there and re-create each on another server at its next join");
  panic->add_flag("--keep-state", args->keepState,
                  "Leave the server's state (enabled/cordoned/disabled) unchanged");
  panic->callback(guarded([connection, args] {
    requireNonEmpty(args->id, "the server id");
    AdminClient client = makeClient(*connection);
    PanicOptions options{.failover = args->failover, .keepState = args->keepState};
    json answer = unwrap(client.panicServer(args->id, options), client);
    std::string line = panicSummary(answer, args->failover);
    printResult(*connection, std::move(answer), line);
  }));
}

void registerServers(CLI::App& app) {
  auto connection = std::make_shared<Connection>();
  CLI::App* servers = app.add_subcommand(
      "servers",
      "Manage the pool of BBB servers (list, add, update, enable, cordon, disable, "
      "panic, remove)");
  servers->require_subcommand(1);
  addConnectionOptions(*servers, *connection);

  addServersList(*servers, connection);
  addServersAdd(*servers, connection);
  addServersUpdate(*servers, connection);
  addServersStateChange(*servers, connection, AdminState::kEnabled, "enable",
                        "Enable a server: it takes new meetings once online");
  addServersStateChange(*servers, connection, AdminState::kCordoned, "cordon",
                        "Cordon a server to drain it: no new meetings; disabled once empty");
  addServersStateChange(*servers, connection, AdminState::kDisabled, "disable",
                        "Disable a server: no new meetings, no joins; the poller ends its meetings "
                        "there, their next joins re-create them elsewhere");
  addServersPanic(*servers, connection);
  addServersRemove(*servers, connection);
  addLeafFooters(*servers);
  // Set after the leaves exist: CLI11 copies a parent's footer into subcommands added later.
  servers->footer(
      "A server's state decides what it takes:\n"
      "  enabled   new meetings (once online) and joins\n"
      "  cordoned  joins to its meetings, no new meetings; disabled once empty\n"
      "  disabled  nothing (new servers start disabled)\n"
      "Its status (online/offline) is the poller's health check, kept apart from the state.\n\n" +
      connectionFooter("servers"));
}

// ---- meetings -----------------------------------------------------------------------------

void registerMeetings(CLI::App& app) {
  auto connection = std::make_shared<Connection>();
  CLI::App* meetings =
      app.add_subcommand("meetings", "List, end and move the meetings Switchboard routes");
  meetings->require_subcommand(1);
  addConnectionOptions(*meetings, *connection);

  auto serverId = std::make_shared<std::string>();
  CLI::App* list = meetings->add_subcommand(
      "list", "List the meetings Switchboard routes, with their server and creation time (UTC)");
  list->footer(
      "ORPHANED: the router reports that the meeting's server is gone (removed or offline).");
  list->fallthrough();
  CLI::Option* serverOption =
      list->add_option("--server", *serverId, "Only the meetings of the server with this id");
  list->callback(guarded([connection, serverId, serverOption] {
    std::optional<std::string_view> filter;
    if (serverOption->count() > 0) {
      requireNonEmpty(*serverId, "the server id");
      filter = *serverId;
    }
    AdminClient client = makeClient(*connection);
    json answer = unwrap(client.listMeetings(filter), client);
    if (connection->json) return printJson(std::move(answer));
    const json& rows = requireArray(answer, "meetings");
    if (rows.empty()) {
      std::cerr << (filter ? "No meetings are running on server " + *serverId + "."
                           : std::string("No meetings are running."))
                << std::endl;
      return;
    }
    std::cout << meetingsTable(rows).render() << std::flush;
  }));

  auto meetingId = std::make_shared<std::string>();
  CLI::App* end = meetings->add_subcommand(
      "end", "End a meeting on its BBB server and forget it (everybody is disconnected)");
  end->fallthrough();
  end->add_option("MEETING_ID", *meetingId, "The meetingID the meeting was created with")
      ->required();
  end->callback(guarded([connection, meetingId] {
    requireNonEmpty(*meetingId, "the meeting id");
    AdminClient client = makeClient(*connection);
    printResult(*connection, unwrap(client.endMeeting(*meetingId), client), "OK");
  }));

  struct MoveArgs {
    std::string meetingId, serverId;
  };
  auto move = std::make_shared<MoveArgs>();
  CLI::App* moveCmd = meetings->add_subcommand(
      "move",
      "Move a meeting to another server: end it where it runs and re-create it on the target "
      "from its stored create parameters, so the next joins land there");
  moveCmd->fallthrough();
  moveCmd->add_option("MEETING_ID", move->meetingId, "The meetingID to move")->required();
  moveCmd->add_option("--to", move->serverId, "The target server's id (enabled and online)")
      ->required();
  moveCmd->callback(guarded([connection, move] {
    requireNonEmpty(move->meetingId, "the meeting id");
    requireNonEmpty(move->serverId, "the target server id");
    AdminClient client = makeClient(*connection);
    printResult(*connection, unwrap(client.moveMeeting(move->meetingId, move->serverId), client),
                "OK");
  }));

  addLeafFooters(*meetings);
  meetings->footer(connectionFooter("meetings"));
}

// ---- recordings ---------------------------------------------------------------------------

void registerRecordings(CLI::App& app) {
  auto connection = std::make_shared<Connection>();
  CLI::App* recordings = app.add_subcommand(
      "recordings",
      "List, show, publish, unpublish, delete and import the recordings Switchboard keeps");
  recordings->require_subcommand(1);
  addConnectionOptions(*recordings, *connection);

  struct ListArgs {
    std::string meetingId, state;
  };
  auto listArgs = std::make_shared<ListArgs>();
  CLI::App* list = recordings->add_subcommand(
      "list", "List recordings, newest first (published and unpublished unless --state says)");
  list->fallthrough();
  list->add_option("--meeting", listArgs->meetingId,
                   "Only this meeting's (its meetingID or BBB's internal meeting id)");
  list->add_option("--state", listArgs->state,
                   "States, comma-separated: published, unpublished, deleted, processing, "
                   "processed, or any");
  list->callback(guarded([connection, listArgs] {
    AdminClient client = makeClient(*connection);
    json answer = unwrap(client.listRecordings(listArgs->meetingId, listArgs->state), client);
    if (connection->json) return printJson(std::move(answer));
    const json& rows = requireArray(answer, "recordings");
    if (rows.empty()) {
      std::cerr << "No recordings." << std::endl;
      return;
    }
    std::cout << recordingsTable(rows).render() << std::flush;
  }));

  auto recordId = std::make_shared<std::string>();
  CLI::App* show = recordings->add_subcommand("show", "Show one recording, in any state, as JSON");
  show->fallthrough();
  show->add_option("RECORD_ID", *recordId, "The recording's record ID")->required();
  show->callback(guarded([connection, recordId] {
    requireNonEmpty(*recordId, "the record id");
    AdminClient client = makeClient(*connection);
    printJson(unwrap(client.getRecording(*recordId), client));
  }));

  for (bool publish : {true, false}) {
    CLI::App* cmd = recordings->add_subcommand(
        publish ? "publish" : "unpublish",
        publish ? "Publish a recording: getRecordings lists it as published"
                : "Unpublish a recording: listed as unpublished, never played");
    cmd->fallthrough();
    cmd->add_option("RECORD_ID", *recordId, "The recording's record ID")->required();
    cmd->callback(guarded([connection, recordId, publish] {
      requireNonEmpty(*recordId, "the record id");
      AdminClient client = makeClient(*connection);
      printResult(*connection, unwrap(client.publishRecording(*recordId, publish), client), "OK");
    }));
  }

  CLI::App* del = recordings->add_subcommand(
      "delete", "Delete a recording: listed only with --state deleted or any");
  del->fallthrough();
  del->add_option("RECORD_ID", *recordId, "The recording's record ID")->required();
  del->callback(guarded([connection, recordId] {
    requireNonEmpty(*recordId, "the record id");
    AdminClient client = makeClient(*connection);
    printResult(*connection, unwrap(client.deleteRecording(*recordId), client), "OK");
  }));

  struct ImportArgs {
    std::string file, name;
  };
  auto importArgs = std::make_shared<ImportArgs>();
  CLI::App* import = recordings->add_subcommand(
      "import",
      "Import a recording archive (a tar of <format>/<record_id>/ folders, as BBB publishes them): "
      "uploaded to the router, which answers once it is imported");
  import->fallthrough();
  import->add_option("FILE", importArgs->file, "The archive (.tar, .tar.gz, .tar.xz, .tar.zst)")
      ->required()
      ->check(CLI::ExistingFile);
  import->add_option("--name", importArgs->name,
                     "Its name in failed/ should the import fail (default: the file's name)");
  import->callback(guarded([connection, importArgs] {
    std::string name = importArgs->name;
  if (name.empty()) name = importArgs->file.substr(importArgs->file.find_last_of('/') + 1);
  AdminClient client = makeClient(*connection);
  json answer = unwrap(client.uploadRecording(importArgs->file, name), client);
  if (connection->json) return printJson(std::move(answer));
  const json imported = answer.value("imported", json::array());
  for (const json& r : imported.is_array() ? imported : json::array()) {
    std::cout << "Imported " << stringField(r, "id") << " (meeting " << stringField(r, "meeting_id")
              << ", " << stringField(r, "state") << ")\n";
  }
  std::cout << std::flush;
}));

CLI::App* failed = recordings->add_subcommand(
    "failed", "List the archives whose import failed, why, and when they are tried again");
failed->fallthrough();
failed->callback(guarded([connection] {
  AdminClient client = makeClient(*connection);
  json answer = unwrap(client.failedImports(), client);
  if (connection->json) return printJson(std::move(answer));
  const json& rows = requireArray(answer, "failed");
  if (rows.empty()) {
    std::cerr << "No failed imports." << std::endl;
    return;
  }
  std::cout << failedImportsTable(rows).render() << std::flush;
}));

auto archive = std::make_shared<std::string>();
CLI::App* retry = recordings->add_subcommand(
    "retry", "Try a failed import again at the importer's next look (instead of after its wait)");
retry->fallthrough();
retry->add_option("ARCHIVE", *archive, "The archive's name, as `recordings failed` lists it")
    ->required();
retry->callback(guarded([connection, archive] {
  requireNonEmpty(*archive, "the archive name");
  AdminClient client = makeClient(*connection);
  printResult(*connection, unwrap(client.retryImport(*archive), client), "OK");
}));
CLI::App* drop = recordings->add_subcommand(
    "drop", "Give up a failed import: remove its archive from failed/ (it is not imported)");
drop->fallthrough();
drop->add_option("ARCHIVE", *archive, "The archive's name, as `recordings failed` lists it")
    ->required();
drop->callback(guarded([connection, archive] {
  requireNonEmpty(*archive, "the archive name");
  AdminClient client = makeClient(*connection);
  printResult(*connection, unwrap(client.dropFailedImport(*archive), client), "OK");
}));

auto retryAll = std::make_shared<bool>(false);
CLI::App* callbacks = recordings->add_subcommand(
    "callbacks",
    "List the recording-ready and analytics callbacks waiting for their frontend (or given up)");
callbacks->fallthrough();
callbacks->add_flag("--retry", *retryAll,
                    "Deliver every waiting callback now, and the given-up ones again");
callbacks->callback(guarded([connection, retryAll] {
  AdminClient client = makeClient(*connection);
  if (*retryAll) {
    json answer = unwrap(client.retryCallbacks(), client);
    if (connection->json) return printJson(std::move(answer));
    std::cout << "OK: " << integerField(answer, "retried") << " callbacks due now" << std::endl;
    return;
  }
  json answer = unwrap(client.pendingCallbacks(), client);
  if (connection->json) return printJson(std::move(answer));
  const json& rows = requireArray(answer, "callbacks");
  if (rows.empty()) {
    std::cerr << "No callbacks waiting." << std::endl;
    return;
  }
  std::cout << callbacksTable(rows).render() << std::flush;
}));

CLI::App* reindex = recordings->add_subcommand(
    "reindex",
    "Read every recording in the router's recordings folder into the store (the folder is the "
    "truth): after restoring PostgreSQL, or moving from the embedded default");
reindex->fallthrough();
reindex->callback(guarded([connection] {
  AdminClient client = makeClient(*connection);
  json answer = unwrap(client.reindexRecordings(), client);
  if (connection->json) return printJson(std::move(answer));
  for (const json& p : answer.value("problems", json::array())) {
    if (p.is_string()) std::cerr << "skipped " << p.get<std::string>() << "\n";
  }
  std::cout << "OK: " << integerField(answer, "stored") << " recordings stored, "
            << integerField(answer, "failed") << " failed, " << integerField(answer, "skipped")
            << " skipped" << std::endl;
  if (integerField(answer, "failed") > 0)
    fail(1, "the store refused some recordings (see its log)");
}));

addLeafFooters(*recordings);
recordings->footer(connectionFooter("recordings"));
}  // namespace

// ---- tenants ------------------------------------------------------------------------------

// What `tenants add` and `tenants update` may set; each field only when its option was given.
struct TenantArgs {
  std::string name;
  std::vector<std::string> secrets, hosts, tags;
  std::vector<std::string> defaultCreate, overrideCreate, defaultJoin, overrideJoin;
  bool noFallback = false, fallback = false, disable = false, enable = false;
  int maxMeetings = 0, maxParticipants = 0, createsPerMinute = 0;
};

// "name=value" options as a JSON object of parameters.
json paramsJson(const std::vector<std::string>& pairs, const char* option) {
  json out = json::object();
  for (const auto& p : pairs) {
    size_t eq = p.find('=');
    if (eq == 0 || eq == std::string::npos) {
      fail(kExitFailure, std::string(option) + " takes name=value, got \"" + p + "\"");
    }
    out[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return out;
}

void addTenantOptions(CLI::App& command, TenantArgs& a) {
  command.add_option("--secret", a.secrets,
                     "A secret its frontend signs calls with (repeat for several; \"-\" reads one "
                     "from standard input)");
  command.add_option("--host", a.hosts,
                     "A host name answered as this tenant besides <name>.<TENANT_BASE_DOMAIN>");
  command.add_option("--tag", a.tags,
                     "A server tag its meetings are placed by (the first is "
                     "used when a create names none)");
  command.add_flag("--no-fallback", a.noFallback,
                   "Never place its meetings outside its tagged servers");
  command.add_flag("--fallback", a.fallback, "Place on untagged servers when its tags are full");
  command.add_option("--default-create", a.defaultCreate,
                     "name=value: a create parameter's "
                     "default (repeatable)");
  command.add_option("--override-create", a.overrideCreate,
                     "name=value: a create parameter "
                     "that always applies (repeatable)");
  command.add_option("--default-join", a.defaultJoin, "name=value: a join parameter's default");
  command.add_option("--override-join", a.overrideJoin,
                     "name=value: a join parameter that "
                     "always applies");
  command.add_option("--max-meetings", a.maxMeetings, "Meetings at once (0: no limit)")
      ->check(CLI::Range(0, 10'000'000));
  command.add_option("--max-participants", a.maxParticipants, "Participants at once (0: no limit)")
      ->check(CLI::Range(0, 10'000'000));
  command
      .add_option("--creates-per-minute", a.createsPerMinute,
                  "New meetings per minute (0: no limit)")
      ->check(CLI::Range(0, 10'000'000));
  command.add_flag("--disable", a.disable, "Answer its calls checksumError (meetings run on)");
  command.add_flag("--enable", a.enable, "Answer its calls again");
}

// The JSON of the options given on `command` (tenant_json.h's fields).
json tenantChanges(const CLI::App& command, const TenantArgs& a) {
  json j = json::object();
  auto given = [&](const char* option) { return command.count(option) > 0; };
  if (given("--secret")) {
    json secrets = json::array();
    for (const auto& s : a.secrets) secrets.push_back(resolveSecret(s));
    j["secrets"] = secrets;
  }
  if (given("--host")) j["hosts"] = a.hosts;
  if (given("--tag")) j["server_tags"] = a.tags;
  if (a.noFallback) j["tag_fallback"] = false;
  if (a.fallback) j["tag_fallback"] = true;
  if (a.disable) j["enabled"] = false;
  if (a.enable) j["enabled"] = true;
  for (auto [option, field, values] :
       {std::tuple{"--default-create", "default_create_params", &a.defaultCreate},
        std::tuple{"--override-create", "override_create_params", &a.overrideCreate},
        std::tuple{"--default-join", "default_join_params", &a.defaultJoin},
        std::tuple{"--override-join", "override_join_params", &a.overrideJoin}}) {
    if (given(option)) j[field] = paramsJson(*values, option);
  }
  for (auto [option, field, value] :
       {std::tuple{"--max-meetings", "max_meetings", a.maxMeetings},
        std::tuple{"--max-participants", "max_participants", a.maxParticipants},
        std::tuple{"--creates-per-minute", "creates_per_minute", a.createsPerMinute}}) {
    if (given(option)) j["limits"][field] = value;
  }
  return j;
}

// A tenant's usage against its limits (GET /tenants/<name>/usage), one line each.
void printTenantUsage(const json& usage) {
  const json& l = usage.value("limits", json::object());
  auto limit = [](int n) { return n == 0 ? std::string("no limit") : std::to_string(n); };
  std::cout << "tenant " << usage.value("tenant", "") << ":\n"
            << "  meetings:     " << usage.value("meetings", 0) << " of "
            << limit(l.value("max_meetings", 0)) << "\n"
            << "  participants: " << usage.value("participants", 0) << " of "
            << limit(l.value("max_participants", 0)) << "\n"
            << "  new meetings per minute: at most " << limit(l.value("creates_per_minute", 0))
            << std::endl;
}

Table tenantsTable(const json& rows) {
  Table t({{"NAME"},
           {"ENABLED"},
           {"SECRETS", Align::kRight},
           {"HOSTS"},
           {"TAGS"},
           {"MAX MEETINGS", Align::kRight},
           {"MAX PARTICIPANTS", Align::kRight}});
  auto list = [](const json& a) {
    std::string out;
    for (const auto& v : a) out += (out.empty() ? "" : ",") + v.get<std::string>();
    return out.empty() ? std::string("-") : out;
  };
  for (const auto& r : rows) {
    const json& l = r.value("limits", json::object());
    t.addRow({r.value("name", ""), r.value("enabled", true) ? "yes" : "no",
              std::to_string(r.value("secrets_count", 0)), list(r.value("hosts", json::array())),
              list(r.value("server_tags", json::array())),
              std::to_string(l.value("max_meetings", 0)),
              std::to_string(l.value("max_participants", 0))});
  }
  return t;
}

void registerTenants(CLI::App& app) {
  auto connection = std::make_shared<Connection>();
  CLI::App* tenants =
      app.add_subcommand("tenants",
                         "Manage tenants (MULTITENANCY_ENABLED): add, list, show, update, remove, "
                         "rotate secrets, usage");
  tenants->require_subcommand(1);
  addConnectionOptions(*tenants, *connection);

  CLI::App* list = tenants->add_subcommand("list", "List the tenants");
  list->fallthrough();
  list->callback(guarded([connection] {
    AdminClient client = makeClient(*connection);
    json answer = unwrap(client.listTenants(), client);
    if (connection->json) return printJson(std::move(answer));
    const json& rows = requireArray(answer, "tenants");
    if (rows.empty()) {
      std::cerr << "No tenants." << std::endl;
      return;
    }
    std::cout << tenantsTable(rows).render() << std::flush;
  }));

  auto name = std::make_shared<std::string>();
  auto showSecrets = std::make_shared<bool>(false);
  CLI::App* show = tenants->add_subcommand("show", "Show one tenant as JSON");
  show->fallthrough();
  show->add_option("NAME", *name, "The tenant's name")->required();
  show->add_flag("--secrets", *showSecrets, "Include its secrets");
  show->callback(guarded([connection, name, showSecrets] {
    AdminClient client = makeClient(*connection);
    json answer = unwrap(client.getTenant(*name, *showSecrets), client);
    std::cout << answer.dump(2) << std::endl;  // its secrets only when asked for
  }));

  for (bool adding : {true, false}) {
    auto args = std::make_shared<TenantArgs>();
    CLI::App* cmd = tenants->add_subcommand(
        adding ? "add" : "update",
        adding ? "Add a tenant (a DNS label as its name, at least one --secret)"
               : "Change a tenant's settings (only the options given change)");
    cmd->fallthrough();
    cmd->add_option("NAME", args->name, "The tenant's name")->required();
    addTenantOptions(*cmd, *args);
    cmd->callback(guarded([connection, args, cmd, adding] {
      json changes = tenantChanges(*cmd, *args);
      AdminClient client = makeClient(*connection);
      if (adding) {
        changes["name"] = args->name;
        printResult(*connection, unwrap(client.addTenant(changes), client), "OK");
      } else {
        printResult(*connection, unwrap(client.updateTenant(args->name, changes), client), "OK");
      }
    }));
  }

  auto force = std::make_shared<bool>(false);
  CLI::App* remove = tenants->add_subcommand(
      "remove", "Remove a tenant (refused while it has meetings, unless --force)");
  remove->fallthrough();
  remove->add_option("NAME", *name, "The tenant's name")->required();
  remove->add_flag("--force", *force,
                   "Remove it even with meetings running (they run on until they end; its "
                   "frontend can no longer reach them)");
  remove->callback(guarded([connection, name, force] {
    AdminClient client = makeClient(*connection);
    json answer = unwrap(client.removeTenant(*name, *force), client);
    printResult(
        *connection, answer,
        "OK (" + std::to_string(answer.value("meetings", 0)) + " meetings left to run out)");
  }));

  auto secret = std::make_shared<std::string>();
  auto dropOld = std::make_shared<bool>(false);
  CLI::App* rotate = tenants->add_subcommand(
      "rotate",
      "Give a tenant a new secret, first in its list (the old ones keep working "
      "until --drop-old)");
  rotate->fallthrough();
  rotate->add_option("NAME", *name, "The tenant's name")->required();
  rotate->add_option("--secret", *secret,
                     "The new secret (\"-\" reads it from standard input; default: a new "
                     "random one, printed once)");
  rotate->add_flag("--drop-old", *dropOld, "Drop every other secret");
  rotate->callback(guarded([connection, name, secret, dropOld] {
    AdminClient client = makeClient(*connection);
    json answer = unwrap(
        client.rotateTenantSecret(*name, secret->empty() ? "" : resolveSecret(*secret), *dropOld),
        client);
    std::cout << "New secret of " << *name << ": " << answer.value("secret", "") << std::endl;
  }));

  CLI::App* usage = tenants->add_subcommand("usage", "What a tenant uses, against its limits");
  usage->fallthrough();
  usage->add_option("NAME", *name, "The tenant's name")->required();
  usage->callback(guarded([connection, name] {
    AdminClient client = makeClient(*connection);
    json answer = unwrap(client.tenantUsage(*name), client);
    if (connection->json) return printJson(std::move(answer));
    printTenantUsage(answer);
  }));

  addLeafFooters(*tenants);
  tenants->footer(connectionFooter("tenants"));
}

// ---- status -------------------------------------------------------------------------------

void registerStatus(CLI::App& app) {
  auto connection = std::make_shared<Connection>();
  auto survive = std::make_shared<int>(1);
  auto tenant = std::make_shared<std::string>();
  CLI::App* status = app.add_subcommand(
      "status", "Show each BBB server's state, health, usage, load and version, then totals");
  addConnectionOptions(*status, *connection);
  status
      ->add_option("--survive", *survive,
                   "Check that the pool can lose its M largest servers and still hold the "
                   "current users within the capacity of the rest (N+M redundancy)")
      ->check(CLI::Range(0, 10000))
      ->default_val(1);
  status->add_option("--tenant", *tenant,
                     "Also show this tenant's meetings and participants against its limits");
  status->footer(
      "Scalelite's `rake status`, sorted by hostname. STATE is the operator's choice\n"
      "(enabled/cordoned/disabled); STATUS is the poller's health check (online/offline).\n"
      "LOAD is unavailable while a server is offline. The headroom line counts a server's\n"
      "capacity as its --max-users, else its --max-connections (default 500).");
  status->callback(guarded([connection, survive, tenant] {
    AdminClient client = makeClient(*connection);
    json answer = unwrap(client.status(*survive), client);
    if (!tenant->empty()) {
      json usage = unwrap(client.tenantUsage(*tenant), client);
      if (connection->json) {
        answer["tenant"] = usage;
      } else {
        printTenantUsage(usage);
      }
    }
    if (connection->json) return printJson(std::move(answer));
    const json& servers = requireArray(answer, "servers");
    if (servers.empty()) {
      std::cerr << "No servers are configured. Add one with: switchboard servers add URL SECRET"
                << std::endl;
      return;
    }
    std::cout << statusTable(servers).render() << '\n' << statusTotalsLine(answer) << '\n';
    if (std::string line = headroomLine(answer); !line.empty()) std::cout << line << '\n';
    std::cout << std::flush;
  }));
}

}  // namespace sb::admin

void registerAdminCommands(CLI::App& app) {
  registerServers(app);
  registerMeetings(app);
  registerRecordings(app);
  registerTenants(app);
  registerStatus(app);
}

}  // namespace sb::admin
