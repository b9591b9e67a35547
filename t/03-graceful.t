#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 03-graceful.t - the manager survives gracefuls and restarts; workers of an
# app with RestartOnGraceful On (default) are all replaced at each graceful,
# those of an app with RestartOnGraceful Off are kept; a changed app is
# restarted even with Off; an added app starts, a removed app's workers and
# socket go away.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(wait_for pid_alive);

my $t = FcgiPmTest->new;
my $root = $t->root;
my $hello = $t->app('hello');

sub conf_body {
    my (%o) = @_;
    my $off_env = $o{off_env} // 'v1';
    my $on_extra = $o{on_crash} ? "    Env CRASH_AT_START 1\n" : '';
    my $body = <<"EOT";
<FcgiPmApp on>
    Command $hello --app=on
    Processes 2
    ShutdownTimeout 3
$on_extra</FcgiPmApp>
<Location /on>
    FcgiPmPass on
</Location>
<FcgiPmApp off>
    Command $hello --app=off
    Processes 2
    RestartOnGraceful Off
    ShutdownTimeout 3
    Env OFF_VERSION $off_env
</FcgiPmApp>
<Location /off>
    FcgiPmPass off
</Location>
EOT
    $body .= <<"EOT" if $o{extra};
<FcgiPmApp extra>
    Command $hello --app=extra
    Processes 1
    RestartOnGraceful Off
    ShutdownTimeout 3
</FcgiPmApp>
<Location /extra>
    FcgiPmPass extra
</Location>
EOT
    return $body;
}

my $ON  = qr/--app=on\b/;
my $OFF = qr/--app=off\b/;
my $EXTRA = qr/--app=extra\b/;

$t->write_conf(conf_body());
ok($t->start, 'httpd started');
my $httpd = $t->httpd_pid;
ok(wait_for(sub { $t->manager_pid }, 10), 'one manager') or give_up();
my $manager = $t->manager_pid;
ok(wait_for(sub { $t->workers(match => $ON) == 2 && $t->workers(match => $OFF) == 2 }, 20),
   'apps on and off: 2 workers each');
ok($t->wait_ok('/on/', 20) && $t->wait_ok('/off/', 20), 'both apps answer');

sub give_up { diag($t->log_tail(40)); done_testing; exit 1 }

my @on  = $t->workers(match => $ON);
my @off = $t->workers(match => $OFF);
my %replaced_on;

for my $round (1 .. 5) {
    subtest "graceful $round" => sub {
        my %old_on = map { $_ => 1 } @on;
        ok($t->graceful, "apache2 -k graceful ($round)");
        is($t->httpd_pid, $httpd, 'httpd parent unchanged');
        my @m = $t->managers;
        is_deeply(\@m, [$manager], "manager pid unchanged ($manager)") or diag("managers now: @m");

        # All "on" workers replaced: 2 workers, none of the old ones, and the
        # old processes gone.
        my $done = wait_for(sub {
            my @now = $t->workers(match => $ON);
            return @now == 2 && !(grep { $old_on{$_} } @now)
                && !(grep { pid_alive($_) } keys %old_on);
        }, 30, 0.1);
        my @now_on = $t->workers(match => $ON);
        ok($done, "on: both workers replaced (before: @on; now: @now_on)");
        $replaced_on{$_} = 1 for @on;

        # "off" workers kept, checked after the "on" replacement finished.
        my @now_off = $t->workers(match => $OFF);
        is_deeply(\@now_off, \@off, "off: workers kept (@off)");

        my $r = $t->get('/on/');
        is($r->{status}, 200, 'on answers');
        my $pid = FcgiPmTest::kv($r->{body})->{PID} // 0;
        ok((grep { $_ == $pid } @now_on), "on answered by a new worker ($pid)");
        $r = $t->get('/off/');
        is($r->{status}, 200, 'off answers');
        $pid = FcgiPmTest::kv($r->{body})->{PID} // 0;
        ok((grep { $_ == $pid } @off), "off answered by a kept worker ($pid)");
        @on = @now_on;
    };
}

