#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 25-undisturbed.t - retiring a worker never disturbs a request (issue 7).
#
# 1. t/apps/waiter.c waits during each request ("wait=1500") in epoll_wait()
#    and then in recv() with SO_RCVTIMEO, and reports how often either call
#    returned EINTR (a SIGSTOP/SIGCONT probe or a signal during the wait does
#    that).  4 clients on 2 workers (saturated), 5 gracefuls: every answer
#    says EINTR_EPOLL=0 and EINTR_RECV=0, nothing failed.
# 2. t/apps/mt.c: 4 threads in FCGX_Accept_r, Processes 2 (8 threads),
#    16 clients (saturated) with 0.3 to 2 s requests, 10 gracefuls: no request lost, the
#    workers of before the gracefuls are all gone in the end, and each ended
#    on its stop signal (none killed, neither idle nor at ShutdownTimeout).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(wait_for app_conf);

subtest 'epoll_wait()/recv() with a timeout see no EINTR across gracefuls' => sub {
    my $t = FcgiPmTest->new(mpm => 'event');
    my $waiter = $t->app('waiter');
    $t->write_conf(app_conf('w', "$waiter --app=w", 'Processes 2', 'ShutdownTimeout 20'));
    ok($t->start, 'httpd started');
    my $r = $t->wait_ok('/w/x?wait=100', 20);
    ok($r && $r->{body} =~ /^APP=waiter$/m && $r->{body} =~ /^EINTR_EPOLL=0$/m,
       'waiter answers, no EINTR when left alone') or diag($r ? $r->{body} : 'no answer');
    my $mark = $t->log_mark;
    my $load = $t->load_start(
        clients => 4, until_stopped => 1, max_seconds => 60, timeout => 30,
        expect  => qr/^EINTR_EPOLL=0\nEINTR_RECV=0$/m,
        path    => sub { my ($c, $i) = @_; return "/w/x?wait=1500&c=$c&i=$i" },
    );
    sleep 2;
    my @at;
    for my $g (1 .. 5) {
        push @at, time;
        ok(eval { $t->graceful }, "graceful $g") or diag($@);
        sleep 1.5;
    }
    sleep 2;
    my $s = $t->load_finish($load);
    note(FcgiPmTest::load_summary_text($s));
    cmp_ok($s->{total}, '>=', 30, "at least 30 waiting requests ($s->{total})");
    my $in_flight = 0;
    for my $at (@at) {
        $in_flight++ if grep { $_->[0] <= $at && $_->[0] + $_->[1] / 1000 >= $at } @{ $s->{records} };
    }
    is($in_flight, scalar @at, 'requests were waiting at every graceful');
    is($s->{failed}, 0, 'zero failed requests');
    is($s->{non2xx}, 0, 'zero non-2xx answers');
    is($s->{bad_body}, 0, 'every answer says EINTR_EPOLL=0 and EINTR_RECV=0')
        or diag(join "\n", @{ $s->{errors} });
    unlike($t->log_since($mark), qr/ShutdownTimeout\); killing it/, 'no worker killed');
    ok($t->stop, 'httpd stopped');
    $t->cleanup;
};

subtest '4-thread libfcgi worker loses no request across 10 gracefuls' => sub {
    my $t = FcgiPmTest->new(mpm => 'event');
    my $mt = $t->app('mt');
    $t->write_conf(app_conf('mt', "$mt --app=mt", 'Processes 2', 'ShutdownTimeout 10'));
    ok($t->start, 'httpd started');
    my $r = $t->wait_ok('/mt/x', 20);
    ok($r && $r->{body} =~ /^APP=mt$/m, 'mt answers');
    my $W = qr/--app=mt\b/;
    ok(wait_for(sub { $t->workers(match => $W) == 2 }, 10), '2 mt workers');
    my $first = FcgiPmTest::identities($t->workers(match => $W));
    my $mark = $t->log_mark;
    my $load = $t->load_start(
        clients => 16, until_stopped => 1, max_seconds => 90, timeout => 30,
        expect  => qr/^APP=mt$/m,
        path    => sub { my ($c, $i) = @_; my $ms = (300, 1000, 2000)[($c + $i) % 3];
                         return "/mt/x?sleep=$ms&c=$c&i=$i" },
    );
    sleep 2;
    for my $g (1 .. 10) {
        ok(eval { $t->graceful }, "graceful $g") or diag($@);
        sleep 1;
    }
    sleep 2;
    my $s = $t->load_finish($load);
    note(FcgiPmTest::load_summary_text($s));
    cmp_ok($s->{total}, '>=', 60, "at least 60 requests ($s->{total})");
    is($s->{failed}, 0, 'zero failed requests');
    is($s->{non2xx}, 0, 'zero non-2xx answers');
    is($s->{bad_body}, 0, 'every answer from mt');
    diag(join "\n", @{ $s->{errors} }) if $s->{failed} || $s->{non2xx} || $s->{bad_body};
    ok(wait_for(sub { !FcgiPmTest::still_alive($first) }, 20), 'the first workers are gone')
        or diag('still alive: ' . join(' ', FcgiPmTest::still_alive($first)));
    # USR1 to a thread waiting in accept() ends every thread of a libfcgi
    # worker (each reads the flag before its next accept): none is killed.
    my $log = $t->log_since($mark);
    my @kills = $log =~ /^(.*(?:killed while it served no request|ShutdownTimeout\); killing it).*)$/mg;
    is(scalar @kills, 0, 'every retired mt worker ended on USR1, none was killed')
        or diag(join "\n", @kills);
    ok($t->stop, 'httpd stopped');
    ok(wait_for(sub { !$t->our_processes }, 20), 'nothing left after stop');
    $t->cleanup;
};

done_testing;
