# SPDX-License-Identifier: Apache-2.0
package FcgiPmTest::Proc;

# /proc readers shared by the test harness (FcgiPmTest) and bench/run:
# one process's stat line, command line, status, environment, current
# directory, memory figures, context switches and current system call; the
# process list and the process tree.  Nothing here signals a process.
#
# Every reader takes a pid and answers undef (or an empty list/hash) when
# the pid is not a positive number or the process is gone: a pid that
# exits between two reads is normal here, not an error.

use strict;
use warnings;

use Exporter 'import';
use POSIX ();

our @EXPORT_OK = qw(
    pid_alive proc_stat proc_cmdline proc_status proc_environ proc_cwd
    all_pids all_proc_stats all_procs children_of descendants
    identities still_alive
    proc_kv mem_of ctxt_switches in_accept proc_smaps
    loadavg cpu_model cpu_seconds
);

# A pid worth opening /proc/PID/... for.
sub _is_pid { my ($pid) = @_; return defined $pid && $pid =~ /^\d+$/ && $pid > 0 }

# The whole content of /proc/PID/FILE (or of an absolute /proc path), or undef.
sub _slurp {
    my ($path) = @_;
    open my $fh, '<', $path or return undef;
    local $/;
    my $t = <$fh>;
    close $fh;
    return $t;
}

# pid_alive($pid) -> 1 if the process exists and is not a zombie.
sub pid_alive {
    my ($pid) = @_;
    my $st = proc_stat($pid) or return 0;
    return $st->{state} ne 'Z' ? 1 : 0;
}

# proc_stat($pid) -> {pid, comm, state, ppid, pgrp, sid, starttime} or undef.
# The command name may hold spaces and parentheses: the fields after it
# are counted from its last ')'.
sub proc_stat {
    my ($pid) = @_;
    return undef unless _is_pid($pid);
    open my $fh, '<', "/proc/$pid/stat" or return undef;
    my $l = <$fh>;
    close $fh;
    return undef unless defined $l;
    my ($comm) = $l =~ /^\d+ \((.*)\) /s or return undef;
    my $rest = substr($l, rindex($l, ')') + 2);
    my @f = split ' ', $rest;
    return {
        pid => $pid, comm => $comm, state => $f[0], ppid => $f[1],
        pgrp => $f[2], sid => $f[3], starttime => $f[19],
    };
}

# proc_cmdline($pid) -> the command line, arguments joined by spaces, or undef.
sub proc_cmdline {
    my ($pid) = @_;
    return undef unless _is_pid($pid);
    my $c = _slurp("/proc/$pid/cmdline");
    return undef unless defined $c;
    $c =~ s/\0+\z//;
    $c =~ s/\0/ /g;
    return $c;
}

# proc_status($pid) -> {uid => [r,e,s,f], gid => [r,e,s,f], groups => [...],
# state} or undef.
sub proc_status {
    my ($pid) = @_;
    return undef unless _is_pid($pid);
    open my $fh, '<', "/proc/$pid/status" or return undef;
    my %s;
    while (<$fh>) {
        if (/^Uid:\s+(.*)/)    { $s{uid} = [split ' ', $1] }
        elsif (/^Gid:\s+(.*)/) { $s{gid} = [split ' ', $1] }
        elsif (/^Groups:\s*(.*)/) { $s{groups} = [split ' ', $1] }
        elsif (/^State:\s+(\S)/) { $s{state} = $1 }
    }
    close $fh;
    return \%s;
}

# proc_environ($pid) -> the raw environment block (NAME=VALUE\0...), or
# undef.  What /proc shows is the initial block: a process that rewrites
# its argv in place ($0 in Perl) may overwrite it.
sub proc_environ {
    my ($pid) = @_;
    return undef unless _is_pid($pid);
    return _slurp("/proc/$pid/environ");
}

# proc_cwd($pid) -> the current directory, or undef.
sub proc_cwd {
    my ($pid) = @_;
    return undef unless _is_pid($pid);
    return readlink "/proc/$pid/cwd";
}

# all_pids() -> every pid /proc lists now.
sub all_pids {
    opendir my $dh, '/proc' or return ();
    my @p = grep { /^\d+$/ } readdir $dh;
    closedir $dh;
    return @p;
}

# all_proc_stats() -> a proc_stat() record of every process; cheap enough
# to poll often (bench/run does, every 50 ms, over hundreds of workers).
sub all_proc_stats {
    return grep { defined } map { proc_stat($_) } all_pids();
}

# all_procs() -> list of {pid, comm, ppid, pgrp, sid, state, starttime, cmdline}
sub all_procs {
    my @p = all_proc_stats();
    $_->{cmdline} = proc_cmdline($_->{pid}) // '' for @p;
    return @p;
}

# children_of($ppid [, \@procs]) -> the live (not zombie) records of
# @procs (default: all processes now) whose parent is $ppid.
sub children_of {
    my ($ppid, $procs) = @_;
    return grep { $_->{ppid} == $ppid && $_->{state} ne 'Z' } @{ $procs || [all_proc_stats()] };
}