# Every retired worker was logged.
{
    my $log = $t->log_text;
    my @missing = grep { $log !~ /app on: worker $_ exited/ } sort keys %replaced_on;
    ok(!@missing, 'log has "app on: worker PID exited" for every replaced worker')
        or diag("no exit line for: @missing");
}

# ShutdownTimeout bounds how long a retiring worker may keep a request:
# a worker busy with a 15 s request is not killed before ShutdownTimeout (3 s)
# but is gone soon after it.
subtest 'ShutdownTimeout on a busy retiring worker' => sub {
    my @old = $t->workers(match => $ON);
    my $load = $t->load_start(clients => 1, min_requests => 1, timeout => 30, max_seconds => 30,
                              path => '/on/busy?sleep=15000');
    sleep 0.5;
    my $g = time;
    ok($t->graceful, 'graceful while one "on" worker is busy for 15 s');
    # The idle old worker retires at once; the busy one stays.
    my $busy = wait_for(sub {
        my @alive = grep { pid_alive($_) } @old;
        @alive == 1 ? $alive[0] : undef;
    }, 10, 0.05);
    ok($busy, 'idle old worker retired, busy one still there' . ($busy ? " ($busy)" : ''));
    my $wait = 1.5 - (time - $g);
    sleep $wait if $wait > 0;
    ok($busy && pid_alive($busy), 'busy worker not killed before ShutdownTimeout (alive 1.5 s after the graceful)');
    my $gone = wait_for(sub { !pid_alive($busy) }, 20, 0.05);
    my $after = time - $g;
    ok($gone, sprintf('busy worker gone %.1f s after the graceful', $after));
    cmp_ok($after, '<', 3 + 4, 'busy worker killed within ShutdownTimeout 3 s (+4 s slack)');
    my $s = $t->load_finish($load);
    note('the 15 s request ended with status ' . join(',', keys %{ $s->{by_status} })
         . sprintf(' after %.1f s', $s->{max_ms} / 1000));
    cmp_ok($s->{max_ms}, '<', 14000, 'the 15 s request did not run to its end');
    ok(wait_for(sub { $t->workers(match => $ON) == 2 }, 10), 'on: 2 workers');
    ok($t->wait_ok('/on/', 10), 'on answers');
    is_deeply([$t->workers(match => $OFF)], \@off, 'off workers still kept');
    @on = $t->workers(match => $ON);
};

# -k restart keeps the manager; apps keep serving.
subtest 'restart' => sub {
    ok($t->restart, 'apache2 -k restart');
    is($t->httpd_pid, $httpd, 'httpd parent unchanged');
    ok(wait_for(sub { my @m = $t->managers; @m == 1 && $m[0] == $manager }, 10),
       "manager pid unchanged after restart ($manager)") or diag('managers: ' . join(' ', $t->managers));
    ok($t->wait_ok('/on/', 20), 'on answers after restart');
    ok($t->wait_ok('/off/', 20), 'off answers after restart');
    ok(wait_for(sub { $t->workers(match => $ON) == 2 && $t->workers(match => $OFF) == 2 }, 30),
       'on and off have 2 workers each after restart');
    @on  = $t->workers(match => $ON);
    @off = $t->workers(match => $OFF);
};

