#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 19-worker-output.t - what workers write to stderr reaches the error log,
# bounded: each worker has a pipe of its own, so
#   - a short line is logged as "app NAME: worker PID: LINE" (control
#     characters escaped by httpd);
#   - a line longer than 4096 bytes is logged cut, with " [line truncated]";
#   - one write() of 1 MiB succeeds in the worker;
#   - a last line without a newline is logged when the worker exits;
#   - a process the worker started still has its stderr logged after the
#     worker exited;
#   - a worker flooding stderr is rate-limited per app (at most a burst of
#     200 lines plus 100 a second), every line it wrote is either logged or
#     counted in "N lines of worker output suppressed (rate limit)", the
#     flooding requests complete, another app's lines still appear, and
#     another app's worker killed with SIGKILL meanwhile is replaced.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(wait_for pid_alive app_conf http_request);

my $LINE_MAX = 4096;
my ($RATE, $BURST) = (100, 200);

my $t = FcgiPmTest->new;
my $hello = $t->app('hello');
$t->write_conf(app_conf('quiet', "$hello --app=quiet", 'Processes 1', 'ShutdownTimeout 3')
             . app_conf('flood', "$hello --app=flood", 'Processes 2', 'ShutdownTimeout 3')
             . app_conf('other', "$hello --app=other", 'Processes 2', 'ShutdownTimeout 3'));
ok($t->start, 'httpd started');
for my $app (qw(quiet flood other)) {
    ok($t->wait_ok("/$app/", 20), "app $app answers");
}
ok(wait_for(sub { $t->workers(match => qr/--app=other\b/) == 2 }, 20), 'other: 2 workers');

sub kv { FcgiPmTest::kv($_[0]{body}) }

# Lines of the log (since MARK) that a worker of APP wrote.
sub worker_lines {
    my ($mark, $app, $re) = @_;
    return grep { /app \Q$app\E: worker \d+: $re/ } split /\n/, $t->log_since($mark);
}

