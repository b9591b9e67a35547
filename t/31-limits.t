#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 31-limits.t - per-worker request limits (issue 9): MaxRequests and
# MaxRequestTime.
#
#  1. MaxRequests 5, a libfcgi app with 300 ms requests: the manager counts
#     the requests it sees each worker serve and retires a worker after 5;
#     worker pids change, no pid serves more than 5, no request fails.
#  1b. The same under saturation (5 clients on 2 workers) with two
#     overlapping gracefuls: recycles happen, no request fails, no worker
#     is killed at ShutdownTimeout.
#  2. MaxRequests 3 with php-cgi: the manager gives php-cgi
#     PHP_FCGI_MAX_REQUESTS=3, php-cgi counts exactly; pids change every 3
#     requests and none fails, fast requests included.
#  3. MaxRequestTime 2: a request that hangs gets 504; its worker is killed
#     and replaced, the log names app, pid and duration; a request served
#     meanwhile by the other worker is unaffected.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(wait_for app_conf);

sub pid_of {
    my ($res) = @_;
    return ($res->{body} // '') =~ /^PID=(\d+)$/m ? $1 : undef;
}

# Send N requests one after the other; count answers per worker pid.
sub serve_sequence {
    my ($t, $n, $path) = @_;
    my (%per_pid, $failed);
    for my $i (1 .. $n) {
        my $res = $t->get("$path&i=$i", timeout => 30);
        my $pid = pid_of($res);
        if (($res->{status} // 0) != 200 || !$pid) {
            $failed++;
            diag("request $i: " . ($res->{status} // 'no answer'));
            next;
        }
        $per_pid{$pid}++;
    }
    return (\%per_pid, $failed // 0);
}

subtest 'MaxRequests: the manager retires a worker after the requests it saw' => sub {
    my $t = FcgiPmTest->new;
    my $hello = $t->app('hello');
    $t->write_conf(app_conf('mr', "$hello --app=mr", 'Processes 1', 'MaxRequests 5',
                            'ShutdownTimeout 10'));
    ok($t->start, 'httpd started');
    ok($t->wait_ok('/mr/x', 20), 'app answers');
    my $mark = $t->log_mark;
    my ($per_pid, $failed) = serve_sequence($t, 20, '/mr/x?sleep=300');
    is($failed, 0, 'no request failed');
    note('requests per worker: ' . join(', ', map { "$_: $per_pid->{$_}" } sort keys %$per_pid));
    cmp_ok(scalar keys %$per_pid, '>=', 3, 'worker pids changed (3 or more workers served 20 requests)');
    ok(!(grep { $_ > 5 } values %$per_pid), 'no worker served more than MaxRequests (5)');
    like($t->log_since($mark), qr/app mr: worker \d+ seen serving 5 requests \(MaxRequests 5\): retiring it/,
         'the retirement is logged with app, pid and count');
    $t->stop;
};

subtest 'MaxRequests under saturation, with overlapping gracefuls' => sub {
    # 5 clients on 2 workers (clients > workers), requests of 150 ms: the
    # workers recycle every 8 requests seen while the load runs and two
    # gracefuls roll the pool; no request may fail.
    my $t = FcgiPmTest->new;
    my $hello = $t->app('hello');
    $t->write_conf(app_conf('ms', "$hello --app=ms", 'Processes 2', 'MaxRequests 8',
                            'ShutdownTimeout 10'));
    ok($t->start, 'httpd started');
    ok($t->wait_ok('/ms/x', 20), 'app answers');
    my $mark = $t->log_mark;
    my $load = $t->slow_hello_load('/ms', 5, 150);
    sleep 3;
    ok(eval { $t->graceful }, 'graceful 1 under load') or diag($@);
    sleep 0.5;
    ok(eval { $t->graceful }, 'graceful 2, while the first roll may still retire') or diag($@);
    sleep 3;
    my $s = $t->load_finish($load);
    note(FcgiPmTest::load_summary_text($s));
    cmp_ok($s->{total}, '>=', 40, "load ran ($s->{total} requests)");
    is($s->{failed} + $s->{non2xx} + $s->{bad_body}, 0, 'no request failed');
    my @recycles = $t->log_since($mark) =~ /app ms: worker \d+ seen serving \d+ requests \(MaxRequests 8\): retiring it/g;
    cmp_ok(scalar @recycles, '>=', 2, scalar(@recycles) . ' workers recycled by MaxRequests under load');
    unlike($t->log_since($mark), qr/app ms: worker \d+ still running \d+ s after it was retired/,
           'no worker killed at ShutdownTimeout');
    $t->stop;
};

subtest 'MaxRequests with php-cgi: PHP_FCGI_MAX_REQUESTS, exact' => sub {
    plan skip_all => 'no /usr/bin/php-cgi (install php-cgi)' unless -x '/usr/bin/php-cgi';
    my $t = FcgiPmTest->new;
    $t->docfile('hello.php');
    my $docroot = $t->docroot;
    $t->write_conf(<<"EOF");
<FcgiPmApp php>
    Command /usr/bin/php-cgi
    Processes 1
    MaxRequests 3
    StopSignal TERM
    ShutdownTimeout 10
</FcgiPmApp>
<Directory "$docroot">
    <Files "*.php">
        FcgiPmPass php
    </Files>
</Directory>
EOF
    ok($t->start, 'httpd started');
    ok($t->wait_ok('/hello.php', 30), 'php answers');
    my ($per_pid, $failed) = serve_sequence($t, 30, '/hello.php?x=1');
    is($failed, 0, 'no request failed (fast requests, php-cgi exiting every 3)');
    note('requests per worker: ' . join(', ', map { "$_: $per_pid->{$_}" } sort keys %$per_pid));
    cmp_ok(scalar keys %$per_pid, '>=', 10, 'a new php-cgi every 3 requests or so');
    ok(!(grep { $_ > 3 } values %$per_pid), 'no php-cgi served more than 3');
    $t->stop;
};

subtest 'MaxRequestTime: 504, the worker is killed and replaced' => sub {
    my $t = FcgiPmTest->new;
    my $hello = $t->app('hello');
    $t->write_conf(app_conf('mt', "$hello --app=mt", 'Processes 2', 'MaxRequestTime 2',
                            'ShutdownTimeout 10'));
    ok($t->start, 'httpd started');
    ok($t->wait_ok('/mt/x', 20), 'app answers');
    ok(wait_for(sub { $t->workers(match => qr/--app=mt\b/) == 2 }, 10), 'two workers');
    my @before = $t->workers(match => qr/--app=mt\b/);
    my $mark = $t->log_mark;

    my $hung = $t->load_start(clients => 1, min_requests => 1, timeout => 30,
                              path => sub { '/mt/x?sleep=20000' });
    sleep 0.5;
    my $res = $t->get('/mt/x?sleep=200', timeout => 30);
    is($res->{status}, 200, 'a request beside the hung one is served');
    my $s = $t->load_finish($hung);
    is_deeply($s->{by_status}, { 504 => 1 }, 'the hung request got 504 Gateway Timeout')
        or diag(explain($s->{by_status}));
    ok(wait_for(sub { $t->log_since($mark) =~ /app mt: worker (\d+) busy on one request for \d+\.\d s \(MaxRequestTime 2 s\): killing it/ }, 10),
       'the kill is logged with app, pid and duration');
    my ($killed) = $t->log_since($mark) =~ /app mt: worker (\d+) busy on one request/;
    ok($killed && (grep { $_ == $killed } @before), 'the killed worker was one of ours');
    ok(wait_for(sub { my @now = $t->workers(match => qr/--app=mt\b/);
                      @now == 2 && !grep { $_ == ($killed // 0) } @now }, 10),
       'it was replaced: two workers again, without it');
    is($t->get('/mt/x')->{status}, 200, 'the app serves on');
    $t->stop;
};

done_testing;
