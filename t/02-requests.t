#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 02-requests.t - requests routed by FcgiPmPass reach the right workers with
# the FastCGI environment mod_proxy_fcgi sends; responses (status, headers,
# streamed and large bodies) pass through; Env/PassEnv/WorkingDirectory
# apply; <Location>, <LocationMatch>, <Directory>, <Files> forms work; Perl
# FCGI, php-cgi and TCP (Listen) apps work.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use Digest::MD5 qw(md5_hex);
use IO::Socket::INET;
use FcgiPmTest qw(wait_for);

my $have_php = -x '/usr/bin/php-cgi';

my $t = FcgiPmTest->new(env => {
    FCGI_PM_PASSED     => 'passed-value',
    FCGI_PM_NOT_PASSED => 'must-not-leak',
});
my $root = $t->root;
my $docroot = $t->docroot;
my $hello = $t->app('hello');
my $hello_pl = $t->app('hello.pl');
my $tcp_port = FcgiPmTest::free_port();
$tcp_port = FcgiPmTest::free_port() while $tcp_port == $t->port;

mkdir "$root/wd"; chmod 0755, "$root/wd";
for my $d ("$docroot/fcgidir", "$docroot/filesdir") { mkdir $d; chmod 0755, $d }
for my $f ("$docroot/fcgidir/app", "$docroot/filesdir/x.fcgi") {
    open my $fh, '>', $f or die; close $fh; chmod 0644, $f;
}
{ open my $fh, '>', "$docroot/filesdir/plain.txt" or die; print {$fh} "static-file-content\n"; close $fh; chmod 0644, "$docroot/filesdir/plain.txt" }
{ open my $fh, '>', "$docroot/index.txt" or die; print {$fh} "static-index\n"; close $fh; chmod 0644, "$docroot/index.txt" }
$t->docfile('hello.php') if $have_php;

my $php_block = $have_php ? <<"EOT" : '';
<FcgiPmApp php>
    Command /usr/bin/php-cgi -d fcgipm.tag=$root
    Processes 1
    Env PHP_FCGI_MAX_REQUESTS 0
</FcgiPmApp>
<Directory "$docroot">
    <Files "*.php">
        FcgiPmPass php
    </Files>
</Directory>
EOT

$t->write_conf(<<"EOT");
<FcgiPmApp hello>
    Command $hello --app=hello
    Processes 2
    Env FCGI_PM_TEST_ENV set-by-env
    Env FCGI_PM_TEST_SPACES "two words"
    PassEnv FCGI_PM_PASSED
    WorkingDirectory $root/wd
    ShutdownTimeout 3
</FcgiPmApp>
<Location /hello>
    FcgiPmPass hello
</Location>
<LocationMatch "^/lm/[0-9]+">
    FcgiPmPass hello
</LocationMatch>
<Directory "$docroot/fcgidir">
    FcgiPmPass hello
</Directory>
<Directory "$docroot/filesdir">
    <Files "*.fcgi">
        FcgiPmPass hello
    </Files>
</Directory>

<FcgiPmApp perl>
    Command $hello_pl
    Processes 1
    ShutdownTimeout 3
</FcgiPmApp>
<Location /perl>
    FcgiPmPass perl
</Location>

<FcgiPmApp tcp>
    Command $hello --app=tcp
    Processes 1
    Listen 127.0.0.1:$tcp_port
    ShutdownTimeout 3
</FcgiPmApp>
<Location /tcp>
    FcgiPmPass tcp
</Location>
$php_block
EOT

ok($t->start, 'httpd started');
ok(wait_for(sub { $t->manager_pid }, 10), 'one manager process');
my $manager = $t->manager_pid;
ok(wait_for(sub { $t->workers(match => qr/--app=hello\b/) == 2 }, 15), 'hello app: 2 workers')
    or diag('workers: ' . join(' ', $t->workers));
my @hello_workers = $t->workers(match => qr/--app=hello\b/);
ok($t->wait_ok('/hello/', 20), 'hello app answers');

