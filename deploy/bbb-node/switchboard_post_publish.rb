#!/usr/bin/ruby
# frozen_string_literal: true

# BBB post_publish hook: queues the recording just published for upload to Switchboard.
# Installed as /usr/local/bigbluebutton/core/scripts/post_publish/switchboard_post_publish.rb;
# BBB runs it after publishing each format, as `ruby switchboard_post_publish.rb -m <record id>
# -f <format>`. It returns at once: the upload (all formats published so far) is done by
# switchboard-recording-upload.timer, which retries until Switchboard acknowledges it.
# SWITCHBOARD_RECORDING_UPLOAD names the upload script when it is not in /usr/local/bin.

record_id = nil
args = ARGV.dup
until args.empty?
  arg = args.shift
  case arg
  when '-m', '--meeting-id', '--meeting_id' then record_id = args.shift
  when /\A--meeting[-_]id=(.+)\z/ then record_id = Regexp.last_match(1)
  end
end
abort('switchboard_post_publish: no -m <record id>') if record_id.nil? || record_id.empty?
abort("switchboard_post_publish: not a record ID: #{record_id}") unless record_id.match?(/\A[A-Za-z0-9_-]{1,256}\z/)

upload = ENV.fetch('SWITCHBOARD_RECORDING_UPLOAD', '/usr/local/bin/switchboard-recording-upload')
ok = system(upload, 'enqueue', record_id)
# Upload now rather than at the next tick of the timer (it runs by itself; never waited for).
system('systemctl', 'start', '--no-block', 'switchboard-recording-upload.service') if ok
exit(ok ? 0 : 1)
