#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 24-rolls.t - overlapping rolls never run out of worker slots (issue 7).
#
# Processes 60 and 60 clients whose requests take 2 s: at each graceful the
# old workers are busy, retiring, while the new ones start.  Three gracefuls
# in quick succession put three generations (180 workers) alive at once.
# Asserted: no "no table slot" (nor "table is full") in the log, no worker
# killed, zero failed / non-2xx requests, and afterwards exactly 60 workers,
# none of them from before the gracefuls.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(wait_for app_conf);

my $N = 60;
my $t = FcgiPmTest->new(mpm => 'event');
my $hello = $t->app('hello');
$t->write_conf(app_conf('hello', "$hello --app=hello", "Processes $N", 'ShutdownTimeout 30'));
ok($t->start(timeout => 40), 'httpd started');
my $W = qr/--app=hello\b/;
ok(wait_for(sub { $t->workers(match => $W) == $N }, 30), "$N workers");
ok($t->wait_ok('/hello/', 20), 'app answers');
my $manager = $t->manager_pid;
my $first = FcgiPmTest::identities($t->workers(match => $W));
my $mark = $t->log_mark;

my $load = $t->load_start(
    clients => $N, until_stopped => 1, max_seconds => 90, timeout => 60,
    expect  => qr/^APP=hello-c$/m,
    path    => sub { my ($c, $i) = @_; return "/hello/s?sleep=2000&c=$c&i=$i" },
);
sleep 3;   # every worker busy
my $peak = 0;
for my $g (1 .. 3) {
    ok(eval { $t->graceful }, "graceful $g") or diag($@);
    my $n = $t->workers(match => $W);
    $peak = $n if $n > $peak;
}
for (1 .. 20) {
    my $n = $t->workers(match => $W);
    $peak = $n if $n > $peak;
    sleep 0.1;
}
note("at most $peak workers seen at once");
sleep 4;
my $s = $t->load_finish($load);
note(FcgiPmTest::load_summary_text($s));
my $log = $t->log_since($mark);

my $noslot = () = $log =~ /no table slot/g;
is($noslot, 0, 'no "no table slot" in the log');
unlike($log, qr/table is full/, 'no "table is full" in the log');
unlike($log, qr/ShutdownTimeout\); killing it/, 'no worker killed at ShutdownTimeout');
unlike($log, qr/\(SIGKILL\)/, 'no worker exit by SIGKILL logged');
cmp_ok($s->{total}, '>=', $N * 3, "at least " . $N * 3 . " requests ($s->{total})");
is($s->{failed}, 0, 'zero failed requests');
is($s->{non2xx}, 0, 'zero non-2xx answers');
is($s->{bad_body}, 0, 'every answer from the app');
diag(join "\n", FcgiPmTest::load_summary_text($s), @{ $s->{errors} })
    if $s->{failed} || $s->{non2xx} || $s->{bad_body};
is($t->manager_pid, $manager, 'manager unchanged');
ok(wait_for(sub { !FcgiPmTest::still_alive($first) && $t->workers(match => $W) == $N }, 30),
   "afterwards $N workers, none from before the gracefuls")
    or diag('workers: ' . scalar($t->workers(match => $W)) . '; first still alive: '
            . scalar(FcgiPmTest::still_alive($first)));
ok($t->stop, 'httpd stopped');
ok(wait_for(sub { !$t->our_processes }, 40), 'nothing left after stop');
$t->cleanup;
done_testing;
