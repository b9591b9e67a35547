#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 28-dynamic.t - dynamic pools (issue 9): MaxProcesses and IdleTimeout.
#
# Processes 1, MaxProcesses 4, IdleTimeout 3, a libfcgi app:
#  1. 8 clients of 400 ms requests (saturation): the pool grows to 4
#     workers and never beyond; the log says why.
#  2. A graceful while grown (3 clients): the new roll starts as many
#     workers as the pool had; nothing fails.
#  3. One client left, still sending 400 ms requests: the pool shrinks back
#     to 1 worker; its retired workers leave without a failed request.
#  4. Processes 0: no worker until the first request, which is answered;
#     none again after IdleTimeout; a graceful at zero stays at zero.
#  5. Processes 0 at rest while another app is saturated (6 clients on 2
#     workers): its socket waits in the manager's epoll set of apps at rest
#     (and nothing else does, no stale entry), its first request is
#     answered, and again after it went back to rest through IdleTimeout,
#     and again after a graceful while at rest; removed while at rest, it
#     leaves the set and its socket goes.
#  6. Without MaxProcesses the pool stays at Processes under the same load.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(wait_for app_conf);

my $W = qr/--app=dyn\b/;

sub slow_load {
    my ($t, $clients) = @_;
    return $t->slow_hello_load('/dyn', $clients, 400);
}

# Most workers seen at once over SECONDS (sampled every 0.1 s).
sub most_workers {
    my ($t, $seconds) = @_;
    my $most = 0;
    my $end = time + $seconds;
    while (time < $end) {
        my $n = scalar $t->workers(match => $W);
        $most = $n if $n > $most;
        sleep 0.1;
    }
    return $most;
}

