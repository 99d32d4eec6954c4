#!/usr/bin/env node
// End-to-end, tenants (issue 20): two Greenlight-style frontends, each with its own
// bigbluebutton-js client, secret and address, drive one multitenant Switchboard in front of
// bbb-sim. They create, join and list meetings and recordings with the same meetingID and never
// see each other's. Tenant "acme" is found by its own host name (127.0.0.1), tenant "beta" by
// path (/t/beta/bigbluebutton/api/...).
//
//   node tenants.js
//
// Environment (set by run.sh): SWITCHBOARD_URL (http://127.0.0.1:PORT), ACME_SECRET,
// BETA_SECRET, ACME_RECORD_ID and BETA_RECORD_ID (a recording of each tenant's meeting
// "room-1", uploaded by the BBB hook before this runs).
// Prints one "ok ..." line per passed check; on the first failed check "FAIL ..." and exit 1.
'use strict'

const http = require('http')
const bbb = require('bigbluebutton-js')

function env(name) {
  const v = process.env[name]
  if (!v) {
    process.stderr.write(`tenants.js: ${name} is not set (run.sh sets it)\n`)
    process.exit(2)
  }
  return v
}
const SB_URL = env('SWITCHBOARD_URL').replace(/\/+$/, '')
const acme = bbb.api(`${SB_URL}/bigbluebutton`, env('ACME_SECRET'))
const beta = bbb.api(`${SB_URL}/t/beta/bigbluebutton`, env('BETA_SECRET'))
// Each frontend's client signing for the other's address: the other tenant's secret.
const acmeAtBeta = bbb.api(`${SB_URL}/t/beta/bigbluebutton`, env('ACME_SECRET'))
const RECORD = { acme: env('ACME_RECORD_ID'), beta: env('BETA_RECORD_ID') }

let passed = 0
function ok(message) {
  passed += 1
  console.log(`ok   [tenants] ${message}`)
}
class CheckFailed extends Error {}
function check(condition, message, detail) {
  if (!condition) throw new CheckFailed(`${message}${detail === undefined ? '' : `: ${detail}`}`)
}
const show = (v) => JSON.stringify(v)
const asArray = (v) => (v === undefined || v === null || v === '' ? [] : Array.isArray(v) ? v : [v])

function get(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 10000, agent: false }, (res) => {
      let data = ''
      res.on('data', (c) => (data += c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }))
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within 10 s`)))
    req.on('error', reject)
  })
}

async function main() {
  const clients = { acme, beta }
  const name = { acme: 'Acme room', beta: 'Beta room' }
  // 1. The same meetingID in both tenants: two meetings, each answered with its own ID.
  for (const t of ['acme', 'beta']) {
    const res = await bbb.http(clients[t].administration.create(name[t], 'room-1',
      { attendeePW: 'ap', moderatorPW: 'mp', record: true }))
    check(res.returncode === 'SUCCESS', `${t} creates room-1`, show(res))
    check(res.meetingID === 'room-1', `${t} gets its own meetingID back`, show(res))
    check(res.messageKey === undefined || res.messageKey === '', `${t}'s room-1 is new`, show(res))
  }
  ok('acme and beta both create room-1: two new meetings, each answered as room-1')

  // 2. Each sees its own meeting, never the other's.
  for (const t of ['acme', 'beta']) {
    const info = await bbb.http(clients[t].monitoring.getMeetingInfo('room-1'))
    check(info.returncode === 'SUCCESS' && info.meetingName === name[t],
      `${t}'s getMeetingInfo room-1 is its own meeting`, show(info))
    check(String(info.meetingID) === 'room-1', `${t} sees room-1 as room-1`, show(info))
    const list = await bbb.http(clients[t].monitoring.getMeetings())
    const meetings = asArray(list.meetings).flatMap((m) => (m && m.meeting ? asArray(m.meeting) : [m]))
    check(meetings.length === 1 && meetings[0].meetingName === name[t] &&
      String(meetings[0].meetingID) === 'room-1', `${t}'s getMeetings lists only its room-1`,
      show(list))
  }
  ok('getMeetingInfo and getMeetings show each tenant its own room-1 only')

  // 3. Joins go to each tenant's own meeting on its server.
  for (const t of ['acme', 'beta']) {
    const res = await get(clients[t].administration.join('Ann', 'room-1', 'mp'))
    check(res.status === 302, `${t}'s join answers 302`, `${res.status} ${res.body}`)
    const target = new URL(res.headers.location)
    check(target.searchParams.get('meetingID') === `${t}~room-1`,
      `${t}'s join goes to its own meeting on the BBB server`, res.headers.location)
    const hop = await get(res.headers.location)
    check(hop.status === 302 || hop.status === 200, `the BBB server admits ${t}'s user`,
      `${hop.status} ${hop.body}`)
  }
  ok('joins of room-1 land in each tenant\'s own meeting')

  // 4. Another tenant's secret opens nothing.
  const cross = await bbb.http(acmeAtBeta.monitoring.getMeetingInfo('room-1'))
  check(cross.returncode === 'FAILED' && cross.messageKey === 'checksumError',
    'acme\'s secret on beta\'s address is a checksumError', show(cross))
  ok('a call signed with another tenant\'s secret answers checksumError')

  // 5. Recordings: each lists its own recording of room-1 only.
  for (const t of ['acme', 'beta']) {
    const res = await bbb.http(clients[t].recording.getRecordings({ meetingID: 'room-1' }))
    const recs = asArray(res.recordings).flatMap((r) => (r && r.recording ? asArray(r.recording) : [r]))
    check(res.returncode === 'SUCCESS' && recs.length === 1 &&
      String(recs[0].recordID) === RECORD[t], `${t}'s getRecordings room-1 lists its own`,
      show(res))
    check(String(recs[0].meetingID) === 'room-1', `${t}'s recording shows meetingID room-1`,
      show(recs[0]))
    const all = await bbb.http(clients[t].recording.getRecordings())
    const every = asArray(all.recordings).flatMap((r) => (r && r.recording ? asArray(r.recording) : [r]))
    check(every.length === 1, `${t}'s getRecordings without filters lists its own only`, show(all))
    const other = t === 'acme' ? 'beta' : 'acme'
    const theirs = await bbb.http(clients[t].recording.publishRecordings(RECORD[other], false))
    check(theirs.returncode === 'FAILED' && theirs.messageKey === 'notFound',
      `${t} cannot unpublish ${other}'s recording`, show(theirs))
  }
  ok('getRecordings lists each tenant its own recording of room-1; the other\'s is notFound')

  // 6. beta ends its room-1; acme's runs on.
  const ended = await bbb.http(beta.administration.end('room-1', 'mp'))
  check(ended.returncode === 'SUCCESS', 'beta ends its room-1', show(ended))
  const still = await bbb.http(acme.monitoring.getMeetingInfo('room-1'))
  check(still.returncode === 'SUCCESS' && still.meetingName === name.acme,
    'acme\'s room-1 runs on', show(still))
  const gone = await bbb.http(beta.monitoring.getMeetingInfo('room-1'))
  check(gone.returncode === 'FAILED' && gone.messageKey === 'notFound',
    'beta\'s room-1 is gone', show(gone))
  ok('beta ends its room-1; acme\'s runs on')
}

main().then(
  () => {
    console.log(`tenants: ${passed} passed`)
  },
  (e) => {
    console.log(`FAIL [tenants] ${e instanceof CheckFailed ? e.message : e.stack}`)
    process.exit(1)
  }
)
