#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 35-fcgid.t - mod_fcgid's configuration runs with only the LoadModule line
# changed: "AddHandler fcgid-script" with Options ExecCGI starts each script
# (a libfcgi C program, a Perl FCGI script) on its first request, and
# "FcgidWrapper /usr/bin/php-cgi .php" runs PHP files; httpd's own rules
# decide what runs (no ExecCGI: 403; no handler mapping: never executed;
# missing file: httpd's 404); FcgidMaxRequestLen answers 413; the classes
# survive gracefuls under saturating load with no request failing; a class
# of a SuexecUserGroup virtual host runs as that user, and a program that
# does not belong to that user is never run.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Copy qw(copy);
use IO::Socket::INET;
use Time::HiRes qw(sleep);
use FcgiPmTest qw(wait_for);

my $have_php = -x '/usr/bin/php-cgi';
my $t = FcgiPmTest->new;
my $root = $t->root;
my $docroot = $t->docroot;
my $modules = '/usr/lib/apache2/modules';

sub put_file {
    my ($path, $src, $mode) = @_;
    copy($src, $path) or die "copy $src $path: $!";
    chmod $mode, $path or die "chmod $path: $!";
}
sub put_text {
    my ($path, $text) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print {$fh} $text;
    close $fh;
    chmod 0644, $path;
}
for my $d (qw(cgi php nophp noexec)) { mkdir "$docroot/$d"; chmod 0755, "$docroot/$d" }
put_file("$docroot/cgi/hello.fcgi", $t->app('hello'), 0755);
put_file("$docroot/cgi/opts.fcgi", $t->app('hello'), 0755);
put_file("$docroot/cgi/env.fcgi", $t->app('cgienv'), 0755);
put_text("$docroot/target.txt", "the-redirect-target\n");
put_file("$docroot/cgi/perl.fcgi", "$FindBin::Bin/apps/hello.pl", 0755);
put_file("$docroot/noexec/hello.fcgi", $t->app('hello'), 0755);
if ($have_php) {
    $t->docfile('hello.php', 'php');
    $t->docfile('hello.php', 'nophp');
}
put_text("$docroot/missing.html", "custom-404-page\n");

# The SuexecUserGroup virtual host: "nobody" owns its scripts.
my $suexec = -e "$modules/mod_suexec.so" && -u '/usr/lib/apache2/suexec'
             && defined getpwnam('nobody') && defined getgrnam('nogroup');
