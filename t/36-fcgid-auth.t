#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 36-fcgid-auth.t - mod_fcgid's FastCGI authorizer roles: FcgidAuthenticator,
# FcgidAuthorizer, FcgidAccessChecker and their ...Authoritative flags, with
# a real libfcgi authorizer (t/apps/authz.c) started as an on-demand class.
# A refusal reaches the client with the program's status and headers (the
# authenticator's WWW-Authenticate), a grant's Variable-* headers reach the
# protected app's environment (FcgiPmPass and fcgid-script), Authoritative
# Off leaves the decision to httpd's own modules (mod_authn_file with an
# htpasswd file, Require), a broken answer is a logged 500, an .htaccess
# file cannot name a program of its own, and authenticated requests under
# load (more clients than workers) survive gracefuls.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Copy qw(copy);
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(sleep);
use FcgiPmTest;

my $t = FcgiPmTest->new;
my $root = $t->root;
my $docroot = $t->docroot;
my $modules = '/usr/lib/apache2/modules';
my $authz = $t->app('authz');
my $hello = $t->app('hello');
my $htpasswd_bin = '/usr/bin/htpasswd';
my $have_htpasswd = -x $htpasswd_bin;

sub basic { my ($user, $pw) = @_; return { Authorization => 'Basic ' . encode_base64("$user:$pw", '') } }
sub put_text {
    my ($path, $text) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print {$fh} $text;
    close $fh;
    chmod 0644, $path;
}

# The htpasswd file httpd's mod_authn_file reads (apache2-utils).
my $htpasswd = "$root/htpasswd";
sub htpasswd {
    my @args = @_;
    open my $ph, '-|', $htpasswd_bin, @args or die "htpasswd: $!";
    my @out = <$ph>;
    close $ph or die "htpasswd @args[0 .. 2]: exit $?";
}
if ($have_htpasswd) {
    htpasswd('-cbB', $htpasswd, 'bob', 'builder');
    htpasswd('-bB', $htpasswd, 'alice', 'wonderland');
    chmod 0644, $htpasswd;
}
my $file_auth = $have_htpasswd ? "AuthBasicProvider file\n    AuthUserFile \"$htpasswd\"" : '';

# fcgid-script directories and .htaccess files.
for my $d (qw(cgi cgi/open cgi/shut ht ht/ok ht/ok/open ht/own ht/own/open)) {
    mkdir "$docroot/$d"; chmod 0755, "$docroot/$d";
}
for my $d (qw(open shut)) {
    copy($hello, "$docroot/cgi/$d/hello.fcgi") or die "copy: $!";
    chmod 0755, "$docroot/cgi/$d/hello.fcgi";
}
my $own_authz = "$root/bin/own-authz";
copy($authz, $own_authz) or die "copy: $!";
chmod 0755, $own_authz;
put_text("$docroot/ht/ok/open/f.txt", "static-ok\n");
put_text("$docroot/ht/own/open/f.txt", "static-own\n");
put_text("$docroot/ht/ok/.htaccess", "FcgidAccessChecker $authz\n");
put_text("$docroot/ht/own/.htaccess", "FcgidAccessChecker $own_authz\n");

my $basic = qq{AuthType Basic\n    AuthName "fcgi test"\n    Require valid-user};
$t->write_conf(<<"EOT");
LoadModule authn_core_module $modules/mod_authn_core.so
LoadModule authn_file_module $modules/mod_authn_file.so
LoadModule auth_basic_module $modules/mod_auth_basic.so
LoadModule authz_user_module $modules/mod_authz_user.so
FcgidIOTimeout 3
FcgidMinProcessesPerClass 0
<FcgiPmApp hello>
    Command $hello
    Processes 2
</FcgiPmApp>
<Location /authn>
    $basic
    FcgidAuthenticator $authz
    FcgiPmPass hello
</Location>
<Location /both>
    $basic
    FcgidAuthenticator $authz
    FcgidAuthorizer $authz
    FcgiPmPass hello
