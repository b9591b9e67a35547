#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 16-forged-table.t - root never acts on what httpd's children can write
# (issue 8; the class of CVE-2007-3304).  httpd's children map the shared
# table read-write: code running in one of them (simulated here by
# writing into an httpd child's mapping of the table through
# /proc/PID/mem) fills every worker slot with the pid of an unrelated
# root process (and with minus its process group), slot field by slot
# field, marking them retiring with a SIGKILL deadline long past.  The
# target must survive, whether the manager goes on running or is killed
# and re-forked (a re-forked manager must not adopt pids from the
# table); the app keeps serving throughout.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use POSIX ();
use FcgiPmTest qw(wait_for pid_alive proc_stat all_procs);

my $t = FcgiPmTest->new;
my $hello = $t->app('hello');
$t->write_conf(FcgiPmTest::app_conf('hello', "$hello --app=hello", 'Processes 2', 'ShutdownTimeout 2'));
ok($t->start, 'httpd started');
ok($t->wait_ok('/hello/', 20), 'app answers');

# The target: a root process in a process group of its own.
my $target = fork;
die "fork: $!" unless defined $target;
if ($target == 0) {
    POSIX::setpgid(0, 0);
    exec 'sleep', '600';
    POSIX::_exit(127);
}
ok($target > 1, "target root process $target");
sleep 0.2;
END { kill 'KILL', $target if $target && $target > 1 && pid_alive($target) }

# An httpd child (not the manager): a direct child of the parent.
my $parent = $t->httpd_pid;
my $manager = $t->manager_pid;
my ($child) = map { $_->{pid} }
              grep { $_->{ppid} == $parent && $_->{pid} != ($manager // 0) && $_->{state} ne 'Z'
                     && $_->{cmdline} !~ /^fcgi-pm/ } all_procs();
ok($child, "an httpd child ($child)");

# The table: the shared anonymous mapping that starts with its magic.
sub table_of {
    my ($pid) = @_;
    open my $maps, '<', "/proc/$pid/maps" or return;
    open my $mem, '+<:raw', "/proc/$pid/mem" or return;
    while (<$maps>) {
        my ($lo, $hi, $perm, $name) = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/ or next;
        next unless $perm eq 'rw-s';
        my $base = hex $lo;
        sysseek($mem, $base, 0) or next;
        my $head = '';
        sysread($mem, $head, 64) == 64 or next;
        # APR keeps the segment's size in front of it: the table starts
        # at the first aligned word that holds its magic.
        for (my $off = 0; $off < 64; $off += 8) {
            next unless unpack('V', substr($head, $off, 4)) == 0x46435054;
            return ($mem, $base + $off, hex($hi) - $base - $off);
        }
    }
    return;
}
my ($mem, $addr, $size) = table_of($child);
ok($mem, sprintf('the table is mapped in the httpd child (%d bytes)', $size // 0))
    or BAIL_OUT('no table mapping found');

# A worker slot as a manager that trusted the table would read it: pid,
# state RETIRING (3), adopted and signalled set, kill_at long past; in the
# 48-byte layout of the first release and the 56-byte one of today.  Each
# is written at every 4-byte offset of its period, so that some write
# lines up with real slots.  Every 32-bit word is the target, 3 (a kernel
# thread) or 0, so that a manager that did read the slots could signal
# nothing else: never pid 1, never -1.  After each write the manager gets
# a SIGCHLD, as when a worker exits, so that it looks at its workers.
#
# The table reserves about 150 MB (layout 3: 20,000 app slots, then 128
# worker slots per app slot); writing all of it 30 times would take
# minutes.  What is forged: the header's tail and every app slot (the
# first 6 MB, more than the app array), and the worker slots of the app
# 'hello' (at its app slot's index, found by the FNV-1a hash of its name,
# as table.c does).  An older, smaller layout is forged whole.
sub fnv1a {
    my ($s) = @_;
    my $h = 2166136261;
    for my $c (unpack 'C*', $s) {
        $h = (($h ^ $c) * 16777619) % 4294967296;
    }
    return $h;
}

sub forge_regions {
    my $hdr = 64;                         # keep the header (magic, manager pid)
    return ([$hdr, $size - $hdr]) if $size <= 8 << 20;
    my $apps = 20000;
    my $workers_at = 48 + $apps * 272 + (fnv1a('hello') % $apps) * 128 * 56;
    return ([$hdr, (6 << 20) - $hdr], [$workers_at, 128 * 56 * 2]);
}

sub forge {
    my ($pid) = @_;
    my $m = $t->manager_pid;
    my $x = abs $pid;
    my @slots = (pack('l< V V V V V q< q< q<', $pid, 3, $x, $x, $x, $x, $x, $x, $x),
                 pack('l< V V V V V V V q< q< q<', $pid, 3, $x, $x, $x, $x, $x, $x, $x, $x, $x));
    for my $slot (@slots) {
        for my $shift (0 .. length($slot) / 4 - 1) {
            for my $r (forge_regions()) {
                my ($off, $len) = @$r;
                next if $off + $len > $size;
                my $buf = substr($slot x (int($len / length($slot)) + 2), $shift * 4);
                $buf = substr($buf, 0, $len);
                sysseek($mem, $addr + $off, 0) or return 0;
                syswrite($mem, $buf) == length($buf) or return 0;
            }
            FcgiPmTest::kill_pid('CHLD', $m) if $m;
            sleep 0.2;
        }
    }
    return 1;
}

my $pgid = (proc_stat($target) || {})->{pgrp} // $target;
ok(forge($target), 'table forged with the target pid');
ok(forge(-$pgid), 'table forged with minus the target process group');
sleep 1;
ok(pid_alive($target), 'the target survives a running manager');
is($t->manager_pid, $manager, 'the manager is still the same');
ok($t->wait_ok('/hello/', 10), 'the app still answers');

# A manager killed and re-forked must not adopt pids from the table.
ok(forge($target), 'table forged again');
FcgiPmTest::kill_pid('KILL', $manager);
ok(wait_for(sub { my $m = $t->manager_pid; $m && $m != $manager }, 20), 'a new manager runs');
ok(forge($target), 'table forged under the new manager');
sleep 3;
ok(pid_alive($target), 'the target survives the re-forked manager');
ok($t->wait_ok('/hello/', 20), 'the app answers after the re-fork');
ok($t->graceful, 'graceful');
ok($t->wait_ok('/hello/', 20), 'the app answers after a graceful');
ok(pid_alive($target), 'the target survives the graceful');
ok($t->stop, 'stopped');
ok(pid_alive($target), 'the target survives stop');
done_testing;