my ($nobody_uid, $nogroup_gid) = ((getpwnam('nobody'))[2] // -1, (getgrnam('nogroup'))[2] // -1);
my $vdoc = "$root/vhost";
if ($suexec) {
    mkdir $vdoc; mkdir "$vdoc/cgi";
    put_file("$vdoc/cgi/hello.fcgi", $t->app('hello'), 0755);
    put_file("$vdoc/cgi/root-owned.fcgi", $t->app('hello'), 0755);
    chown $nobody_uid, $nogroup_gid, $vdoc, "$vdoc/cgi", "$vdoc/cgi/hello.fcgi";
    chmod 0755, $vdoc, "$vdoc/cgi";
}
my $vhost = $suexec ? <<"EOT" : '';
LoadModule suexec_module $modules/mod_suexec.so
<VirtualHost 127.0.0.1:@{[ $t->port ]}>
    ServerName suexec.test
    DocumentRoot "$vdoc"
    SuexecUserGroup nobody nogroup
    <Directory "$vdoc/cgi">
        Options +ExecCGI
        AddHandler fcgid-script .fcgi
    </Directory>
</VirtualHost>
<VirtualHost 127.0.0.1:@{[ $t->port ]}>
    ServerName 127.0.0.1
    DocumentRoot "$docroot"
</VirtualHost>
EOT

# As mod_fcgid's documentation writes it; only LoadModule differs.
$t->write_conf(<<"EOT");
FcgidMaxRequestLen 1000
FcgidInitialEnv SERVERENV server
FcgidPassHeader Authorization
FcgidCmdOptions /usr/bin/php-cgi MaxRequestsPerProcess 30 MaxProcesses 3 MinProcesses 1
FcgidCmdOptions $docroot/cgi/opts.fcgi InitialEnv CMDOPT=yes MaxProcessLifeTime 2 MinProcesses 0 IOTimeout 30
FcgidIdleTimeout 60
FcgidMinProcessesPerClass 0
FcgidIPCDir "$root/fcgid-ipc"
FcgidProcessTableFile "$root/fcgid_shm"
ErrorDocument 404 /missing.html
<Directory "$docroot/cgi">
    Options +ExecCGI
    AddHandler fcgid-script .fcgi
</Directory>
<Directory "$docroot/noexec">
    AddHandler fcgid-script .fcgi
</Directory>
<Directory "$docroot/php">
    Options +ExecCGI
    AddHandler fcgid-script .php
    FcgidWrapper /usr/bin/php-cgi .php
</Directory>
$vhost
EOT
ok($t->configtest, 'configtest accepts the mod_fcgid configuration') or diag($t->log_tail(20));
ok($t->start, 'httpd started') or BAIL_OUT('no httpd: ' . $t->log_tail(30));
like($t->log_text, qr/FcgidProcessTableFile is accepted for mod_fcgid configurations and ignored/,
     'a directive that means nothing here is noted once');

my $r = $t->get('/cgi/hello.fcgi?x=1');
is($r->{status}, 200, 'first request for a C script: 200 (it waited for the start)');
like($r->{body}, qr/^APP=hello-c$/m, 'answered by the script');
like($r->{body}, qr{^SCRIPT_FILENAME=\Q$docroot\E/cgi/hello\.fcgi$}m, 'SCRIPT_FILENAME is the script');
my ($pid1) = $r->{body} =~ /^PID=(\d+)$/m;
$r = $t->get('/cgi/perl.fcgi');
is($r->{status}, 200, 'a Perl FCGI script: 200');
like($r->{body}, qr/^APP=hello-pl$/m, 'answered by the Perl script');
my ($ppid) = $r->{body} =~ /^PID=(\d+)$/m;
isnt($ppid, $pid1, 'each script has its own class');

$r = $t->get('/cgi/hello.fcgi?env=SERVERENV&env=CMDOPT');
like($r->{body}, qr/^ENV_SERVERENV=server$/m, 'FcgidInitialEnv reaches the workers');
like($r->{body}, qr/^ENV_CMDOPT=<unset>$/m, "... and another program's FcgidCmdOptions does not");
{
    my $mark = $t->log_mark;
    $r = $t->get('/cgi/opts.fcgi?env=SERVERENV&env=CMDOPT');
    like($r->{body}, qr/^ENV_CMDOPT=yes$/m, 'FcgidCmdOptions InitialEnv reaches its program');
    like($r->{body}, qr/^ENV_SERVERENV=<unset>$/m, '... in place of the server\'s settings, as with mod_fcgid');
    ok(wait_for(sub { $t->log_since($mark) =~ /idle and older than FcgidProcessLifeTime 2 s: retiring it/ }, 15, 0.3),
       'MaxProcessLifeTime retires the idle worker (MinProcesses 0)');
}

# CGI rules the apps of mod_fcgid sites rely on.
$r = $t->get('/cgi/env.fcgi', headers => { Authorization => 'Basic YWxpY2U6c2VjcmV0' });
like($r->{body}, qr/^HTTP_AUTHORIZATION=Basic YWxpY2U6c2VjcmV0$/m, 'FcgidPassHeader Authorization: HTTP_AUTHORIZATION');
like($r->{body}, qr/^Authorization=Basic YWxpY2U6c2VjcmV0$/m, '... and Authorization, as mod_fcgid passes it');
like($r->{body}, qr/^CONTENT_LENGTH=0$/m, 'CONTENT_LENGTH 0 on a GET');
$r = $t->get('/cgi/env.fcgi?location=/target.txt');
is($r->{status}, 200, 'Location: /target.txt without Status: an internal redirect');
like($r->{body}, qr/the-redirect-target/, '... serving the target');
$r = $t->get('/cgi/env.fcgi?location=http%3A%2F%2Fexample.invalid%2Fx');
is($r->{status}, 302, 'Location: http://... without Status: 302');
is($r->{headers}{location}, 'http://example.invalid/x', '... to that URL');

$r = $t->get('/cgi/nothere.fcgi');
is($r->{status}, 404, 'a missing script: 404');
like($r->{body}, qr/custom-404-page/, "... httpd's own 404 (its ErrorDocument)");
$r = $t->get('/noexec/hello.fcgi');
is($r->{status}, 403, 'without Options ExecCGI: 403');
$r = $t->post('/cgi/hello.fcgi', 'x' x 2000);
is($r->{status}, 413, 'a body above FcgidMaxRequestLen: 413');
$r = $t->post('/cgi/hello.fcgi', 'y' x 500);
is($r->{status}, 200, 'a body below it: 200');
is($r->{headers}{'x-body-length'}, 500, '... the app read it whole');

# A chunked body (no Content-Length) over the limit: 413 as well.
{
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->port,
                                     Timeout => 10) or die "connect: $!";
    my $chunk = 'z' x 700;
    print {$sock} "POST /cgi/hello.fcgi HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        . join('', map { sprintf("%x\r\n%s\r\n", length $chunk, $chunk) } 1 .. 3)
        . "0\r\n\r\n";
    local $/;
    my $answer = <$sock> // '';
    like($answer, qr{^HTTP/1\.1 413 }, 'a chunked body above FcgidMaxRequestLen: 413');
}