</Location>
<Location /authz-only>
    $basic
    $file_auth
    FcgidAuthorizer $authz
    FcgiPmPass hello
</Location>
<Location /strict>
    $basic
    $file_auth
    FcgidAuthenticator $authz
    FcgiPmPass hello
</Location>
<Location /fallback>
    $basic
    $file_auth
    FcgidAuthenticator $authz
    FcgidAuthenticatorAuthoritative Off
    FcgiPmPass hello
</Location>
<Location /zone>
    FcgidAccessChecker $authz
    FcgiPmPass hello
</Location>
<Location /zone-off>
    FcgidAccessChecker $authz
    FcgidAccessCheckerAuthoritative Off
    Require ip 127.0.0.1
    FcgiPmPass hello
</Location>
<Directory "$docroot/cgi">
    Options +ExecCGI
    AddHandler fcgid-script .fcgi
    FcgidAccessChecker $authz
</Directory>
<Directory "$docroot/ht">
    AllowOverride FileInfo
</Directory>
EOT
ok($t->configtest, 'configtest accepts the authorizer directives') or diag($t->log_tail(20));
ok($t->start, 'httpd started') or BAIL_OUT('no httpd: ' . $t->log_tail(30));

my $env = join '&', map { "param=AUTHZ_$_" }
    qw(AUTHENTICATOR AUTHENTICATOR_USER AUTHENTICATOR_PASSWD AUTHENTICATOR_DROPPED
       AUTHORIZER AUTHORIZER_USER AUTHORIZER_PASSWD ACCESS_CHECKER ACCESS_CHECKER_USER
       ACCESS_CHECKER_DROPPED);
$env .= '&param=REMOTE_PASSWD&param=REMOTE_USER&param=LEAK';

