#!/usr/bin/env python3
# Writes the seed corpora of tests/fuzz/corpus/ (committed; rerun after changing a seed here).
#   python3 tests/fuzz/make_seeds.py
import hashlib, json, os

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')
def put(target, name, data):
    d = os.path.join(root, target); os.makedirs(d, exist_ok=True)
    if isinstance(data, str): data = data.encode()
    open(os.path.join(d, name), 'wb').write(data)

SECRET = 'fuzz-secret'
CALLS = ["create", "join", "end", "getMeetings", "getMeetingInfo", "isMeetingRunning", ""]
def signed(query, alg='sha1'):
    """The query with a checksum query_string_fuzz accepts: it picks the call by input length."""
    sep = '&checksum=' if query else 'checksum='
    digest_length = {'sha1': 40, 'sha256': 64, 'sha512': 128}[alg]
    call = CALLS[(len(query) + len(sep) + digest_length) % len(CALLS)]
    return query + sep + hashlib.new(alg, (call + query + SECRET).encode()).hexdigest()

qs = {
 'create': 'name=Demo+Room&meetingID=demo-1&moderatorPW=mp&attendeePW=ap&record=true&meta_bbb-origin=Greenlight&meta_bbb-origin-version=v3',
 'create_unicode': 'name=R%C3%A9union+%E2%80%94+Salle+1&meetingID=r%C3%A9union-1&welcome=%3Cbr%3EWelcome+to+%3Cb%3E%25%25CONFNAME%25%25%3C%2Fb%3E%21&logoutURL=https%3A%2F%2Fmoodle.example.org%2Fmod%2Fbigbluebuttonbn%2Fbbb_view.php%3Faction%3Dlogout%26id%3D12',
 'join': 'fullName=Ada+Lovelace&meetingID=demo-1&password=mp&redirect=true&userID=u-42&userdata-bbb_skip_check_audio=true',
 'join_role': 'meetingID=demo-1&fullName=Grace%20Hopper&role=MODERATOR&createTime=1700000000000&avatarURL=https%3A%2F%2Fexample.com%2Fa.png',
 'end': 'meetingID=demo-1&password=mp',
 'getmeetings': '',
 'info': 'meetingID=demo-1',
 'duplicates': 'meetingID=a&meetingID=b&name=&name=x&=&&',
}
for name, q in qs.items():
    put('query_string_fuzz', name + '_sha1', signed(q, 'sha1'))
put('query_string_fuzz', 'create_sha256', signed(qs['create'], 'sha256'))
put('query_string_fuzz', 'join_sha512', signed(qs['join'], 'sha512'))
put('query_string_fuzz', 'checksum_first', 'checksum=' + 'A' * 40 + '&meetingID=x')
put('query_string_fuzz', 'checksum_twice', 'meetingID=x&checksum=abc&checksum=abc&checksumx=1')
put('query_string_fuzz', 'bad_escape', 'name=%ZZ&meetingID=%4')
put('query_string_fuzz', 'nul_and_latin1', 'name=%00&meetingID=%E9t%E9')
put('query_string_fuzz', 'plus_and_space', 'fullName=a+b%20c%2Bd&x=%7E~')