# descendants($pid [, \@procs]) -> the pids of all live descendants
# (recursive), from @procs (default: all processes now).
sub descendants {
    my ($pid, $procs) = @_;
    $procs ||= [all_proc_stats()];
    my %kids;
    push @{ $kids{ $_->{ppid} } }, $_->{pid} for grep { $_->{state} ne 'Z' } @$procs;
    my @out;
    my @todo = ($pid);
    while (@todo) {
        my $p = shift @todo;
        for my $k (@{ $kids{$p} || [] }) { push @out, $k; push @todo, $k }
    }
    return @out;
}

# identities(@pids) -> {pid => starttime} of those alive, to tell later
# whether the same process is still alive (a pid can be reused).
sub identities {
    my (@pids) = @_;
    my %id;
    for (@pids) { my $st = proc_stat($_); $id{$_} = $st->{starttime} if $st && $st->{state} ne 'Z' }
    return \%id;
}

# still_alive($identities) -> those of its pids that are still the same
# live processes.
sub still_alive {
    my ($id) = @_;
    return grep { my $st = proc_stat($_); $st && $st->{state} ne 'Z' && $st->{starttime} == $id->{$_} } sort keys %$id;
}

# proc_kv($file) -> {KEY => number} of the "KEY: number [kB]" lines of a
# /proc file (status, smaps_rollup, meminfo); {} if unreadable.
sub proc_kv {
    my ($file) = @_;
    open my $fh, '<', $file or return {};
    my %h;
    while (my $l = <$fh>) { $h{$1} = $2 if $l =~ /^(\w+):\s+(\d+)/ }
    close $fh;
    return \%h;
}

# mem_of($pid) -> {rss, pss, pss_anon (kB), threads, fds}.
sub mem_of {
    my ($pid) = @_;
    return {} unless _is_pid($pid);
    my $st = proc_kv("/proc/$pid/status");
    my $sm = proc_kv("/proc/$pid/smaps_rollup");
    opendir my $dh, "/proc/$pid/fd";
    my $nfd = $dh ? scalar(grep { /^\d+$/ } readdir $dh) : 0;
    return { rss => $st->{VmRSS}, pss => $sm->{Pss}, pss_anon => $sm->{Pss_Anon},
             threads => $st->{Threads}, fds => $nfd };
}

# ctxt_switches($pid) -> context switches (voluntary + involuntary) of
# every thread of the process, or undef.
sub ctxt_switches {
    my ($pid) = @_;
    return undef unless _is_pid($pid);
    my $n = 0;
    opendir my $dh, "/proc/$pid/task" or return undef;
    for my $t (grep { /^\d+$/ } readdir $dh) {
        my $h = proc_kv("/proc/$pid/task/$t/status");
        $n += ($h->{voluntary_ctxt_switches} // 0) + ($h->{nonvoluntary_ctxt_switches} // 0);
    }
    closedir $dh;
    return $n;
}

# in_accept($pid) -> 1 if blocked in accept()/accept4() on fd 0 (x86_64
# system calls 43 / 288), as the module's own readiness check decides.
sub in_accept {
    my ($pid) = @_;
    return 0 unless _is_pid($pid);
    open my $fh, '<', "/proc/$pid/syscall" or return 0;
    my $l = <$fh> // '';
    close $fh;
    return $l =~ /^(43|288) 0x0 / ? 1 : 0;
}

# proc_smaps($pid) -> list of mappings {range, perm, name, Size, Rss, Pss,
# ... (kB)} from /proc/PID/smaps.
sub proc_smaps {
    my ($pid) = @_;
    return () unless _is_pid($pid);
    open my $fh, '<', "/proc/$pid/smaps" or return ();
    my (@maps, $cur);
    while (my $l = <$fh>) {
        if ($l =~ /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$/) {
            $cur = { range => "$1-$2", perm => $3, name => $4 };
            push @maps, $cur;
        }
        elsif ($cur && $l =~ /^(\w+):\s+(\d+) kB/) { $cur->{$1} = $2 }
    }
    close $fh;
    return @maps;
}

# loadavg() -> "1m 5m 15m" from /proc/loadavg, or '?'.
sub loadavg {
    my $l = _slurp('/proc/loadavg') // return '?';
    my @f = split ' ', $l;
    return "@f[0..2]";
}

# cpu_seconds($pid) -> user + system CPU time the process has used so
# far (seconds, /proc/PID/stat), or undef.
sub cpu_seconds {
    my ($pid) = @_;
    return undef unless _is_pid($pid);
    my $l = _slurp("/proc/$pid/stat") // return undef;
    my @f = split ' ', substr($l, rindex($l, ')') + 2);
    my $hz = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;
    return defined $f[12] ? ($f[11] + $f[12]) / $hz : undef;
}

# cpu_model() -> the first "model name" of /proc/cpuinfo, or '?'.
sub cpu_model {
    my $c = _slurp('/proc/cpuinfo') // return '?';
    return $c =~ /^model name\s*:\s*(.*)$/m ? $1 : '?';
}

1;
