#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 33-many-apps.t - 5,000 on-demand apps (issue 9, scale of apps).
#
# 5,000 <FcgiPmApp> with Processes 0 (the libfcgi test app): configtest,
# start, a request to app #4,999 (and #0), a graceful, the same requests
# again, and stop all work; no app runs a worker it was not asked for.
# Apps at rest leave the manager's tick: every app without a worker has
# its socket in the manager's epoll set of apps at rest, the two that run
# one do not, and a graceful leaves no stale entry there.  The time of
# each step, the parent's and manager's memory and the idle manager's CPU
# time are printed (figures, not assertions: they belong in bench/).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(wait_for many_apps_conf);

my $APPS = $ENV{FCGI_PM_MANY_APPS} || 5000;

sub rss_kb {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/status" or return -1;
    while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)/ }
    return -1;
}

# Utime + stime of PID, in clock ticks.
sub cpu_ticks {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $stat = <$fh> // '';
    $stat =~ s/^.*\) //s;
    my @f = split ' ', $stat;
    return ($f[11] // 0) + ($f[12] // 0);
}

# The manager's epoll set of apps at rest: how many sockets it watches,
# and how many of its entries are stale (the fd closed, or now another
# file: a registration left behind).
sub at_rest {
    my ($mgr) = @_;
    my ($n, $stale) = (0, 0);
    return (-1, -1) unless $mgr && opendir my $dh, "/proc/$mgr/fd";
    for my $fd (grep { /^\d+$/ } readdir $dh) {
        next unless (readlink("/proc/$mgr/fd/$fd") // '') eq 'anon_inode:[eventpoll]';
        open my $fh, '<', "/proc/$mgr/fdinfo/$fd" or next;
        while (my $l = <$fh>) {
            next unless $l =~ /^tfd:\s*(\d+).*\bino:\s*([0-9a-f]+)/;
            my ($tfd, $ino) = ($1, hex $2);
            if ((readlink("/proc/$mgr/fd/$tfd") // '') eq "socket:[$ino]") { $n++ } else { $stale++ }
        }
    }
    return ($n, $stale);
}

sub at_rest_is {
    my ($mgr, $want, $what) = @_;
    my @got;
    ok(wait_for(sub { @got = at_rest($mgr); $got[0] == $want && $got[1] == 0 }, 30), $what)
        or diag("at rest: $got[0], stale: $got[1]; want $want, 0");
}

sub timed {
    my ($what, $code) = @_;
    my $t0 = time;
    my @r = $code->();
    note(sprintf('%s: %.2f s', $what, time - $t0));
    return wantarray ? @r : $r[0];
}

my $t = FcgiPmTest->new;
my $hello = $t->app('hello');
my $conf = many_apps_conf(apps => $APPS, command => $hello, lines => ['Processes 0', 'IdleTimeout 300'],
                          locations => [0, $APPS - 1]);
$conf .= FcgiPmTest::status_conf();
$t->write_conf($conf);

my ($rc, $out) = timed("configtest of $APPS apps", sub { $t->configtest });
is($rc, 0, "configtest accepts $APPS apps") or diag($out);
ok(timed("start with $APPS apps (until httpd answers)", sub { $t->start(timeout => 120) }),
   'httpd started');
ok(timed('manager has every app (status lists them)', sub {
       wait_for(sub { ($t->get('/fcgi-pm-status?auto')->{body} // '') =~ /^Apps: $APPS$/m }, 120) }),
   "the status page lists $APPS apps");
is(scalar $t->workers(match => qr/--app=a\d+\b/), 0, 'no app runs a worker yet');
my $manager = $t->manager_pid;
at_rest_is($manager, $APPS, "all $APPS apps at rest in the manager's epoll set");
{
    my $c0 = cpu_ticks($manager);
    sleep 5;
    note(sprintf('idle manager with %d apps at rest: %.2f s CPU in 5 s', $APPS,
                 (cpu_ticks($manager) - $c0) / 100));
}

my $last = $APPS - 1;
for my $i ($last, 0) {
    my $res = timed("first request to cold app a$i", sub { $t->get("/a$i/x", timeout => 60) });
    is($res->{status}, 200, "app a$i answers its first request");
    like($res->{body} // '', qr/^APP=hello-c$/m, '... from the test app');
}
is(scalar $t->workers(match => qr/--app=a\d+\b/), 2, 'two workers: the two apps asked for');
at_rest_is($manager, $APPS - 2, 'the two apps with a worker left the set');

my $parent = $t->httpd_pid;
note(sprintf('memory: parent %d kB, manager %d kB', rss_kb($parent), rss_kb($manager)));

ok(timed("graceful with $APPS apps", sub { $t->graceful(timeout => 120) }), 'graceful');
is($t->manager_pid, $manager, 'the manager survived it');
my $res = timed("request to a$last after the graceful", sub { $t->get("/a$last/x", timeout => 60) });
is($res->{status}, 200, "app a$last still answers");
is(scalar $t->workers(match => qr/--app=a\d+\b/), 2, 'still two workers');
at_rest_is($manager, $APPS - 2, 'after the graceful: the same apps at rest, no stale entry');
note(sprintf('memory after the graceful: parent %d kB, manager %d kB',
             rss_kb($parent), rss_kb($manager)));

ok(timed("stop with $APPS apps", sub { $t->stop(timeout => 60) }), 'httpd stopped');
ok(wait_for(sub { !FcgiPmTest::pid_alive($manager) }, 30), 'the manager is gone');

done_testing;