# ---- BBB XML answers
meeting = lambda mid, extra='': f'''<meeting>
<meetingName>Demo Meeting</meetingName>
<meetingID>{mid}</meetingID>
<internalMeetingID>183f0bf3a0982a127bdb8161e0c44eb696b3e75c-1531241258036</internalMeetingID>
<createTime>1531241258036</createTime>
<createDate>Tue Jul 10 16:47:38 UTC 2018</createDate>
<voiceBridge>70066</voiceBridge>
<dialNumber>613-555-1234</dialNumber>
<attendeePW>ap</attendeePW>
<moderatorPW>mp</moderatorPW>
<running>true</running>
<duration>0</duration>
<hasUserJoined>true</hasUserJoined>
<recording>false</recording>
<hasBeenForciblyEnded>false</hasBeenForciblyEnded>
<startTime>1531241258074</startTime>
<endTime>0</endTime>
<participantCount>1,204</participantCount>
<listenerCount>1,000</listenerCount>
<voiceParticipantCount>12</voiceParticipantCount>
<videoCount>7</videoCount>
<maxUsers>0</maxUsers>
<moderatorCount>3</moderatorCount>
<attendees>
<attendee>
<userID>w_2d2e3tqnmmo5</userID>
<fullName>Ada</fullName>
<role>MODERATOR</role>
<isPresenter>true</isPresenter>
<isListeningOnly>false</isListeningOnly>
<hasJoinedVoice>true</hasJoinedVoice>
<hasVideo>true</hasVideo>
<clientType>HTML5</clientType>
</attendee>
</attendees>
<metadata>
<bbb-origin-version>v3</bbb-origin-version>
<bbb-origin>Greenlight</bbb-origin>{extra}
</metadata>
<isBreakout>false</isBreakout>
</meeting>'''
put('bbb_xml_fuzz', 'getmeetings_two', '<response>\n<returncode>SUCCESS</returncode>\n<meetings>\n' + meeting('demo-1') + '\n' + meeting('demo-2') + '\n</meetings>\n</response>\n')
put('bbb_xml_fuzz', 'getmeetings_none', '<response>\n<returncode>SUCCESS</returncode>\n<meetings/>\n<messageKey>noMeetings</messageKey>\n<message>no meetings were found on this server</message>\n</response>')
put('bbb_xml_fuzz', 'getmeetings_bad_metadata', '<response><returncode>SUCCESS</returncode><meetings>' + meeting('ok-1') + meeting('bad-1', '\n<name>a & b <c></name>') + meeting('nested', '\n<meeting><meetingID>inner</meetingID></meeting>') + '</meetings></response>')
put('bbb_xml_fuzz', 'getmeetings_control_byte', '<response><returncode>SUCCESS</returncode><meetings>' + meeting('ctl-1', '\n<x>\x01\xff\xc3</x>') + '</meetings></response>')
put('bbb_xml_fuzz', 'getmeetings_cut', '<response><returncode>SUCCESS</returncode><meetings>' + meeting('cut-1')[:400])
put('bbb_xml_fuzz', 'create', '''<response>
<returncode>SUCCESS</returncode>
<meetingID>demo-1</meetingID>
<internalMeetingID>183f0bf3a0982a127bdb8161e0c44eb696b3e75c-1531240585189</internalMeetingID>
<parentMeetingID>bbb-none</parentMeetingID>
<attendeePW>ap</attendeePW>
<moderatorPW>mp</moderatorPW>
<createTime>1531240585189</createTime>
<voiceBridge>70066</voiceBridge>
<dialNumber>613-555-1234</dialNumber>
<createDate>Tue Jul 10 16:36:25 UTC 2018</createDate>
<hasUserJoined>false</hasUserJoined>
<duration>0</duration>
<hasBeenForciblyEnded>false</hasBeenForciblyEnded>
<messageKey>duplicateWarning</messageKey>
<message>This conference was already in existence and may currently be in progress.</message>
</response>''')
put('bbb_xml_fuzz', 'getmeetinginfo', '<?xml version="1.0" encoding="UTF-8"?>\n<response>\n<returncode>SUCCESS</returncode>\n' + meeting('demo-1')[len('<meeting>'):-len('</meeting>')] + '</response>')
put('bbb_xml_fuzz', 'failed', '<response>\n<returncode>FAILED</returncode>\n<messageKey>checksumError</messageKey>\n<message>You did not pass the checksum security check</message>\n</response>')
put('bbb_xml_fuzz', 'not_found', '<response><returncode>FAILED</returncode><messageKey>notFound</messageKey><message>A meeting with that ID does not exist</message></response>')
put('bbb_xml_fuzz', 'api_root', '<response>\n<returncode>SUCCESS</returncode>\n<version>2.0</version>\n<apiVersion>2.0</apiVersion>\n<bbbVersion>2.7.12</bbbVersion>\n<graphqlWebsocketUrl>wss://bbb1.example.com/graphql</graphqlWebsocketUrl>\n</response>')
put('bbb_xml_fuzz', 'is_meeting_running', '<response>\n<returncode>SUCCESS</returncode>\n<running>true</running>\n</response>')
put('bbb_xml_fuzz', 'html_error', '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>')
put('bbb_xml_fuzz', 'doctype_entities', '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><response><returncode>SUCCESS</returncode><bbbVersion>&a;&#x41;&lt;</bbbVersion></response>')

# ---- store URLs
urls = {
 'redis_plain': 'redis://127.0.0.1:6379/0',
 'redis_host_only': 'redis://localhost',
 'redis_password': 'redis://:s3cr3t-pass@redis.example.com:6380/2',
 'redis_acl_user': 'redis://switchboard:p%40ss%3Aw0rd@10.0.0.5:6379/15',
 'redis_ipv6': 'redis://[::1]:7001/3',
 'redis_ipv6_bad': 'redis://[fe80::1%25eth0:6379/1',
 'rediss_tls': 'rediss://default:hunter2hunter2@cache.example.com:6380/0',
 'redis_query': 'redis://h:6379/0?timeout=5',
 'pg_url': 'postgresql://switchboard:pa%40ssw0rd@db.example.com:5432/switchboard',
 'pg_short_scheme': 'postgres://sb@db/sb?sslmode=require&connect_timeout=5',
 'pg_password_param': 'postgresql://sb@db/x?password=hunter2hunter2&sslmode=require&application_name=sb',
 'pg_ipv6': 'postgresql://sb:secretpassword@[2001:db8::1]:5433/switchboard?target_session_attrs=read-write',
 'pg_multi_host': 'postgresql://sb:secretpassword@db1:5432,db2:5432/sb?target_session_attrs=primary',
 'pg_keyvalue': "host=db port=5432 dbname=sb user=sb password='a b\\' c' sslmode=verify-full",
 'pg_socket': 'postgresql:///switchboard?host=/var/run/postgresql',
}
for name, u in urls.items(): put('store_urls_fuzz', name, u)

