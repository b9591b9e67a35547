#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 34-cgi.t - the CGI semantics apps rely on (issue 10, item 3), for
# FcgiPmPass apps, with t/apps/cgienv.c (it prints the params it got and
# answers "Location:" with or without "Status:").
#
#  1. configtest refuses a PassHeader that is no header name CGI can pass,
#     and "Proxy", with file and line; accepts a good one.
#  2. Params: Authorization reaches an app with PassHeader Authorization
#     (as Authorization and HTTP_AUTHORIZATION, as FcgidPassHeader gives
#     it), not one without it; CGIPassAuth On gives HTTP_AUTHORIZATION
#     (the README's other way).  CONTENT_LENGTH is 0 on a GET, the body's
#     length on a POST.
#  3. Location without Status: a local path is an internal redirect, as a
#     GET (a static file; another FcgiPmPass URL), an absolute URL a 302
#     with httpd's page; "Status: 301" + Location stays 301 with the app's
#     body.
#  4. Under saturating load (6 clients on 2 workers) with a graceful in
#     the middle, every redirect request gets its right answer.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(app_conf);
use FcgiPmTest::HTTP qw(http_request);
use FcgiPmTest::Load qw(start_clients finish_clients summarize_records load_summary_text);

my $AUTH = 'Basic Zm9vOmJhcg==';