# mod_fcgid restarts a script's processes when the file changes.
like($t->log_text, qr/app fcgid-hello\.fcgi-[0-9a-f]{16}: script \Q$docroot\E\/cgi\/hello\.fcgi, started on demand/,
     'the class is named after its program, and its start is logged');
{
    my $future = time + 5;
    utime $future, $future, "$docroot/cgi/hello.fcgi";
    my $new = wait_for(sub {
        my $x = $t->get('/cgi/hello.fcgi');
        my ($p) = ($x->{body} // '') =~ /^PID=(\d+)$/m;
        return $x->{status} == 200 && $p && $p != $pid1 ? $p : undef;
    }, 20, 0.3);
    ok($new, "a changed script is served by new workers (pid $pid1 -> " . ($new // 'none') . ')');
}

SKIP: {
    skip 'no php-cgi', 5 unless $have_php;
    $r = $t->get('/php/hello.php?q=1');
    is($r->{status}, 200, 'PHP through FcgidWrapper /usr/bin/php-cgi: 200');
    like($r->{body}, qr/^SUM=42$/m, 'PHP ran');
    like($r->{body}, qr{^SCRIPT_FILENAME=\Q$docroot\E/php/hello\.php$}m, 'SCRIPT_FILENAME is the PHP file');
    $r = $t->get('/nophp/hello.php');
    unlike($r->{body}, qr/^SUM=42$/m, 'a .php file where no handler maps it is not executed');
    like($r->{body}, qr/6 \* 7/, '... httpd serves it as a file');
}

# Saturation and gracefuls: 8 clients on the C script's class (its pool
# grows on demand) and on PHP (at most 3 php-cgi, each exiting after 30
# requests: PHP_FCGI_MAX_REQUESTS), 5 gracefuls while they run.
my $mark = $t->log_mark;
my $load = $t->load_start(
    clients => 8, until_stopped => 1, max_seconds => 90, timeout => 30,
    expect  => qr/^APP=hello-(?:c|php)$/m,
    path    => sub { my ($c, $i) = @_;
                     return $have_php && $c % 2 ? "/php/hello.php?sleep=50&c=$c&i=$i"
                                                : "/cgi/hello.fcgi?sleep=100&c=$c&i=$i" });
sleep 1.5;
for my $n (1 .. 5) {
    ok(eval { $t->graceful }, "graceful $n under load") or diag($@);
    sleep 0.7;
}
sleep 1;
my $s = $t->load_finish($load);
note(FcgiPmTest::load_summary_text($s));
cmp_ok($s->{total}, '>=', 30, "load ran ($s->{total} requests)");
is($s->{failed} + $s->{non2xx} + $s->{bad_body}, 0, 'no request failed across 5 gracefuls');
$r = $t->get('/cgi/hello.fcgi');
is($r->{status}, 200, 'the class still answers after the gracefuls');
SKIP: {
    skip 'no php-cgi', 1 unless $have_php;
    my $exits = () = $t->log_since($mark) =~ /app fcgid-php_cgi-[0-9a-f]+: worker \d+ (?:seen serving \d+ requests \(MaxRequests 30\)|exited with status 0)/g;
    cmp_ok($exits, '>=', 1, "php-cgi workers recycled themselves under the load ($exits seen)");
}

SKIP: {
    skip 'mod_suexec with a setuid suexec (apache2-suexec-pristine) and nobody/nogroup needed', 5
        unless $suexec;
    $r = $t->get('/cgi/hello.fcgi', headers => { Host => 'suexec.test' });
    is($r->{status}, 200, 'SuexecUserGroup virtual host: the script answers');
    like($r->{body}, qr/^UID=$nobody_uid$/m, '... as SuexecUserGroup\'s user');
    like($r->{body}, qr/^GID=$nogroup_gid$/m, '... and group');
    my $mark = $t->log_mark;
    $r = $t->get('/cgi/root-owned.fcgi', headers => { Host => 'suexec.test' }, timeout => 20);
    isnt($r->{status}, 200, 'a program not owned by that user is never run');
    like($t->log_since($mark), qr/suexec rules/, '... and the log says why');
}

ok($t->stop, 'httpd stopped');

# The same handler under the other MPMs: each httpd child asks the
# manager for the class on its own; the first ask makes it, the others
# find it.  A load of more clients than processes, and two gracefuls.
for my $mpm (qw(prefork worker)) {
    my $tm = FcgiPmTest->new(mpm => $mpm);
    my $d = $tm->docroot;
    mkdir "$d/cgi"; chmod 0755, "$d/cgi";
    put_file("$d/cgi/hello.fcgi", $tm->app('hello'), 0755);
    $tm->write_conf(<<"EOT");
FcgidMaxProcessesPerClass 3
<Directory "$d/cgi">
    Options +ExecCGI
    AddHandler fcgid-script .fcgi
</Directory>
EOT
    ok($tm->start, "$mpm: httpd started") or next;
    my $l = $tm->load_start(
        clients => 6, until_stopped => 1, max_seconds => 60, timeout => 30,
        expect  => qr/^APP=hello-c$/m,
        path    => sub { my ($c, $i) = @_; return "/cgi/hello.fcgi?sleep=50&c=$c&i=$i" });
    sleep 1;
    ok(eval { $tm->graceful }, "$mpm: graceful 1 under load") or diag($@);
    sleep 1;
    ok(eval { $tm->graceful }, "$mpm: graceful 2 under load") or diag($@);
    sleep 1;
    my $ls = $tm->load_finish($l);
    note("$mpm: " . FcgiPmTest::load_summary_text($ls));
    cmp_ok($ls->{total}, '>=', 20, "$mpm: load ran ($ls->{total} requests)");
    is($ls->{failed} + $ls->{non2xx} + $ls->{bad_body}, 0, "$mpm: no request failed");
    my @made = $tm->log_text =~ /app fcgid-hello\.fcgi-[0-9a-f]+: script .*, started on demand/g;
    is(scalar @made, 1, "$mpm: one class made, however many children asked");
    ok($tm->stop, "$mpm: httpd stopped");
}

# The example shipped in conf/examples passes configtest as it is.
{
    my $t2 = FcgiPmTest->new;
    $t2->write_conf('Include "' . FcgiPmTest::repo_dir() . "/conf/examples/fcgid-site.conf\"\n");
    ok($t2->configtest, 'conf/examples/fcgid-site.conf passes configtest') or diag($t2->log_tail(10));
}
done_testing;