# FcgidAuthenticator
my $r = $t->get('/authn/x');
is($r->{status}, 401, 'authenticator, no credentials: 401');
like($r->{headers}{'www-authenticate'} // '', qr/Basic realm="fcgi test"/, "... httpd's challenge (AuthName)");
$r = $t->get('/authn/x', headers => basic('alice', 'wrong'));
is($r->{status}, 401, 'authenticator, wrong password: 401');
like($r->{headers}{'www-authenticate'} // '', qr/realm="fcgi-authz-test"/,
     "... with the authenticator's WWW-Authenticate header");
unlike($r->{body}, qr/who are you/, "... and httpd's error page, not the program's body");
ok(!exists $r->{headers}{'variable-leak'}, '... no Variable- header reaches the client');
$r = $t->get('/authn/x', headers => basic('mallory', 'secret'));
is($r->{status}, 401, 'authenticator, unknown user: 401');
$r = $t->get("/authn/x?$env", headers => basic('alice', 'secret'));
is($r->{status}, 200, 'authenticator, alice/secret: 200');
like($r->{body}, qr/^APP=hello-c$/m, '... answered by the protected FcgiPmPass app');
like($r->{body}, qr/^PARAM_AUTHZ_AUTHENTICATOR=AUTHORIZER$/m,
     '... the program ran in the FastCGI AUTHORIZER role (FCGI_ROLE), FCGI_APACHE_ROLE=AUTHENTICATOR');
like($r->{body}, qr/^PARAM_AUTHZ_AUTHENTICATOR_USER=alice$/m, '... it got REMOTE_USER');
like($r->{body}, qr/^PARAM_AUTHZ_AUTHENTICATOR_PASSWD=set$/m, '... and REMOTE_PASSWD');
like($r->{body}, qr/^PARAM_AUTHZ_AUTHENTICATOR_DROPPED=none$/m,
     '... but no CONTENT_LENGTH, PATH_INFO nor SCRIPT_NAME');
like($r->{body}, qr/^PARAM_REMOTE_PASSWD=<unset>$/m, '... the password does not reach the app');
like($r->{body}, qr/^PARAM_REMOTE_USER=alice$/m, '... the user does');
ok(!exists $r->{headers}{'x-not-for-the-client'}, "... a grant's other headers are dropped");

# FcgidAuthenticator + FcgidAuthorizer
$r = $t->get("/both/x?$env", headers => basic('alice', 'secret'));
is($r->{status}, 200, 'authenticator and authorizer, alice: 200');
like($r->{body}, qr/^PARAM_AUTHZ_AUTHENTICATOR_USER=alice$/m, "... the authenticator's variables");
like($r->{body}, qr/^PARAM_AUTHZ_AUTHORIZER_USER=alice$/m, "... and the authorizer's");
like($r->{body}, qr/^PARAM_AUTHZ_AUTHORIZER_PASSWD=unset$/m, '... which gets no password');

SKIP: {
    skip 'htpasswd (apache2-utils) needed', 13 unless $have_htpasswd;
    # mod_authn_file authenticates, FcgidAuthorizer decides.
    $r = $t->get("/authz-only/x?$env", headers => basic('alice', 'wonderland'));
    is($r->{status}, 200, 'htpasswd user alice, FcgidAuthorizer grants: 200');
    like($r->{body}, qr/^PARAM_AUTHZ_AUTHORIZER_USER=alice$/m, '... the authorizer saw alice');
    $r = $t->get('/authz-only/x', headers => basic('bob', 'builder'));
    is($r->{status}, 403, 'htpasswd user bob, FcgidAuthorizer refuses: its 403');
    is($r->{headers}{'x-refused-by'}, 'authz', "... with the program's headers");

    # Authoritative On: the program's refusal is final.
    $r = $t->get('/strict/x', headers => basic('bob', 'builder'));
    is($r->{status}, 401, 'FcgidAuthenticatorAuthoritative On: bob of the htpasswd file refused (401)');
    # Off: httpd's mod_authn_file gets its turn.
    my $mark = $t->log_mark;
    $r = $t->get("/fallback/x?$env", headers => basic('bob', 'builder'));
    is($r->{status}, 200, 'FcgidAuthenticatorAuthoritative Off: bob of the htpasswd file let in (200)');
    like($r->{body}, qr/^PARAM_REMOTE_USER=bob$/m, '... as bob');
    like($r->{body}, qr/^PARAM_AUTHZ_AUTHENTICATOR_USER=<unset>$/m, '... without a grant of the program');
    like($t->log_since($mark), qr/FcgidAuthenticator \S+: user bob refused .*Authoritative Off/,
         '... after the program refused him (logged)');
    $r = $t->get("/fallback/x?$env", headers => basic('alice', 'secret'));
    is($r->{status}, 200, '... alice/secret still granted by the program');
    like($r->{body}, qr/^PARAM_AUTHZ_AUTHENTICATOR_USER=alice$/m, '... with its variables');
    $r = $t->get('/fallback/x', headers => basic('carol', 'x'));
    is($r->{status}, 401, '... a user neither knows: 401');
    $r = $t->get('/fallback/x', headers => basic('bob', 'wrong'));
    is($r->{status}, 401, '... a wrong htpasswd password: 401');
}

# FcgidAccessChecker, by path
$r = $t->get("/zone/open/x?$env");
is($r->{status}, 200, 'access checker, allowed path: 200');
like($r->{body}, qr/^PARAM_AUTHZ_ACCESS_CHECKER=AUTHORIZER$/m, "... its variables reach the app");
like($r->{body}, qr/^PARAM_AUTHZ_ACCESS_CHECKER_USER=-$/m, '... it had no REMOTE_USER');
$r = $t->get('/zone/closed/x');
is($r->{status}, 403, 'access checker, other path: its 403');
is($r->{headers}{'x-refused-by'}, 'access', "... with the program's headers");
$r = $t->get('/zone/login/x');
is($r->{status}, 302, 'access checker answering a redirect: 302');
is($r->{headers}{location}, 'http://login.test/', '... to its Location');
my $mark = $t->log_mark;
$r = $t->get('/zone-off/closed/x');
is($r->{status}, 200, 'FcgidAccessCheckerAuthoritative Off: Require ip decides (200)');
like($t->log_since($mark), qr/FcgidAccessChecker \S+: refused \S+ \(status 403\).*Authoritative Off/,
     '... after the program refused (logged)');

# fcgid-script behind an access checker
$r = $t->get('/cgi/open/hello.fcgi?param=AUTHZ_ACCESS_CHECKER');
is($r->{status}, 200, 'fcgid-script, allowed path: 200');
like($r->{body}, qr/^PARAM_AUTHZ_ACCESS_CHECKER=AUTHORIZER$/m, "... the checker's variable reaches the script");
$r = $t->get('/cgi/shut/hello.fcgi');
is($r->{status}, 403, 'fcgid-script, refused path: 403');
unlike($r->{body}, qr/APP=hello-c/, '... the script did not run');

# .htaccess: only programs the server's own files name
$r = $t->get('/ht/ok/open/f.txt');
is($r->{status}, 200, '.htaccess naming the configured program: it runs');
like($r->{body}, qr/static-ok/, '... the file is served');
$r = $t->get('/ht/ok/f.txt');
is($r->{status}, 403, '... and refuses outside /open/');
$mark = $t->log_mark;
$r = $t->get('/ht/own/open/f.txt');
is($r->{status}, 500, '.htaccess naming a program of its own: 500');
like($t->log_since($mark), qr/FcgidAccessChecker \Q$own_authz\E .*an \.htaccess file may name only/,
     '... never run, and the log says why');

# A broken answer is a 500 with one log line naming the program.
my @broken = (
    [garbage  => qr/malformed answer \(a header line without a name\)/],
    [big      => qr/headers are larger than 16 KB/],
    [nostatus => qr/local Location without Status/],
    [hang     => qr/no answer within FcgidIOTimeout/],
);
for my $b (@broken) {
    my ($what, $why) = @$b;
    $mark = $t->log_mark;
    $r = $t->get("/zone/open/x?bad=$what", timeout => 20);
    is($r->{status}, 500, "an answer that is $what: 500");
    like($t->log_since($mark), qr/FcgidAccessChecker \Q$authz\E: .*$why.*: 500/, '... logged, naming the program');
}
$mark = $t->log_mark;
$r = $t->get('/zone/open/x?bad=stderr');
is($r->{status}, 200, 'a program writing on stderr still answers: 200');
ok(wait_for_log($t, $mark, qr/FcgidAccessChecker \Q$authz\E \(stderr\): authz-stderr-line/),
   '... its stderr is logged');
$r = $t->get('/zone/open/x');
is($r->{status}, 200, 'the checker answers after all that');

# Load: 6 clients on 2 app workers, authenticated and authorized, with
# gracefuls in the middle.
my $load = $t->load_start(
    clients => 6, until_stopped => 1, max_seconds => 90, timeout => 30,
    headers => basic('alice', 'secret'),
    expect  => qr/^PARAM_AUTHZ_AUTHORIZER_USER=alice$/m,
    path    => sub { my ($c, $i) = @_; return "/both/x?sleep=50&param=AUTHZ_AUTHORIZER_USER&c=$c&i=$i" });
sleep 1.5;
for my $n (1 .. 3) {
    ok(eval { $t->graceful }, "graceful $n under authenticated load") or diag($@);
    sleep 0.8;
}
sleep 1;
my $s = $t->load_finish($load);
note(FcgiPmTest::load_summary_text($s));
cmp_ok($s->{total}, '>=', 30, "load ran ($s->{total} requests)");
is($s->{failed} + $s->{non2xx} + $s->{bad_body}, 0, 'no authenticated request failed across the gracefuls')
    or diag(join "\n", @{ $s->{errors} }[0 .. ($#{ $s->{errors} } < 5 ? $#{ $s->{errors} } : 5)]);

ok($t->stop, 'httpd stopped');
done_testing;

sub wait_for_log {
    my ($t, $mark, $re) = @_;
    for (1 .. 50) {
        return 1 if $t->log_since($mark) =~ $re;
        sleep 0.1;
    }
    return 0;
}
