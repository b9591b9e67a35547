#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 30-proxy-worker.t - each app has a mod_proxy worker of its own (issue 9):
#  - mod_proxy routes FcgiPmPass requests to the app's worker (its trace
#    says so) and the worker has the app's timeouts: IOTimeout 2 with an
#    app that sleeps 5 s gives 504 before the app answers (httpd's Timeout
#    is 60 s), for a unix and a TCP app, in the main server and in a
#    virtual host, also after a graceful;
#  - MaxRequestTime 2 gives 504 before the app answers (httpd's wait is
#    capped); a request that keeps its connection busy (FastCGI stderr
#    records) until the manager kills its worker past MaxRequestTime also
#    ends as 504, where a killed worker without MaxRequestTime gets
#    mod_proxy_fcgi's 503;
#  - ConnectTimeout is accepted and shown in the worker's definition
#    (LogLevel debug);
#  - streamed answers arrive piece by piece (flushpackets=auto);
#  - mod_fcgi_pm loaded before mod_proxy (Debian's alphabetical order)
#    works the same;
#  - configtest refuses bad values, naming the file and the line.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(app_conf wait_for);

my $t = FcgiPmTest->new;
my $root = $t->root;
my $hello = $t->app('hello');
my $drip = $t->app('drip');
my $tcp_port = FcgiPmTest::free_port();
$tcp_port = FcgiPmTest::free_port() while $tcp_port == $t->port;
my $vh_port = FcgiPmTest::free_port();
$vh_port = FcgiPmTest::free_port() while $vh_port == $t->port || $vh_port == $tcp_port;

my $body = join '',
    app_conf('hello', "$hello --app=hello", 'Processes 2'),
    app_conf('slowio', "$hello --app=slowio", 'Processes 2', 'IOTimeout 2',
             'ConnectTimeout 3'),
    app_conf('capped', "$hello --app=capped", 'Processes 2', 'MaxRequestTime 2'),
    app_conf('dripper', "$drip --app=dripper", 'Processes 1', 'MaxRequestTime 2'),
    app_conf('dripfree', "$drip --app=dripfree", 'Processes 1'),
    app_conf('tcpslow', "$hello --app=tcpslow", 'Processes 1', 'IOTimeout 2',
             "Listen 127.0.0.1:$tcp_port"),
    app_conf('vslow', "$hello --app=vslow", 'Processes 1', 'IOTimeout 2')
        =~ s{<Location /vslow>.*</Location>\n}{}sr,
    "Listen 127.0.0.1:$vh_port\n",
    "<VirtualHost 127.0.0.1:$vh_port>\n",
    "    ServerName vhost.test\n",
    "    <Location /vslow>\n        FcgiPmPass vslow\n    </Location>\n",
    "</VirtualHost>\n";
$t->write_conf($body, loglevel => 'info fcgi_pm:debug proxy:trace2');

my ($rc, $out) = $t->configtest;
is($rc, 0, 'configtest passes') or diag($out);
ok($t->start, 'httpd started');
for my $app (qw(hello slowio capped dripper dripfree tcpslow)) {
    ok($t->wait_ok("/$app/", 20), "$app answers");
}
ok(wait_for(sub { http_get_vh('/vslow/')->{status} == 200 }, 20, 0.2),
   'vslow answers in its virtual host');

sub http_get_vh {
    my ($path, %o) = @_;
    return FcgiPmTest::http_request(port => $vh_port, path => $path, %o);
}

# A request that the app answers after SLEEP_MS: 504 before it did.
sub times_out {
    my ($what, $get, $path, $log_re) = @_;
    my $mark = $t->log_mark;
    my $r = $get->($path);
    is($r->{status}, 504, "$what: 504 Gateway Timeout") or diag("$r->{status} $r->{error}");
    cmp_ok($r->{elapsed}, '<', 4500,
           "$what: answered before the app would have (after $r->{elapsed} ms)");
    ok(wait_for(sub { $t->log_since($mark) =~ $log_re }, 5),
       "$what: the log names the app and the duration") or diag($t->log_since($mark));
}

my $main = sub { $t->get($_[0], timeout => 30) };
my $vh = sub { http_get_vh($_[0], timeout => 30) };