# Changed configuration of an app with RestartOnGraceful Off: that app is
# restarted; an added app starts.
subtest 'changed and added app' => sub {
    my %old_off = map { $_ => 1 } @off;
    $t->write_conf(conf_body(off_env => 'v2', extra => 1));
    ok($t->graceful, 'graceful with off changed and extra added');
    is_deeply([$t->managers], [$manager], 'manager pid unchanged');
    ok(wait_for(sub {
        my @now = $t->workers(match => $OFF);
        @now == 2 && !(grep { $old_off{$_} } @now) && !(grep { pid_alive($_) } keys %old_off);
    }, 30), 'off (changed) workers replaced despite RestartOnGraceful Off')
        or diag('off workers: ' . join(' ', $t->workers(match => $OFF)) . " (old: @off)");
    my $r = $t->wait_ok('/off/?env=OFF_VERSION', 20);
    is(FcgiPmTest::kv($r ? $r->{body} : '')->{ENV_OFF_VERSION}, 'v2', 'off runs the new configuration');
    ok(wait_for(sub { $t->workers(match => $EXTRA) == 1 }, 20), 'extra app started: 1 worker');
    ok($t->wait_ok('/extra/', 20), 'extra app answers');
    ok(wait_for(sub { -S $t->sockdir . '/extra.sock' }, 5), 'extra.sock exists');
};

# Removed app: its workers exit, its socket is removed.
subtest 'removed app' => sub {
    my @extra = $t->workers(match => $EXTRA);
    ok(@extra == 1, 'extra has its worker');
    $t->write_conf(conf_body(off_env => 'v2'));
    ok($t->graceful, 'graceful with extra removed');
    is_deeply([$t->managers], [$manager], 'manager pid unchanged');
    ok(wait_for(sub { !(grep { pid_alive($_) } @extra) && !$t->workers(match => $EXTRA) }, 20),
       'extra workers gone');
    ok(wait_for(sub { !-e $t->sockdir . '/extra.sock' }, 20), 'extra.sock removed');
    my $r = $t->get('/extra/');
    isnt($r->{status}, 200, "removed app no longer served (status $r->{status})");
    ok($t->wait_ok('/on/', 10) && $t->wait_ok('/off/', 10), 'on and off still answer');
};

# A broken deploy: the new configuration of "on" makes every new worker
# crash at start.  New workers are never ready, so the old ones must not be
# retired: "on" keeps serving from its old workers.  Then a fixed
# configuration recovers.
subtest 'new generation crashes at start: old workers keep serving' => sub {
    ok(wait_for(sub { $t->workers(match => $ON) == 2 }, 10), 'on: 2 workers');
    my @old = $t->workers(match => $ON);
    my %old = map { $_ => 1 } @old;
    $t->write_conf(conf_body(off_env => 'v2', on_crash => 1));
    ok($t->graceful, 'graceful with a crashing "on"');
    my $t0 = time;
    my (@bad, %pids);
    my $n = 0;
    while (time - $t0 < 6) {
        my $r = $t->get("/on/broken?n=$n", timeout => 10);
        $n++;
        my $pid = FcgiPmTest::kv($r->{body})->{PID} // 0;
        $pids{$pid}++;
        push @bad, "$r->{status} after $r->{elapsed} ms" unless $r->{status} == 200;
        sleep 0.1;
    }
    is(scalar @bad, 0, "all $n requests to \"on\" answered 200 during the failed roll-out")
        or diag(join ', ', @bad[0 .. ($#bad > 9 ? 9 : $#bad)]);
    my @foreign = grep { !$old{$_} } keys %pids;
    ok(!@foreign, 'answered by the old workers (' . join(',', sort keys %pids) . ')');
    ok(!(grep { !pid_alive($_) } @old), "old workers still alive (@old)");

    $t->write_conf(conf_body(off_env => 'v2'));
    ok($t->graceful, 'graceful with the fixed configuration');
    ok(wait_for(sub {
        my @now = $t->workers(match => $ON);
        @now == 2 && !(grep { $old{$_} } @now);
    }, 40, 0.2), 'on: replaced by 2 new workers after the fix')
        or diag('on workers: ' . join(' ', $t->workers(match => $ON)) . "; old: @old");
    ok($t->wait_ok('/on/', 20), 'on answers after the fix');
    is_deeply([$t->managers], [$manager], 'manager pid unchanged');
};

ok($t->stop, 'httpd stopped');
done_testing;