# ---- admin API requests
def admin(name, line, body=None):
    put('admin_api_fuzz', name, line + ('\n' + (body if isinstance(body, str) else json.dumps(body)) if body is not None else ''))
admin('list', 'GET /servers')
admin('get', 'GET /servers/s1')
admin('add', 'POST /servers', {"url": "https://bbb3.example.com/bigbluebutton/api", "secret": "0123456789abcdef0123456789", "tag": "eu", "load_multiplier": 2.5, "state": "enabled", "max_users": 300, "max_meetings": 20, "ws_url": "ws://bbb3.example.com:8080/ws", "wss_url": "wss://bbb3.example.com/ws", "max_connections": 500, "added_by_operator": True})
admin('add_wrapped', 'POST /servers', {"server": {"url": "https://bbb4.example.com/bigbluebutton/api/", "secret": "wrapped-secret-123"}, "tag": "us"})
admin('add_bad_types', 'POST /servers', '{"url": 1, "secret": null, "load_multiplier": "1e999", "max_users": 1e20}')
admin('update', 'PATCH /servers/s1', {"tag": None, "load_multiplier": "0.5", "state": "cordoned", "max_meetings": 0})
admin('update_put', 'PUT /servers/s2', {"url": "http://10.0.0.2/bigbluebutton/api", "secret": "another-secret-99"})
admin('state', 'POST /servers/s1/cordon')
admin('panic', 'POST /servers/s1/panic', {"failover": True, "keep_state": False})
admin('delete', 'DELETE /servers/s2')
admin('meetings', 'GET /meetings?server=s1')
admin('meeting_end', 'POST /meetings/m1/end')
admin('meeting_move', 'POST /meetings/m1/move', {"to": "s2"})
admin('status', 'GET /status?survive=2')
admin('register', 'POST /servers/register', {"url": "https://bbb9.example.com/bigbluebutton/api", "secret": "registration-secret-1", "tag": "autoscaled"})
admin('register_token', 'POST /servers/register', {"url": "https://bbb9.example.com/bigbluebutton/api", "secret": "registration-secret-12"})
admin('deregister', 'POST /servers/deregister', {"url": "https://s1.example.com/bigbluebutton/api", "secret": "secret-s1"})
admin('percent_path', 'GET /servers/%73%31')
admin('not_json', 'POST /servers', '{not json')
admin('deep', 'POST /servers', '[' * 50 + ']' * 50)
# Regression: a 500 (bytes that are not UTF-8 echoed in the 404's message).
put('admin_api_fuzz', 'regression_path_not_utf8', b'GET /serve\x9ars/s1')
# Regression: a 500 ("Invalid meeting ID" was an internal error).
put('admin_api_fuzz', 'regression_meeting_id_nul', b'POST /meetings/\x00\x00Y/end')
# Regression: UBSan (1e20 converted to int).
admin('regression_int_range', 'POST /servers', '{"url": "https://bbb9.example.com/bigbluebutton/api", "secret": "s", "max_users": 1e20, "max_meetings": 4294967297}')

# ---- BBB API requests (bbb_api_fuzz signs queries without checksum=)
def api(name, line, query='', body=None):
    put('bbb_api_fuzz', name, line + '\n' + query + ('\n' + body if body is not None else ''))
api('create', 'GET create', qs['create'])
api('create_unicode', 'GET create', qs['create_unicode'] + '&duration=60&meta_server-tag=eu%21&meta_bbb-meeting-size-hint=30')
api('create_slides', 'POST create', 'meetingID=slides-1&name=Slides', '<modules><module name="presentation"><document url="https://example.com/a.pdf" filename="a.pdf"/></module></modules>')
api('create_form', 'POST create', '', 'meetingID=form-1&name=Form+Room&checksum=0000000000000000000000000000000000000000')
api('join', 'GET join', 'fullName=Ada&meetingID=m1&password=mp&redirect=false')
api('join_unknown', 'GET join', qs['join'])
api('end', 'GET end', 'meetingID=m1&password=mp')
api('running', 'GET isMeetingRunning', 'meetingID=m1')
api('info', 'GET getMeetingInfo', 'meetingID=m1')
api('meetings', 'GET getMeetings', '')
api('root', 'GET ', '')
api('bad_checksum', 'GET create', 'meetingID=x&checksum=' + 'f' * 64)
api('insert', 'POST insertDocument', 'meetingID=m1', '<modules><module name="presentation"><document url="https://example.com/b.pdf"/></module></modules>')
api('chat', 'GET sendChatMessage', 'meetingID=m1&message=hello&userName=bot')
api('unknown', 'GET getTheWeather', 'meetingID=m1')
api('recordings', 'GET getRecordings', 'recordID=rec,rec-1,rec-1&state=any&offset=0&limit=5&meta_course=math,x')
api('recordings_meeting', 'GET getRecordings', 'meetingID=m1,internal-m1')
api('publish', 'GET publishRecordings', 'recordID=rec-1&publish=false')
api('update', 'POST updateRecordings', 'recordID=rec-1&meta_course=&meta_x%5B%5D=1', 'meta_y=2')
api('delete', 'GET deleteRecordings', 'recordID=rec-1,nope')
api('head', 'HEAD isMeetingRunning', 'meetingID=m1')