subtest 'short lines' => sub {
    my $marker = 'short-' . int(rand(1e9));
    my $r = $t->get("/quiet/?stderr=$marker");
    is($r->{status}, 200, 'answered');
    my $pid = kv($r)->{PID} // 0;
    ok(wait_for(sub { $t->log_text =~ /app quiet: worker \Q$pid\E: \Q$marker\E$/m }, 10),
       "logged as 'app quiet: worker $pid: $marker'");
    my $esc = 'esc-' . int(rand(1e9));
    $r = $t->get("/quiet/?stderr=$esc%1b%5b31mred%07");
    is($r->{status}, 200, 'answered');
    ok(wait_for(sub { $t->log_text =~ /app quiet: worker \d+: \Q$esc\E\\x1b\[31mred\\x07$/m }, 10),
       'control characters reach the log escaped (\\xHH)')
        or diag(grep { /\Q$esc\E/ } split /\n/, $t->log_text);
};

subtest 'a long line is cut and marked' => sub {
    my $r = $t->get('/quiet/?bigwrite=10000');
    my $kv = kv($r);
    my $pid = $kv->{PID} // 0;
    is($kv->{BIGWRITE}, 10000, 'write() of 10000 bytes wrote them all');
    my $line = wait_for(sub {
        $t->log_text =~ /app quiet: worker \Q$pid\E: (bigwrite \Q$pid\E B+.*)$/m ? $1 : undef
    }, 10);
    ok($line, 'the line is logged');
    $line //= '';
    like($line, qr/ \[line truncated\]$/, 'marked " [line truncated]"');
    (my $text = $line) =~ s/ \[line truncated\]$//;
    is(length($text), $LINE_MAX, "cut at $LINE_MAX bytes");
    is(scalar(() = $t->log_text =~ /app quiet: worker \Q$pid\E: B/g), 0,
       'the rest of the line is not logged as another line');
};

subtest 'one write() of 1 MiB' => sub {
    my $mark = $t->log_mark;
    my $r = $t->get('/quiet/?bigwrite=1048576', timeout => 30);
    my $kv = kv($r);
    is($r->{status}, 200, 'answered');
    is($kv->{BIGWRITE}, 1048576, 'write() returned 1048576');
    is($kv->{BIGWRITE_ERRNO}, 0, 'no error');
    my $pid = $kv->{PID} // 0;
    ok(wait_for(sub { $t->log_since($mark) =~ /app quiet: worker \Q$pid\E: bigwrite \Q$pid\E B+ \[line truncated\]$/m }, 10),
       'logged cut and marked');
    my $after = $t->get('/quiet/?stderr=after-big');
    is(kv($after)->{PID}, $pid, 'the same worker serves the next request');
    ok(wait_for(sub { $t->log_since($mark) =~ /app quiet: worker \Q$pid\E: after-big$/m }, 10),
       'and its next line is logged whole');
};

subtest 'last line without newline, at exit' => sub {
    my $marker = 'partial-' . int(rand(1e9));
    my $r = $t->get("/quiet/?partial=$marker&exit=1");
    my $pid = kv($r)->{PID} // 0;
    ok($pid, "answered by $pid, which then exits");
    ok(wait_for(sub { !pid_alive($pid) }, 10), 'the worker is gone');
    ok(wait_for(sub { $t->log_text =~ /app quiet: worker \Q$pid\E: \Q$marker\E$/m }, 10),
       'its last line is logged');
    my $log = $t->log_text;
    my $at_line = index($log, "worker $pid: $marker");
    my $at_exit = index($log, "app quiet: worker $pid exited");
    ok($at_line >= 0 && $at_exit > $at_line, 'before "worker exited"');
    ok($t->wait_ok('/quiet/', 20), 'quiet answers again');
};

subtest 'a process the worker started keeps its stderr' => sub {
    my $r = $t->get('/quiet/?child=1500&exit=1');
    my $pid = kv($r)->{PID} // 0;
    ok($pid, "answered by $pid, which then exits; its child writes 1.5 s later");
    ok(wait_for(sub { $t->log_text =~ /app quiet: worker \Q$pid\E exited/ }, 10), 'the worker exited');
    ok(wait_for(sub { $t->log_text =~ /app quiet: worker \Q$pid\E: child of \Q$pid\E: after 1500 ms$/m }, 10),
       "the child's line is logged under the worker's pid");
    my $log = $t->log_text;
    ok(index($log, "child of $pid:") > index($log, "app quiet: worker $pid exited"),
       'after the worker exited');
    ok($t->wait_ok('/quiet/', 20), 'quiet answers again');
};

subtest 'a flood is rate-limited; the manager keeps working' => sub {
    my $mark = $t->log_mark;
    my $log_size = -s $t->logfile;
    my $mgr = $t->manager_pid;
    my $cpu0 = cpu_ticks($mgr);
    my $dir = "$t->{root}/flood";
    mkdir $dir;
    my $flood_ms = 4000;
    my $started = time;
    my @kids;
    for my $c (1 .. 2) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP);
            my $r = http_request(port => $t->{port},
                                 path => "/flood/?spew=5000000&len=120&spew_ms=$flood_ms",
                                 timeout => 60);
            open my $fh, '>', "$dir/$c" or POSIX::_exit(1);
            print {$fh} "STATUS=$r->{status}\n$r->{body}";
            close $fh;
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    # Let the flood get going, then kill a worker of another app.
    ok(wait_for(sub { worker_lines($mark, 'flood', qr/spew /) > 0 }, 10), 'the flood reaches the log');
    my $qm = 'during-flood-' . int(rand(1e9));
    is($t->get("/quiet/?stderr=$qm")->{status}, 200, 'quiet answers during the flood');
    my @before = $t->workers(match => qr/--app=other\b/);
    my $victim = $before[0];
    my $killed_at = time;
    ok(FcgiPmTest::kill_pid('KILL', $victim), "kill -9 worker $victim of app other");
    my $new = wait_for(sub {
        my @now = $t->workers(match => qr/--app=other\b/);
        return undef unless @now == 2 && !grep { $_ == $victim } @now;
        my ($n) = grep { my $p = $_; !grep { $_ == $p } @before } @now;
        return $n;
    }, 10, 0.02);
    my $replaced_after = time - $killed_at;
    ok($new, 'a new worker of app other was started' . ($new ? " ($new)" : ''));
    my $served = 0;
    if ($new) {
        for (1 .. 200) {
            my $r = $t->get('/other/', timeout => 10);
            if ((kv($r)->{PID} // 0) == $new) { $served = 1; last }
        }
    }
    my $serving_after = time - $killed_at;
    ok($served, 'the new worker serves requests');
    my $flood_running = grep { !waitpid($_, WNOHANG) } @kids;
    note(sprintf('other replaced %.2f s after the kill, serving after %.2f s; flood clients still running: %d',
                 $replaced_after, $serving_after, $flood_running));
    ok($flood_running, 'that happened while the flood was still going');
    ok(wait_for(sub { $t->log_text =~ /app quiet: worker \d+: \Q$qm\E$/m }, 10),
       "another app's line is logged during the flood");

    # The flood ends: every request answered, no write failed.
    for my $k (@kids) {
        my $deadline = time + 90;
        while (!waitpid($k, WNOHANG)) {
            if (time > $deadline) { kill 'KILL', $k; waitpid($k, 0); last }
            sleep 0.05;
        }
    }
    my $duration = time - $started;
    my $written = 0;
    for my $c (1 .. 2) {
        open my $fh, '<', "$dir/$c" or next;
        local $/;
        my $body = <$fh>;
        my %kv = map { /^(\w+)=(.*)$/ ? ($1, $2) : () } split /\n/, $body;
        is($kv{STATUS}, 200, "flood request $c answered");
        is($kv{SPEW_ERRORS}, 0, "flood request $c: no write() failed");
        cmp_ok($kv{SPEW_LINES} // 0, '>', 1000, "flood request $c wrote " . ($kv{SPEW_LINES} // 0) . ' lines');
        $written += $kv{SPEW_LINES} // 0;
    }
    # Every line written is either logged or counted as suppressed.
    my ($logged, $suppressed, $reports) = (0, 0, 0);
    my $balanced = wait_for(sub {
        my $text = $t->log_since($mark);
        $logged = () = $text =~ /app flood: worker \d+: spew \d+ \d+ x+$/mg;
        $suppressed = 0;
        $reports = 0;
        while ($text =~ /app flood: (\d+) lines of worker output suppressed \(rate limit\)$/mg) {
            $suppressed += $1;
            $reports++;
        }
        return $logged + $suppressed == $written;
    }, 15, 0.2);
    my $grew = (-s $t->logfile) - $log_size;
    my $cpu = cpu_ticks($mgr) - $cpu0;
    note(sprintf('flood: %d lines written in %.1f s, %d logged, %d suppressed in %d reports; '
                 . 'error log grew %d bytes; manager CPU %.2f s',
                 $written, $duration, $logged, $suppressed, $reports, $grew, $cpu / 100));
    ok($balanced, "lines logged ($logged) + suppressed ($suppressed) = lines written ($written)");
    ok($reports >= 1, 'suppressed lines are reported');
    my $bound = $BURST + $RATE * ($duration + 2);
    cmp_ok($logged, '<=', $bound, "at most $BURST + $RATE/s flood lines logged");
    cmp_ok($reports, '<=', $duration + 2, 'at most one report a second');
    is($t->manager_pid, $mgr, 'manager unchanged');
};

subtest 'after the flood' => sub {
    # The limit refills: a new line of the flooding app is logged.
    sleep 2.5;
    my $m = 'after-flood-' . int(rand(1e9));
    is($t->get("/flood/?stderr=$m")->{status}, 200, 'flood answers');
    ok(wait_for(sub { $t->log_text =~ /app flood: worker \d+: \Q$m\E$/m }, 10),
       'its lines are logged again');
};

ok($t->stop, 'httpd stopped');
ok(wait_for(sub { !$t->our_processes }, 15), 'nothing left after stop');
done_testing;

# utime + stime of PID in clock ticks.
sub cpu_ticks {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $s = <$fh>;
    close $fh;
    $s =~ s/^.*\) //;
    my @f = split ' ', $s;
    return ($f[11] // 0) + ($f[12] // 0);
}
