#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 26-house.t - what a packager and an operator see (issue 11).
#
# 1. Files: LICENSE holds the Apache-2.0 text; CHANGES starts with the
#    release that include/fcgi_pm.h defines (FCGI_PM_VERSION);
#    conf/fcgi_pm.load says "# Depends: proxy_fcgi" (a2enmod reads it);
#    every source file carries the SPDX line at its top.
# 2. The release, seen from outside: the Server header names
#    mod_fcgi_pm/VERSION exactly once (also after a graceful); the status
#    page gives it in HTML, JSON, Prometheus and ?auto, and so does the
#    mod_status section (HTML and ?auto); the manager's start line names
#    it with the protocol.
# 3. LogLevel warn: a healthy server (a libfcgi app whose workers exit
#    after some requests, php-cgi with PHP_FCGI_MAX_REQUESTS) under light
#    load, through 3 gracefuls and many recycles, logs no mod_fcgi_pm line
#    at warn or above (a worker's stderr line, logged at warn, proves that
#    such a line would be seen).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(wait_for);

my $REPO = FcgiPmTest::repo_dir();

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or return undef;
    local $/;
    my $t = <$fh>;
    close $fh;
    return $t;
}

my $header = slurp("$REPO/include/fcgi_pm.h") // '';
my ($VERSION) = $header =~ /^#define FCGI_PM_VERSION "([^"]+)"$/m;
my ($PROTO)   = $header =~ /^#define FCGI_PM_PROTO_VERSION (\d+)$/m;
ok(defined $VERSION && $VERSION =~ /^\d+\.\d+\.\d+$/,
   'include/fcgi_pm.h defines FCGI_PM_VERSION "X.Y.Z" (' . ($VERSION // 'none') . ')');
ok(defined $PROTO, "include/fcgi_pm.h defines FCGI_PM_PROTO_VERSION (" . ($PROTO // 'none') . ')');
$VERSION //= 'none';
$PROTO //= 'none';

#----------------------------------------------------------------------------
# 1. Files
#----------------------------------------------------------------------------

subtest 'files: LICENSE, CHANGES, fcgi_pm.load, SPDX lines' => sub {
    my $license = slurp("$REPO/LICENSE") // '';
    like($license, qr/Apache License\s+Version 2\.0, January 2004/, 'LICENSE is the Apache License 2.0');
    like($license, qr/END OF TERMS AND CONDITIONS/, 'LICENSE is the whole text');

    my $changes = slurp("$REPO/CHANGES") // '';
    my ($first) = $changes =~ /^(\d+\.\d+\.\d+)\b/m;
    is($first, $VERSION, "CHANGES: its first (newest) entry is $VERSION");

    my $load = slurp("$REPO/conf/fcgi_pm.load") // '';
    # As a2enmod reads it: the first "# Depends:" line among the comment
    # lines before the first directive.
    my @deps;
    for my $line (split /\n/, $load) {
        if ($line =~ /^# Depends:\s+(.*?)\s*$/) { @deps = split /\s+/, $1; last }
        last if $line !~ /^\s*(?:#.*)?$/;
    }
    is_deeply(\@deps, ['proxy_fcgi'], 'conf/fcgi_pm.load: "# Depends: proxy_fcgi" above LoadModule');
    like($load, qr/^LoadModule fcgi_pm_module \S+mod_fcgi_pm\.so$/m, 'conf/fcgi_pm.load loads the module');

    my @files = map { glob "$REPO/$_" }
        qw(mod_fcgi_pm.c modules/*.c include/*.h Makefile.apxs .ci/run
           conf/*.conf conf/*.load conf/*.sh conf/examples/*
           bench/run bench/*.c t/*.t t/lib/*.pm t/lib/*/*.pm t/apps/*.c t/apps/*.pl
           t/apps/*.php t/apps/*.cgi t/apps/*.psgi t/apps/*.go);
    cmp_ok(scalar @files, '>=', 60, scalar(@files) . ' source files found');
    my @missing;
    for my $f (@files) {
        open my $fh, '<', $f or do { push @missing, "$f (unreadable)"; next };
        my @l = map { scalar <$fh> // '' } 1 .. 2;
        close $fh;
        chomp @l;
        my $at = $l[0] =~ /^(?:#!|<\?php)/ ? $l[1] : $l[0];
        my $want = $f =~ /\.[ch]$/ ? '/* SPDX-License-Identifier: Apache-2.0 */'
                 : $f =~ /\.(?:go|php)$/ ? '// SPDX-License-Identifier: Apache-2.0'
                 : '# SPDX-License-Identifier: Apache-2.0';
        (my $rel = $f) =~ s{^\Q$REPO\E/}{};
        push @missing, $rel if $at ne $want;
    }
    is_deeply(\@missing, [], 'every source file starts with its SPDX line');
};

#----------------------------------------------------------------------------
# 2. The release, seen from outside
#----------------------------------------------------------------------------

subtest 'version: Server header, status page, manager start line' => sub {
    my $t = FcgiPmTest->new;
    my $hello = $t->app('hello');
    $t->write_conf(<<"EOT" . FcgiPmTest::app_conf('hello', "$hello --app=house", 'Processes 1', 'ShutdownTimeout 3')
ServerTokens Full
LoadModule status_module /usr/lib/apache2/modules/mod_status.so
<Location /server-status>
    SetHandler server-status
    Require local
</Location>
EOT
        . FcgiPmTest::status_conf());
    ok($t->start, 'httpd started');
    ok($t->wait_ok('/hello/', 20), 'hello answers');
    my $manager = $t->manager_pid;
    ok($manager, "manager $manager");

    my $banner = sub {
        my $server = $t->get('/hello/')->{headers}{server} // '';
        my $n = () = $server =~ m{\bmod_fcgi_pm/\Q$VERSION\E(?![\w.])}g;
        return ($server, $n);
    };
    my ($server, $n) = $banner->();
    is($n, 1, "Server header names mod_fcgi_pm/$VERSION once ($server)");

    my $html = $t->get('/fcgi-pm-status')->{body};
    like($html, qr{mod_fcgi_pm/\Q$VERSION\E, manager protocol $PROTO\b}, 'HTML: version and protocol');

    my $j = $t->status_json;
    ok($j, 'JSON parses') or return;
    is($j->{version}, $VERSION, 'JSON: "version"');
    is($j->{protocol}, $PROTO, 'JSON: "protocol"');

    my $prom = $t->get('/fcgi-pm-status?format=prometheus')->{body};
    like($prom, qr/^fcgi_pm_build_info\{version="\Q$VERSION\E",protocol="$PROTO"\} 1$/m,
         'Prometheus: fcgi_pm_build_info{version,protocol} 1');
    like($prom, qr/^# TYPE fcgi_pm_build_info gauge$/m, 'Prometheus: fcgi_pm_build_info is a gauge');

    my $auto = $t->get('/fcgi-pm-status?auto')->{body};
    like($auto, qr/^Version: \Q$VERSION\E$/m, '?auto: Version');
    like($auto, qr/^Protocol: $PROTO$/m, '?auto: Protocol');

    my $ms = $t->get('/server-status')->{body};
    like($ms, qr{<h2>mod_fcgi_pm</h2>\s*<p>Version: mod_fcgi_pm/\Q$VERSION\E</p>},
         'mod_status section: version');
    like($t->get('/server-status?auto')->{body}, qr/^FcgiPmVersion: \Q$VERSION\E$/m,
         'mod_status ?auto: FcgiPmVersion');

    like($t->log_text, qr/manager running, pid $manager, mod_fcgi_pm\/\Q$VERSION\E, protocol $PROTO$/m,
         "the manager's start line names mod_fcgi_pm/$VERSION and protocol $PROTO");

    ok($t->graceful, 'graceful');
    ($server, $n) = $banner->();
    is($n, 1, "after a graceful: mod_fcgi_pm/$VERSION still once ($server)");
    is($t->manager_pid, $manager, 'same manager');
    ok($t->stop, 'httpd stopped');
    $t->cleanup;
};

#----------------------------------------------------------------------------
# 3. LogLevel warn stays quiet on a healthy server
#----------------------------------------------------------------------------

subtest 'LogLevel warn: gracefuls and recycles log nothing at warn or above' => sub {
    my $t = FcgiPmTest->new;
    my $hello = $t->app('hello');
    my $php = -x '/usr/bin/php-cgi';
    my $root = $t->root;
    my $docroot = $t->docroot;
    my $tag = $t->tag_env;
    my $body = FcgiPmTest::app_conf('hello', "$hello --app=quiet", 'Processes 2', 'ShutdownTimeout 5')
             . FcgiPmTest::status_conf();
    if ($php) {
        $t->docfile('hello.php');
        $body .= <<"EOT";
<FcgiPmApp php>
    Command /usr/bin/php-cgi -d fcgipm.tag=$root
    Processes 2
    Env PHP_FCGI_MAX_REQUESTS 15
    $tag
    ShutdownTimeout 5
</FcgiPmApp>
<Directory "$docroot">
    <Files "*.php">
        FcgiPmPass php
    </Files>
</Directory>
EOT
    }
    else {
        note('no /usr/bin/php-cgi: the libfcgi app alone recycles');
    }
    $t->write_conf($body, loglevel => 'warn');
    ok($t->start, 'httpd started with LogLevel warn');
    ok($t->wait_ok('/hello/', 20), 'hello answers');
    ok($t->wait_ok('/hello.php', 20), 'php answers') if $php;

    # Every 8th request of a client asks its hello worker to exit after
    # answering: a recycle.  php-cgi leaves after 15 requests by itself.
    my $load = $t->load_start(
        clients => 3, until_stopped => 1, max_seconds => 60, timeout => 20,
        think_ms => 15,
        expect => qr/^APP=hello-(?:c|php)$/m,
        path => sub {
            my ($c, $i) = @_;
            return "/hello.php?c=$c&i=$i" if $php && $c == 2;
            return "/hello/q?c=$c&i=$i" . ($i % 8 == 7 ? '&exit=1' : '');
        },
    );
    sleep 2;
    for my $g (1 .. 3) {
        ok(eval { $t->graceful }, "graceful $g") or diag($@);
        sleep 3;
    }
    my $s = $t->load_finish($load);
    note(FcgiPmTest::load_summary_text($s));
    cmp_ok($s->{total}, '>=', 150, "light load: $s->{total} requests");
    is($s->{ok}, $s->{total}, 'every request answered by the app')
        or diag(join "\n", @{ $s->{errors} });

    my $j = $t->status_json;
    ok($j, 'status JSON') or return;
    is($j->{manager}{gracefuls}, 3, 'the manager went through 3 gracefuls');
    my ($h) = grep { $_->{name} eq 'hello' } @{ $j->{apps} };
    cmp_ok($h->{restarts} // 0, '>=', 5, 'hello workers recycled (' . ($h->{restarts} // 0) . ')');
    is($h->{crashes} // -1, 0, 'no hello crash');
    if ($php) {
        my ($p) = grep { $_->{name} eq 'php' } @{ $j->{apps} };
        cmp_ok($p->{restarts} // 0, '>=', 2, 'php-cgi workers recycled (' . ($p->{restarts} // 0) . ')');
        is($p->{crashes} // -1, 0, 'no php crash');
    }

    my $LOUD = qr/\[fcgi_pm:(?:warn|error|crit|alert|emerg)\]/;
    my @log = split /\n/, $t->log_text;
    is(scalar(grep { /resuming normal operations/ } @log), 4, 'the log holds the 4 generations');
    my @loud = grep { $_ =~ $LOUD } @log;
    is_deeply(\@loud, [], 'no mod_fcgi_pm line at warn or above');
    my @info = grep { /\[fcgi_pm:(?:info|debug|trace\d)\]/ } @log;
    is(scalar @info, 0, 'LogLevel warn is in force: no info line');
    # httpd writes notice lines whatever the LogLevel: routine events must
    # not be there either.  The parent's line for the manager's start is.
    my @notice = grep { /\[fcgi_pm:notice\]/ && !/\] manager started, pid \d+, protocol \d+$/ } @log;
    is_deeply(\@notice, [], 'no mod_fcgi_pm notice line but the manager\'s start');
    note("mod_fcgi_pm lines at LogLevel warn:\n" . join("\n", grep { /\[fcgi_pm:/ } @log));

    # The same scan sees a line at warn: a worker's stderr is logged there.
    my $probe = 'house-probe-' . int(rand(1e9));
    is($t->get("/hello/?stderr=$probe", timeout => 10)->{status}, 200, 'a request writes a stderr line');
    ok(wait_for(sub { grep { $_ =~ $LOUD && /\Q$probe\E/ } split /\n/, $t->log_text }, 10),
       'a worker stderr line is seen as a warn line by the same scan');

    ok($t->stop, 'httpd stopped');
    $t->cleanup;
};

done_testing;