# --- FastCGI environment from a <Location> -------------------------------
{
    my $r = $t->get('/hello/a/b?x=1', headers => { 'X-Test' => 'header-value' });
    is($r->{status}, 200, 'GET /hello/a/b?x=1: 200');
    my $kv = FcgiPmTest::kv($r->{body});
    is($kv->{APP}, 'hello-c', 'answered by hello.c');
    is($kv->{SCRIPT_NAME}, '/hello', 'SCRIPT_NAME=/hello');
    is($kv->{PATH_INFO}, '/a/b', 'PATH_INFO=/a/b');
    is($kv->{QUERY_STRING}, 'x=1', 'QUERY_STRING=x=1');
    is($kv->{REQUEST_METHOD}, 'GET', 'REQUEST_METHOD=GET');
    is($kv->{HTTP_X_TEST}, 'header-value', 'request header arrives as HTTP_X_TEST');
    is($kv->{ARGV}, '--app=hello', 'Command arguments passed to the worker');
    ok((grep { $_ == ($kv->{PID} // 0) } @hello_workers),
       "answered by a worker of the manager (pid $kv->{PID})")
        or diag("workers: @hello_workers");
    is($kv->{PPID}, $manager, 'worker parent is the manager');
}

# --- status and headers pass through ---------------------------------------
{
    my $r = $t->get('/hello/?status=201');
    is($r->{status}, 201, 'Status: 201 from the app passes through');
    is($r->{headers}{'x-fcgi-test'}, 'yes', 'app header X-Fcgi-Test passes through');
    like($r->{headers}{'content-type'} // '', qr{^text/plain}, 'Content-Type from the app');
}

# --- streamed response -------------------------------------------------------
{
    my $r = $t->get('/hello/?stream=5&stream_ms=300', trace => 1);
    is($r->{status}, 200, 'streamed response: 200');
    like($r->{body}, qr/\Achunk 1\nchunk 2\nchunk 3\nchunk 4\nchunk 5\nPID=\d+\n\z/,
         'streamed response: all 5 chunks, in order, complete');
    cmp_ok($r->{elapsed}, '>=', 1100, 'streamed response took the app\'s 4 x 300 ms');
    # Delivered as written (the app's worker has mod_proxy_fcgi's
    # flushpackets=auto; see t/30-proxy-worker.t).
    my ($first_ms) = map { $_->[0] } @{ $r->{reads} || [] };
    ok(defined $first_ms && $first_ms < $r->{elapsed} - 600,
       'first bytes arrive before the last chunk is written (first at '
       . ($first_ms // 'n/a') . " ms of $r->{elapsed} ms)");

    # An event stream is delivered from its first event.
    my $e = $t->get('/hello/?stream=3&stream_ms=1000&sse=1', trace => 1);
    is($e->{status}, 200, 'event stream: 200');
    like($e->{headers}{'content-type'} // '', qr{^text/event-stream}, 'event stream: its type');
    my ($sse_first_ms) = map { $_->[0] } @{ $e->{reads} || [] };
    cmp_ok($sse_first_ms // 1e9, '<', 800,
           "event stream: first event arrives at once ($sse_first_ms ms of $e->{elapsed} ms)");
}

# --- 10 MB POST echoed byte for byte ---------------------------------------
{
    my $chunk = join '', map { chr(int rand 256) } 1 .. 4096;
    my $body = $chunk x 2560;               # 10 MiB of binary data
    substr($body, 100, 4) = "\0\r\n\0";
    my $r = $t->post('/hello/upload', $body,
                     headers => { 'Content-Type' => 'application/octet-stream' }, timeout => 60);
    is($r->{status}, 200, '10 MB POST: 200');
    is($r->{headers}{'x-body-length'}, length $body, 'app read CONTENT_LENGTH bytes');
    is(length $r->{body}, length $body, '10 MB POST: same length back');
    is(md5_hex($r->{body}), md5_hex($body), '10 MB POST: same MD5 back');
}

# --- small POST + CONTENT_LENGTH ------------------------------------------
{
    my $r = $t->post('/hello/small?x=2', "a=1&b=2");
    is($r->{status}, 200, 'small POST: 200');
    is($r->{body}, 'a=1&b=2', 'small POST echoed');
}

# --- Env / PassEnv / clean environment / WorkingDirectory -------------------
{
    my $r = $t->get('/hello/?env=FCGI_PM_TEST_ENV&env=FCGI_PM_TEST_SPACES&env=FCGI_PM_PASSED&env=FCGI_PM_NOT_PASSED');
    my $kv = FcgiPmTest::kv($r->{body});
    is($kv->{ENV_FCGI_PM_TEST_ENV}, 'set-by-env', 'Env reaches the worker');
    is($kv->{ENV_FCGI_PM_TEST_SPACES}, 'two words', 'Env with a quoted value');
    is($kv->{ENV_FCGI_PM_PASSED}, 'passed-value', 'PassEnv copies from httpd\'s environment');
    is($kv->{ENV_FCGI_PM_NOT_PASSED}, '<unset>', 'a variable of httpd\'s environment not passed does not reach the worker');
    is($kv->{CWD}, "$root/wd", 'WorkingDirectory');
}

# --- worker stderr goes to the error log -----------------------------------
{
    my $marker = 'stderr-marker-' . int(rand(1e9));
    my $r = $t->get("/hello/?stderr=$marker");
    my $pid = FcgiPmTest::kv($r->{body})->{PID} // 0;
    is($r->{status}, 200, 'stderr request: 200');
    my $line = wait_for(sub { $t->log_text =~ /^(.*app hello: worker \Q$pid\E: \Q$marker\E.*)$/m ? $1 : undef }, 10);
    ok($line, "worker stderr logged as 'app hello: worker $pid: $marker'")
        or diag(grep { /\Q$marker\E/ } split /\n/, $t->log_text);
    my $log = $t->log_text;
    for my $w (@hello_workers) {
        like($log, qr/app hello: worker \Q$w\E started/, "log: app hello: worker $w started");
    }
}

# --- <LocationMatch> ---------------------------------------------------------
{
    my $r = $t->get('/lm/42/rest?y=3');
    is($r->{status}, 200, '<LocationMatch>: /lm/42/rest routed');
    my $kv = FcgiPmTest::kv($r->{body});
    is($kv->{APP}, 'hello-c', '<LocationMatch>: answered by hello.c');
    is($kv->{QUERY_STRING}, 'y=3', '<LocationMatch>: QUERY_STRING');
    my $n = $t->get('/lm/abc');
    is($n->{status}, 404, '<LocationMatch>: /lm/abc (no match) is not routed');
}

# --- <Directory> and <Files> ------------------------------------------------
{
    my $r = $t->get('/fcgidir/app?z=4');
    is($r->{status}, 200, '<Directory>: /fcgidir/app routed');
    my $kv = FcgiPmTest::kv($r->{body});
    is($kv->{APP}, 'hello-c', '<Directory>: answered by hello.c');
    like($kv->{SCRIPT_FILENAME} // '', qr{\Q$docroot\E/fcgidir/app$}, '<Directory>: SCRIPT_FILENAME is the file');
    is($kv->{QUERY_STRING}, 'z=4', '<Directory>: QUERY_STRING');

    $r = $t->get('/filesdir/x.fcgi');
    is($r->{status}, 200, '<Files> in <Directory>: /filesdir/x.fcgi routed');
    $kv = FcgiPmTest::kv($r->{body});
    is($kv->{APP}, 'hello-c', '<Files>: answered by hello.c');
    like($kv->{SCRIPT_FILENAME} // '', qr{\Q$docroot\E/filesdir/x\.fcgi$}, '<Files>: SCRIPT_FILENAME is the file');

    $r = $t->get('/filesdir/plain.txt');
    is($r->{status}, 200, '<Files>: other files of the directory served statically');
    is($r->{body}, "static-file-content\n", '<Files>: plain.txt is the static file, not the app');

    $r = $t->get('/index.txt');
    is($r->{body}, "static-index\n", 'unrouted URL served statically');
}

# --- Perl FCGI app -----------------------------------------------------------
{
    ok($t->wait_ok('/perl/', 20), 'Perl app answers');
    my $r = $t->get('/perl/p?q=1');
    is($r->{status}, 200, 'Perl app: 200');
    my $kv = FcgiPmTest::kv($r->{body});
    is($kv->{APP}, 'hello-pl', 'Perl app: answered by hello.pl');
    my @pw = $t->workers(match => qr/hello\.pl/);
    is(scalar @pw, 1, 'Perl app: 1 worker');
    is($kv->{PID}, $pw[0], 'Perl app: answered by that worker') if @pw;
    is($kv->{QUERY_STRING}, 'q=1', 'Perl app: QUERY_STRING');
}

# --- php-cgi app -------------------------------------------------------------
SKIP: {
    skip 'no /usr/bin/php-cgi', 6 unless $have_php;
    my $r = $t->wait_ok('/hello.php?a=1', 20);
    ok($r, 'php-cgi app answers /hello.php')
        or diag(explain($t->get('/hello.php?a=1')));
    $r ||= $t->get('/hello.php?a=1');
    my $kv = FcgiPmTest::kv($r->{body});
    is($kv->{APP}, 'hello-php', 'php: DOCROOT/hello.php executed');
    is($kv->{SUM}, 42, 'php: PHP code ran');
    is($kv->{SCRIPT_FILENAME}, "$docroot/hello.php", 'php: SCRIPT_FILENAME is the real file path');
    is($r->{headers}{'x-php-test'}, 'yes', 'php: header from the script');
    my @pw = $t->workers(match => qr/php-cgi/);
    ok((grep { $_ == ($kv->{PID} // 0) } @pw), 'php: answered by a php-cgi worker of the manager')
        or diag("php workers: @pw, answer pid " . ($kv->{PID} // 'none'));
}

# --- TCP Listen app ------------------------------------------------------------
{
    ok($t->wait_ok('/tcp/t', 20), 'TCP app answers through FcgiPmPass');
    my $r = $t->get('/tcp/t?w=5');
    my $kv = FcgiPmTest::kv($r->{body});
    is($kv->{ARGV}, '--app=tcp', 'TCP app: answered by the tcp app');
    is($kv->{QUERY_STRING}, 'w=5', 'TCP app: QUERY_STRING');
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tcp_port, Proto => 'tcp', Timeout => 3);
    ok($s, "TCP app: something listens on 127.0.0.1:$tcp_port");
    close $s if $s;
    my @tw = $t->workers(match => qr/--app=tcp\b/);
    is(scalar @tw, 1, 'TCP app: 1 worker');
    is($kv->{PID}, $tw[0], 'TCP app: answered by its worker') if @tw;
}

# --- the apps did not disturb each other -----------------------------------
is($t->manager_pid, $manager, 'still the same manager');
is_deeply([$t->workers(match => qr/--app=hello\b/)], \@hello_workers, 'hello workers unchanged (no crash, no restart)');

ok($t->stop, 'httpd stopped');
done_testing;