# ---- raw HTTP requests (what a client writes on the connection)
def raw(name, text):
    put('request_reader_fuzz', name, text)
raw('get_join', 'GET /bigbluebutton/api/join?fullName=Ada&meetingID=demo-1&password=mp&checksum=' + '0' * 40 + ' HTTP/1.1\r\nHost: lb.example.com\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate, br\r\nCookie: flag\r\nX-Forwarded-For: 203.0.113.7, 10.0.0.1\r\n\r\n')
raw('post_create_xml', 'POST /bigbluebutton/api/create?meetingID=slides-1&checksum=' + 'a' * 64 + ' HTTP/1.1\r\nHost: lb\r\nContent-Type: application/xml\r\nContent-Length: 96\r\n\r\n<modules><module name="presentation"><document url="https://example.com/a.pdf"/></module></modules>')
raw('pipelined', 'GET /bigbluebutton/api HTTP/1.1\r\nHost: a\r\n\r\nHEAD /health HTTP/1.1\r\nHost: a\r\n\r\nGET /bigbluebutton/api//getMeetings?checksum=x#frag HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
raw('admin_patch', 'PATCH /switchboard/api/v1/servers/s1 HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer token\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"tag": "eu!"}\n')
raw('http10_keepalive', 'GET /bigbluebutton/api/isMeetingRunning?meetingID=m1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n')
raw('absolute_form', 'GET http://lb.example.com:8080/bigbluebutton/api/getMeetings?checksum=abc HTTP/1.1\r\nHost: lb.example.com:8080\r\n\r\n')
raw('chunked', 'POST /bigbluebutton/api/create?x=1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n')
raw('bad_headers', 'GET / HTTP/1.1\r\nCache-Control: x\r\nDate: yesterday\r\nContent-Length: -1\r\nAccept: *; q=.\r\n\r\n')
raw('two_lengths', 'POST /switchboard/api/v1/servers HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}')
raw('bare_lf', 'GET /health HTTP/1.1\nHost: a\n\n')
raw('garbage', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n')
raw('http2_preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
raw('obs_fold', 'GET / HTTP/1.1\r\nX-Long: a\r\n  continued\r\n\r\n')
raw('too_large_body', 'POST /health HTTP/1.1\r\nContent-Length: 1000000000000\r\n\r\n')
api('info_bbb_answer', 'GET getMeetingInfo', 'meetingID=m1', '@@BBB@@\n<response><returncode>SUCCESS</returncode><meetingID>m1</meetingID><running>true</running><participantCount>3</participantCount><metadata><a>&lt;b&gt;</a></metadata></response>')
api('create_bbb_failed', 'GET create', 'meetingID=m2&name=x', '@@BBB@@\n<response><returncode>FAILED</returncode><messageKey>idNotUnique</messageKey><message>A meeting already exists with that meeting ID.</message></response>')
api('end_bbb_garbage', 'GET end', 'meetingID=m1&password=mp', '@@BBB@@\n<html>502</html>')
# An invariant of the target was wrong here (asterisk-form targets pass, for any method).
raw('asterisk_target', 'GET * HTTP/1.1\r\n\r\nOPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n')
# text_track_fuzz: a lang line, then a multipart body (boundary "b") with SubRip and WebVTT files.
put('text_track_fuzz', 'srt_and_vtt',
    'en_US\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="a.srt"\r\n\r\n'
    '1\r\n00:00:01,000 --> 00:00:02,500\r\nHello\r\n\r\n--b\r\n\r\n'
    'WEBVTT\n\n00:01.000 --> 00:02.000\nHi\n\r\n--b--\r\n')
put('text_track_fuzz', 'bad_lang_cut_body', 'zh-Hant-TW-x\r\n--b\r\nContent-Type: text/vtt\r\n\r\nWEBVTT')