# The value of NAME in cgienv's answer, undef when the line is missing.
sub param {
    my ($res, $name) = @_;
    return ($res->{body} // '') =~ /^\Q$name\E=(.*)$/m ? $1 : undef;
}

subtest 'configtest: PassHeader names' => sub {
    my $t = FcgiPmTest->new;
    my $app = $t->app('cgienv');
    for my $c (['X_Api_Key', qr/X_Api_Key' is not a header name that CGI can pass/],
               ['Proxy', qr/'Proxy' is never passed/],
               ['"Bad Name"', qr/'Bad Name' is not a header name/]) {
        my ($name, $msg) = @$c;
        my $path = $t->write_conf(app_conf('p', $app, 'PassHeader Authorization',
                                           "PassHeader X-Ok $name"),
                                  file => 'bad.conf');
        my ($rc, $out) = $t->configtest($path);
        my $line = $t->conf_line_of($path, qr/^\s*PassHeader X-Ok/);
        isnt($rc, 0, "PassHeader $name: configtest fails");
        like($out, qr/\Q$path\E:$line\b/, "PassHeader $name: the message names file and line $line");
        like($out, $msg, "PassHeader $name: the message says why");
    }
    my $path = $t->write_conf(app_conf('p', $app, 'PassHeader Authorization X-Api-Key',
                                       'PassHeader Proxy-Authorization'), file => 'good.conf');
    my ($rc, $out) = $t->configtest($path);
    is($rc, 0, 'good PassHeader lines are accepted') or diag($out);
};

subtest 'params: PassHeader, CGIPassAuth, CONTENT_LENGTH' => sub {
    my $t = FcgiPmTest->new;
    my $app = $t->app('cgienv');
    $t->write_conf(app_conf('pass', $app, 'Processes 1', 'PassHeader Authorization X-Api-Key')
                   . app_conf('plain', $app, 'Processes 1')
                   . "<Location /plain/cgipassauth>\n    CGIPassAuth On\n</Location>\n");
    ok($t->start, 'httpd started') or return;
    ok($t->wait_ok('/pass/x', 20) && $t->wait_ok('/plain/x', 20), 'apps answer');
    my %h = (Authorization => $AUTH, 'X-Api-Key' => 'k1');

    my $r = $t->get('/pass/x', headers => \%h);
    is($r->{status}, 200, 'PassHeader app: 200');
    is(param($r, 'HTTP_AUTHORIZATION'), $AUTH, 'PassHeader Authorization: HTTP_AUTHORIZATION');
    is(param($r, 'Authorization'), $AUTH, 'PassHeader Authorization: Authorization (its own name, as FcgidPassHeader)');
    is(param($r, 'X-Api-Key'), 'k1', 'PassHeader X-Api-Key: X-Api-Key');
    is(param($r, 'HTTP_X_API_KEY'), 'k1', 'HTTP_X_API_KEY');

    $r = $t->get('/pass/x');
    is(param($r, 'HTTP_AUTHORIZATION'), '<unset>', 'no Authorization header: nothing passed');

    $r = $t->get('/plain/x', headers => \%h);
    is($r->{status}, 200, 'app without PassHeader: 200');
    is(param($r, 'HTTP_AUTHORIZATION'), '<unset>', 'without PassHeader: no HTTP_AUTHORIZATION (httpd hides it)');
    is(param($r, 'Authorization'), '<unset>', 'without PassHeader: no Authorization');
    is(param($r, 'HTTP_X_API_KEY'), 'k1', 'an ordinary header still arrives as HTTP_X_API_KEY');
    is(param($r, 'X-Api-Key'), '<unset>', '... but not under its own name');

    $r = $t->get('/plain/cgipassauth', headers => \%h);
    is(param($r, 'HTTP_AUTHORIZATION'), $AUTH, 'CGIPassAuth On: HTTP_AUTHORIZATION');
    is(param($r, 'Authorization'), '<unset>', 'CGIPassAuth On: not under its own name');

    $r = $t->get('/plain/x');
    is(param($r, 'REQUEST_METHOD'), 'GET', 'GET');
    is(param($r, 'CONTENT_LENGTH'), '0', 'CONTENT_LENGTH 0 on a GET without a body');
    $r = $t->post('/plain/x', 'abcdefg');
    is(param($r, 'CONTENT_LENGTH'), '7', 'CONTENT_LENGTH 7 on a POST of 7 bytes');
    is(param($r, 'BODY_LENGTH'), '7', 'the app read 7 bytes');
    $r = $t->post('/plain/x', '');
    is(param($r, 'CONTENT_LENGTH'), '0', 'CONTENT_LENGTH 0 on a POST with Content-Length: 0');
    $t->stop;
};

# The configuration of the Location tests: "redir" answers with Location,
# "other" is the FcgiPmPass target of local redirects.
sub location_conf {
    my ($app, $processes) = @_;
    return app_conf('redir', $app, "Processes $processes", 'ShutdownTimeout 10')
         . app_conf('other', $app, "Processes $processes", 'ShutdownTimeout 10');
}

sub static_file {
    my ($t) = @_;
    my $f = $t->docroot . '/static.txt';
    open my $fh, '>', $f or die "write $f: $!";
    print {$fh} "static content\n";
    close $fh;
    chmod 0644, $f;
}

subtest 'Location without Status' => sub {
    my $t = FcgiPmTest->new;
    my $app = $t->app('cgienv');
    static_file($t);
    $t->write_conf(location_conf($app, 1));
    ok($t->start, 'httpd started') or return;
    ok($t->wait_ok('/redir/x', 20) && $t->wait_ok('/other/x', 20), 'apps answer');

    my $r = $t->get('/redir/x?location=/static.txt');
    is($r->{status}, 200, 'Location: /static.txt: 200');
    is($r->{body}, "static content\n", "... with the static file's content");
    ok(!exists $r->{headers}{location}, '... and no Location header');

    $r = $t->post('/redir/x?location=/static.txt', 'body of the POST');
    is($r->{status}, 200, 'a POST answered with Location: /static.txt: 200');
    is($r->{body}, "static content\n", "... with the static file's content");

    $r = $t->get('/redir/x?location=%2Fother%2Fy%3Fq%3D1');
    is($r->{status}, 200, 'Location: /other/y?q=1 (another FcgiPmPass app): 200');
    is(param($r, 'APP'), 'cgienv', "... with that app's answer");
    is(param($r, 'SCRIPT_NAME') . param($r, 'PATH_INFO'), '/other/y', '... for /other/y');
    is(param($r, 'QUERY_STRING'), 'q=1', '... with its query string');
    is(param($r, 'REDIRECT_URL'), '/redir/x', '... as an internal redirect from /redir/x (REDIRECT_URL)');
    like(param($r, 'REQUEST_URI'), qr{^/redir/x\?}, "... REQUEST_URI is the client's, as with mod_cgi");

    $r = $t->post('/redir/x?location=/other/z', 'abc');
    is($r->{status}, 200, 'a POST redirected to /other/z: 200');
    is(param($r, 'REQUEST_METHOD'), 'GET', '... the redirected request is a GET');
    is(param($r, 'CONTENT_LENGTH'), '0', '... without a body (CONTENT_LENGTH 0)');
    is(param($r, 'BODY_LENGTH'), '0', '... the app reads no body');

    $r = $t->get('/redir/x?location=http://example.com/y');
    is($r->{status}, 302, 'Location: http://example.com/y: 302');
    is($r->{headers}{location}, 'http://example.com/y', '... to that URL');
    like($r->{body}, qr/302 Found/, "... with httpd's page");
    unlike($r->{body}, qr/redirect body/, "... not the app's body");

    $r = $t->get('/redir/x?location=http://example.com/login&cookie=s1');
    is($r->{status}, 302, 'Location and Set-Cookie (a login): 302');
    is($r->{headers}{'set-cookie'}, 'c=s1', '... with the Set-Cookie');
    $r = $t->get('/redir/x?location=/static.txt&cookie=s2');
    is($r->{body}, "static content\n", 'Location: /static.txt and Set-Cookie: the static file');
    is($r->{headers}{'set-cookie'}, 'c=s2', '... with the Set-Cookie');

    $r = $t->get('/redir/x?location=//example.com/y');
    is($r->{status}, 302, 'Location: //example.com/y (another server): 302, not an internal redirect');

    $r = $t->get('/redir/x?location=http://example.com/y&status=301');
    is($r->{status}, 301, 'Status: 301 with Location: stays 301');
    is($r->{headers}{location}, 'http://example.com/y', '... to that URL');
    like($r->{body}, qr/redirect body/, "... with the app's body");

    $r = $t->get('/redir/x?location=/static.txt&status=302');
    is($r->{status}, 302, 'Status: 302 with a local Location: the client is redirected');
    $r = $t->get('/redir/x');
    is($r->{status}, 200, 'an answer without Location: 200 as before');
    is(param($r, 'APP'), 'cgienv', "... with the app's body");
    $t->stop;
};

subtest 'redirects under saturating load with a graceful' => sub {
    my $t = FcgiPmTest->new;
    my $app = $t->app('cgienv');
    static_file($t);
    $t->write_conf(location_conf($app, 2));
    ok($t->start, 'httpd started') or return;
    ok($t->wait_ok('/redir/x', 20) && $t->wait_ok('/other/x', 20), 'apps answer');

    # Each request checks its own answer; a right one becomes "GOOD".
    my @kinds = (
        ['/redir/x?sleep=40&location=/static.txt', sub { $_[0]{status} == 200 && $_[0]{body} eq "static content\n" }],
        ['/redir/x?sleep=40&location=%2Fother%2Fy%3Fsleep%3D40', sub { $_[0]{status} == 200 && (param($_[0], 'REDIRECT_URL') // '') eq '/redir/x' && (param($_[0], 'PATH_INFO') // '') eq '/y' }],
        ['/redir/x?sleep=40&location=http://example.com/z', sub { $_[0]{status} == 302 && ($_[0]{headers}{location} // '') eq 'http://example.com/z' }],
    );
    my $port = $t->port;
    my $load = start_clients(
        port => $port, dir => $t->root . '/load-cgi', clients => 6, until_stopped => 1,
        max_seconds => 60, timeout => 30, expect => qr/\AGOOD\z/,
        path => sub { my ($c, $i) = @_; return $kinds[($c + $i) % @kinds][0] . "&c=$c&i=$i" },
        request => sub {
            my ($path) = @_;
            my $r = http_request(port => $port, path => $path, timeout => 30);
            my ($kind) = grep { index($path, $_->[0]) == 0 } @kinds;
            return $r unless $kind && $kind->[1]->($r);
            return { %$r, status => 200, body => 'GOOD' };
        });
    push @{ $t->{loads} }, $load;   # the cleanup ends it if we die
    sleep 3;
    ok(eval { $t->graceful }, 'graceful under load') or diag($@);
    sleep 3;
    my $s = summarize_records(finish_clients($load));
    note(load_summary_text($s));
    cmp_ok($s->{total}, '>=', 60, 'at least 60 requests were made');
    is($s->{ok}, $s->{total}, 'every redirect request got its right answer')
        or diag(join "\n", @{ $s->{errors} });
    $t->stop;
};

done_testing;