# --- the app's own worker -----------------------------------------------------
subtest 'mod_proxy uses the app worker' => sub {
    my $log = $t->log_text;
    like($log, qr/app slowio: mod_proxy worker fcgi:\/\/fcgi-pm-slowio in the main server: .*\btimeout=2\b/,
         'slowio: worker defined with timeout=2');
    like($log, qr/app slowio: mod_proxy worker .*\bconnectiontimeout=3\b/,
         'slowio: ConnectTimeout 3 is shown as connectiontimeout=3');
    like($log, qr/app hello: mod_proxy worker fcgi:\/\/fcgi-pm-hello .*flushpackets=auto flushwait=\d+/,
         'hello: flushpackets=auto and a flushwait');
    like($log, qr/app capped: mod_proxy worker .*\btimeout=2\b/,
         'capped: the worker timeout is capped at MaxRequestTime');
    like($log, qr/app tcpslow: mod_proxy worker fcgi:\/\/127\.0\.0\.1:$tcp_port /,
         'tcpslow: the worker is the TCP address');
    like($log, qr/app vslow: mod_proxy worker fcgi:\/\/fcgi-pm-vslow in virtual host/,
         'vslow: its worker is in its virtual host');
    unlike($log, qr/app vslow: mod_proxy worker .* in the main server/,
           'vslow: and not in the main server');
    my $mark = $t->log_mark;
    my $r = $t->get('/hello/');
    is($r->{status}, 200, 'hello: 200');
    ok(wait_for(sub { $t->log_since($mark) =~ m{found worker fcgi://fcgi-pm-hello for fcgi://fcgi-pm-hello/} }, 5),
       "mod_proxy's trace: found worker fcgi://fcgi-pm-hello")
        or diag($t->log_since($mark));
    unlike($t->log_since($mark), qr/using default reverse proxy worker/,
           'not the default reverse proxy worker');
};

# --- IOTimeout -----------------------------------------------------------------
times_out('IOTimeout 2, unix app', $main, '/slowio/?sleep=5000',
          qr/app slowio: no answer within IOTimeout 2 s: 504 after \d+ ms/);
times_out('IOTimeout 2, TCP app', $main, '/tcpslow/?sleep=5000',
          qr/app tcpslow: no answer within IOTimeout 2 s: 504 after \d+ ms/);
times_out('IOTimeout 2, app passed in a virtual host', $vh, '/vslow/?sleep=5000',
          qr/app vslow: no answer within IOTimeout 2 s: 504 after \d+ ms/);
times_out('IOTimeout 2, main-server FcgiPmPass reached through the virtual host',
          $vh, '/slowio/?sleep=5000',
          qr/app slowio: no answer within IOTimeout 2 s: 504 after \d+ ms/);
{
    my $r = $t->get('/slowio/?sleep=1000');
    is($r->{status}, 200, 'IOTimeout 2: an answer after 1 s is a 200');
}

# --- MaxRequestTime ----------------------------------------------------------------
times_out('MaxRequestTime 2', $main, '/capped/?sleep=5000',
          qr/app capped: the request ran \d+ ms, longer than MaxRequestTime 2 s: 504/);
{
    my $r = $t->get('/capped/?sleep=500');
    is($r->{status}, 200, 'MaxRequestTime 2: a request of 0.5 s is a 200');
}

# A request with traffic on the connection (so the I/O timeout does not
# run out) whose worker is killed: past MaxRequestTime the manager kills
# it by itself (modules/pool.c); without MaxRequestTime the test does, at
# 2.6 s.
sub cut_request {
    my ($app, $kill_after) = @_;
    my ($pid) = $t->workers(match => qr/--app=\Q$app\E\b/);
    ok($pid, "$app: worker $pid") or return undef;
    my $load = $t->load_start(clients => 1, min_requests => 1,
                              path => "/$app/?ticks=40&every=200", timeout => 30);
    if (defined $kill_after) {
        sleep $kill_after;
        FcgiPmTest::kill_pid('KILL', $pid) if FcgiPmTest::pid_alive($pid);
    }
    my $s = $t->load_finish($load);
    my ($rec) = @{ $s->{records} };
    ok(wait_for(sub { my @w = $t->workers(match => qr/--app=\Q$app\E\b/); @w && $w[0] != $pid }, 20),
       "$app: the killed worker is replaced");
    return $rec;
}
{
    my $mark = $t->log_mark;
    my $rec = cut_request('dripper');
    is($rec && $rec->[2], 504, 'MaxRequestTime 2: a request whose worker is killed past it gets 504');
    cmp_ok($rec && $rec->[1], '<', 7000, 'well before the app would have answered (8 s)');
    like($t->log_since($mark),
         qr/app dripper: the request ran \d+ ms, longer than MaxRequestTime 2 s: 504 \(mod_proxy's status: 50[23]\)/,
         'the log names the app, the duration and what mod_proxy said');
    like($t->log_since($mark), qr/app dripper: worker \d+ busy on one request for [\d.]+ s \(MaxRequestTime 2 s\): killing it/,
         'the manager killed the worker');
    $rec = cut_request('dripfree', 2.6);
    is($rec && $rec->[2], 503, 'without MaxRequestTime the same cut is mod_proxy_fcgi\'s 503');
}

# --- streaming -----------------------------------------------------------------------
subtest 'streamed answer arrives piece by piece' => sub {
    my $r = $t->get('/hello/?stream=4&stream_ms=400', trace => 1);
    is($r->{status}, 200, 'status 200');
    like($r->{body}, qr/\Achunk 1\nchunk 2\nchunk 3\nchunk 4\nPID=\d+\n\z/, 'all chunks, in order');
    my @reads = @{ $r->{reads} || [] };
    cmp_ok(scalar @reads, '>=', 4, scalar(@reads) . ' reads');
    ok(@reads && $reads[0][0] < 400, "first chunk at once ($reads[0][0] ms)");
    ok(@reads >= 2 && $reads[1][0] - $reads[0][0] > 250,
       'second chunk about 400 ms later (' . join(', ', map { "$_->[0] ms" } @reads) . ')');
};

# --- graceful ------------------------------------------------------------------------
ok($t->graceful, 'graceful');
ok($t->wait_ok('/hello/', 20), 'hello answers after the graceful');
times_out('IOTimeout 2 after a graceful', $main, '/slowio/?sleep=5000',
          qr/app slowio: no answer within IOTimeout 2 s: 504/);
times_out('MaxRequestTime 2 after a graceful', $main, '/capped/?sleep=5000',
          qr/app capped: the request ran \d+ ms, longer than MaxRequestTime 2 s: 504/);
{
    my $r = $t->get('/hello/?stream=3&stream_ms=400', trace => 1);
    my @reads = @{ $r->{reads} || [] };
    ok($r->{status} == 200 && @reads >= 3 && $reads[0][0] < 400,
       'streaming after the graceful: first chunk at once, ' . scalar(@reads) . ' reads');
}
ok($t->stop, 'stopped');

# --- configtest ----------------------------------------------------------------------
{
    my @bad = (
        ['IOTimeout 0',           qr/IOTimeout 0 is out of range \(1 to 86400\)/],
        ['IOTimeout soon',        qr/IOTimeout: 'soon' is not a number/],
        ['IOTimeout 86401',       qr/IOTimeout 86401 is out of range/],
        ['ConnectTimeout 0',      qr/ConnectTimeout 0 is out of range \(1 to 3600\)/],
        ['ConnectTimeout 2 3',    qr/ConnectTimeout takes at most 1 argument/],
        ['MaxRequestTime -1',     qr/MaxRequestTime -1 is out of range \(0 to 86400\)/],
        ['MaxRequestTime',        qr/MaxRequestTime needs 1 argument/],
    );
    my $n = 0;
    for my $case (@bad) {
        my ($line, $re) = @$case;
        my $file = 'bad-' . ++$n . '.conf';
        my $path = $t->write_conf(app_conf('x', $hello, 'Processes 1', $line), file => $file);
        my $want = $t->conf_line_of($path, qr/^\s*\Q$line\E\s*$/);
        my ($rc, $out) = $t->configtest($path);
        subtest "configtest refuses '$line'" => sub {
            isnt($rc, 0, "fails (exit $rc)");
            like($out, qr/\Q$file\E:$want\b/, "names $file:$want");
            like($out, $re, 'says what is wrong');
        } or diag($out);
    }
    my $path = $t->write_conf(app_conf('x', $hello, 'Processes 1', 'IOTimeout 86400',
                                       'ConnectTimeout 3600', 'MaxRequestTime 0'),
                              file => 'good.conf');
    my ($rc, $out) = $t->configtest($path);
    is($rc, 0, 'the limits of the ranges pass') or diag($out);
}

# --- mod_fcgi_pm loaded before mod_proxy ---------------------------------------------
{
    my $t2 = FcgiPmTest->new;
    my $h2 = $t2->app('hello');
    my $text = $t2->conf_text(app_conf('slowio', "$h2 --app=slowio", 'Processes 1', 'IOTimeout 2'));
    my ($ours) = $text =~ /^(LoadModule fcgi_pm_module .*\n)/m;
    $text =~ s/^LoadModule fcgi_pm_module .*\n//m;
    $text =~ s/^(LoadModule proxy_module )/$ours$1/m;
    like($text, qr/^LoadModule fcgi_pm_module .*\nLoadModule proxy_module /m,
         'second server: mod_fcgi_pm is loaded before mod_proxy');
    open my $fh, '>', $t2->conf_path or die "write: $!";
    print {$fh} $text;
    close $fh;
    my ($rc2, $out2) = $t2->configtest;
    is($rc2, 0, 'loaded before mod_proxy: configtest passes') or diag($out2);
    ok($t2->start, 'loaded before mod_proxy: httpd started');
    ok($t2->wait_ok('/slowio/', 20), 'loaded before mod_proxy: the app answers');
    my $r = $t2->get('/slowio/?sleep=5000', timeout => 30);
    is($r->{status}, 504, "loaded before mod_proxy: IOTimeout 2 gives 504 (after $r->{elapsed} ms)");
    cmp_ok($r->{elapsed}, '<', 4500, 'before the app answered');
    ok($t2->graceful, 'loaded before mod_proxy: graceful');
    $r = $t2->get('/slowio/?sleep=5000', timeout => 30);
    is($r->{status}, 504, 'loaded before mod_proxy: 504 after the graceful too');
    ok($t2->stop, 'stopped');
}

done_testing();