# The manager's epoll set of apps at rest: {socket inode => the manager's
# fd}, and how many of its entries are stale (the fd closed, or now
# another file: a registration left behind).
sub at_rest {
    my ($mgr) = @_;
    my (%set, $stale);
    return unless $mgr && opendir my $dh, "/proc/$mgr/fd";
    $stale = 0;
    for my $fd (grep { /^\d+$/ } readdir $dh) {
        next unless (readlink("/proc/$mgr/fd/$fd") // '') eq 'anon_inode:[eventpoll]';
        open my $fh, '<', "/proc/$mgr/fdinfo/$fd" or next;
        while (my $l = <$fh>) {
            next unless $l =~ /^tfd:\s*(\d+).*\bino:\s*([0-9a-f]+)/;
            my ($tfd, $ino) = ($1, hex $2);
            if ((readlink("/proc/$mgr/fd/$tfd") // '') eq "socket:[$ino]") { $set{$ino} = $tfd }
            else { $stale++ }
        }
    }
    return (\%set, $stale);
}

# The inode of the unix socket listening at PATH, from /proc/net/unix.
sub listen_inode {
    my ($path) = @_;
    open my $fh, '<', '/proc/net/unix' or return;
    while (<$fh>) {
        my @f = split;
        return $f[6] if @f >= 8 && $f[7] eq $path && $f[3] eq '00010000';
    }
    return;
}

subtest 'grows under load up to MaxProcesses, shrinks back when idle' => sub {
    my $t = FcgiPmTest->new;
    my $hello = $t->app('hello');
    $t->write_conf(app_conf('dyn', "$hello --app=dyn", 'Processes 1', 'MaxProcesses 4',
                            'IdleTimeout 3', 'ShutdownTimeout 10'));
    ok($t->start, 'httpd started');
    ok($t->wait_ok('/dyn/x', 20), 'app answers');
    ok(wait_for(sub { $t->workers(match => $W) == 1 }, 10), 'one worker at rest');
    my $mark = $t->log_mark;

    my $heavy = slow_load($t, 8);
    ok(wait_for(sub { $t->workers(match => $W) == 4 }, 15), 'the pool grew to 4 under load')
        or diag('workers: ' . scalar $t->workers(match => $W));
    my $most = most_workers($t, 4);
    is($most, 4, 'never more than MaxProcesses (4) workers');
    like($t->log_since($mark), qr/app dyn: connections wait, \d+ workers busy: growing to 4 \(MaxProcesses 4\)/,
         'the growth is logged');

    my $s = $t->load_finish($heavy);
    note(FcgiPmTest::load_summary_text($s));
    cmp_ok($s->{total}, '>=', 30, "load ran ($s->{total} requests)");
    is($s->{failed}, 0, 'zero failed requests while growing');
    is($s->{non2xx}, 0, 'zero non-2xx answers');

    # A graceful while grown, under a lighter load (3 clients on 4
    # workers): the new roll starts as many workers as the pool had, the
    # old ones leave, nothing fails.
    my @grown = $t->workers(match => $W);
    my $mid = slow_load($t, 3);
    sleep 1;
    ok(eval { $t->graceful }, 'graceful while grown') or diag($@);
    ok(wait_for(sub { my @now = $t->workers(match => $W);
                      @now >= 3 && !grep { my $o = $_; grep { $_ == $o } @grown } @now }, 20),
       'the new roll runs, the old workers are gone')
        or diag('workers: ' . join(' ', $t->workers(match => $W)) . '; before: @grown');
    like($t->log_since($mark), qr/app dyn: worker \d+ started \(roll 1\)(?s:.*)app dyn: worker \d+ started \(roll 1\)(?s:.*)app dyn: worker \d+ started \(roll 1\)/,
         'the new roll started at least 3 workers');
    $s = $t->load_finish($mid);
    note(FcgiPmTest::load_summary_text($s));
    is($s->{failed} + $s->{non2xx}, 0, 'zero failed requests across the graceful');

    $mark = $t->log_mark;
    my $light = slow_load($t, 1);
    ok(wait_for(sub { $t->workers(match => $W) == 1 }, 30), 'with one client left, back to 1 worker')
        or diag('workers: ' . scalar $t->workers(match => $W));
    sleep 1;
    $s = $t->load_finish($light);
    note(FcgiPmTest::load_summary_text($s));
    cmp_ok($s->{total}, '>=', 10, "light load ran ($s->{total} requests)");
    is($s->{failed} + $s->{non2xx}, 0, 'zero failed requests while shrinking');
    my $log = $t->log_since($mark);
    my $retired = 0;
    $retired += $_ for $log =~ /app dyn: at most \d+ of \d+ workers busy \([\d.]+ on average\) for 3 s: retiring (\d+) \(Processes 1\)/g;
    is($retired, 3, 'three workers retired by IdleTimeout, as many at once as were not needed');
    unlike($log, qr/ShutdownTimeout\); killing it|killed while it served no request/, 'no worker killed');
    ok($t->stop, 'httpd stopped');
    $t->cleanup;
};

subtest 'Processes 0: started by the first request, back to none when idle' => sub {
    my $t = FcgiPmTest->new;
    my $hello = $t->app('hello');
    $t->write_conf(app_conf('dyn', "$hello --app=dyn", 'Processes 0', 'IdleTimeout 2',
                            'ShutdownTimeout 10'));
    ok($t->start, 'httpd started');
    sleep 1;
    is(scalar $t->workers(match => $W), 0, 'no worker before the first request');
    my $r = $t->get('/dyn/x', timeout => 30);
    is($r->{status}, 200, 'the first request is answered (no 503)');
    like($r->{body} // '', qr/^APP=hello-c$/m, '... by the app');
    is(scalar $t->workers(match => $W), 1, 'one worker now');
    ok(wait_for(sub { $t->workers(match => $W) == 0 }, 20), 'no worker after IdleTimeout');
    ok(eval { $t->graceful }, 'graceful at zero') or diag($@);
    sleep 2;
    is(scalar $t->workers(match => $W), 0, 'still no worker after the graceful');
    my $load = slow_load($t, 2);
    sleep 3;
    my $s = $t->load_finish($load);
    note(FcgiPmTest::load_summary_text($s));
    cmp_ok($s->{total}, '>=', 4, "requests after the graceful ($s->{total})");
    is($s->{failed} + $s->{non2xx}, 0, 'none failed');
    like($t->log_text, qr/app dyn: a connection waits: starting a worker \(Processes 0\)/,
         'the start on demand is logged');
    ok($t->stop, 'httpd stopped');
    $t->cleanup;
};

subtest 'Processes 0 at rest: woken by its first request, while another app is saturated' => sub {
    my $t = FcgiPmTest->new;
    my $hello = $t->app('hello');
    my $C = qr/--app=cold\b/;
    $t->write_conf(app_conf('dyn', "$hello --app=dyn", 'Processes 1', 'MaxProcesses 2',
                            'ShutdownTimeout 10')
                   . app_conf('cold', "$hello --app=cold", 'Processes 0', 'IdleTimeout 2',
                              'ShutdownTimeout 10'));
    ok($t->start, 'httpd started');
    ok($t->wait_ok('/dyn/x', 20), 'the busy app answers');
    my $mgr = $t->manager_pid;
    # At rest: the cold app's socket, and nothing else, in the set.
    my $cold_at_rest = sub {
        my ($set, $stale) = at_rest($mgr);
        my $ino = listen_inode($t->sockdir . '/cold.sock');
        return $set && $ino && !$stale && keys %$set == 1 && exists $set->{$ino};
    };
    ok(wait_for($cold_at_rest, 10), 'the cold app is at rest: its socket alone in the epoll set')
        or diag(explain([at_rest($mgr)]));
    my $mark = $t->log_mark;
    my $load = slow_load($t, 6);
    my $first = sub {
        my ($when) = @_;
        my $r = $t->get('/cold/x', timeout => 30);
        is($r->{status}, 200, "the cold app answers its first request $when (no 503)");
        like($r->{body} // '', qr/^APP=hello-c$/m, '... from the app');
    };
    $first->('at start');
    ok(wait_for(sub { $t->workers(match => $C) == 0 && $cold_at_rest->() }, 20),
       'after IdleTimeout: no worker, at rest again');
    $first->('after it went back to rest');
    ok(wait_for(sub { $t->workers(match => $C) == 0 && $cold_at_rest->() }, 20),
       'at rest again');
    ok(eval { $t->graceful }, 'graceful while it rests') or diag($@);
    is($t->manager_pid, $mgr, 'same manager');
    ok(wait_for($cold_at_rest, 10),
       'after the graceful: at rest, one entry in the set, none left of the replaced record')
        or diag(explain([at_rest($mgr)]));
    is(scalar $t->workers(match => $C), 0, 'no worker');
    $first->('after a graceful while at rest');
    my $s = $t->load_finish($load);
    note(FcgiPmTest::load_summary_text($s));
    cmp_ok($s->{total}, '>=', 20, "the saturating load ran ($s->{total} requests)");
    is($s->{failed} + $s->{non2xx}, 0, 'none of its requests failed');
    my $starts = () = $t->log_since($mark)
        =~ /app cold: a connection waits: starting a worker \(Processes 0\)/g;
    is($starts, 3, 'three starts on demand, one per first request');

    # Removed from the configuration while at rest: it leaves the set
    # (no stale entry), its socket goes.
    ok(wait_for($cold_at_rest, 20), 'at rest before its removal');
    $t->write_conf(app_conf('dyn', "$hello --app=dyn", 'Processes 1', 'MaxProcesses 2',
                            'ShutdownTimeout 10'));
    ok(eval { $t->graceful }, 'graceful without the cold app') or diag($@);
    ok(wait_for(sub { my ($set, $stale) = at_rest($mgr);
                      $set && !%$set && !$stale && !-e $t->sockdir . '/cold.sock' }, 20),
       'removed: the epoll set is empty, its socket is gone')
        or diag(explain([at_rest($mgr)]));
    ok($t->stop, 'httpd stopped');
    $t->cleanup;
};

subtest 'without MaxProcesses the pool stays at Processes' => sub {
    my $t = FcgiPmTest->new;
    my $hello = $t->app('hello');
    $t->write_conf(app_conf('dyn', "$hello --app=dyn", 'Processes 2', 'ShutdownTimeout 10'));
    ok($t->start, 'httpd started');
    ok($t->wait_ok('/dyn/x', 20), 'app answers');
    my $load = slow_load($t, 8);
    sleep 1;
    is(most_workers($t, 4), 2, 'two workers under saturation, no more');
    my $s = $t->load_finish($load);
    is($s->{failed}, 0, 'zero failed requests');
    ok($t->stop, 'httpd stopped');
    $t->cleanup;
};

done_testing;
