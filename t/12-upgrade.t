#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 12-upgrade.t - the module file is replaced by a build speaking another
# parent-manager protocol (as a Debian package upgrade does), then a
# graceful: a new manager takes over the sockets, the old one retires its
# workers once the new ones accept, and no request fails meanwhile.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep);
use FcgiPmTest qw(wait_for pid_alive app_conf);

my $repo = FcgiPmTest::repo_dir();

# Build the "upgraded" module: the same sources, the next protocol version.
open(my $hfh, '<', "$repo/include/fcgi_pm.h") or die "fcgi_pm.h: $!";
my ($cur) = do { local $/; <$hfh> } =~ /^#define FCGI_PM_PROTO_VERSION (\d+)/m;
close $hfh;
die 'no FCGI_PM_PROTO_VERSION in include/fcgi_pm.h' unless $cur;
my $next = $cur + 1;
my $build = tempdir('fcgipm-upgrade-XXXXXX', TMPDIR => 1, CLEANUP => 1);
system("cd '$repo' && tar cf - Makefile.apxs mod_fcgi_pm.c modules include"
       . " | (cd '$build' && tar xf -)") == 0 or die "copy sources: $?";
my $out = `cd '$build' && make -f Makefile.apxs DEFS=-DFCGI_PM_PROTO_VERSION=$next 2>&1`;
is($?, 0, "module with protocol $next builds") or diag($out);
my $v2 = "$build/.libs/mod_fcgi_pm.so";
ok(-f $v2, "protocol $next module built");

my $t = FcgiPmTest->new;
# The running httpd loads the module from a file of its own, which the
# "package upgrade" below replaces.
my $so = $t->root . '/mod_fcgi_pm.so';
copy(FcgiPmTest::module_path(), $so) or die "copy: $!";
$ENV{FCGI_PM_MODULE} = $so;
my $hello = $t->app('hello');
# A mod_fcgid-style script directory too: its classes are the manager's.
my $cgi = $t->docroot . '/cgi';
mkdir $cgi; chmod 0755, $cgi;
for my $n (qw(before after)) {
    copy($hello, "$cgi/$n.fcgi") or die "copy: $!";
    chmod 0755, "$cgi/$n.fcgi";
}
$t->write_conf(app_conf('hello', "$hello --app=hello", 'Processes 4', 'ShutdownTimeout 10')
               . "<Directory \"$cgi\">\n    Options +ExecCGI\n    AddHandler fcgid-script .fcgi\n</Directory>\n");
ok($t->start, "httpd started with protocol $cur");
ok(wait_for(sub { $t->workers(match => qr/--app=hello\b/) == 4 }, 20), '4 workers');
ok($t->wait_ok('/hello/', 20), 'app answers');
is($t->get('/cgi/before.fcgi')->{status}, 200, 'an fcgid-script class answers');
my $old_manager = $t->manager_pid;
ok($old_manager, "manager $old_manager");
my @old_workers = $t->workers(match => qr/--app=hello\b/);

my $load = $t->load_start(
    clients       => 8,
    min_requests  => 400,
    until_stopped => 1,
    max_seconds   => 60,
    timeout       => 30,
    expect        => qr/^APP=hello-c$/m,
    path          => sub { my ($c, $i) = @_;
                           ($i + $c) % 25 == 0 ? "/hello/s?sleep=500" : "/hello/f?c=$c&i=$i" },
);
sleep 1;
# Replace the file the way dpkg does: write aside, rename over.
copy($v2, "$so.new") or die "copy: $!";
rename("$so.new", $so) or die "rename: $!";
my $mark = $t->log_mark;
ok(eval { $t->graceful }, 'graceful after the upgrade') or diag($@);

ok(wait_for(sub { my $m = $t->manager_pid; $m && $m != $old_manager }, 30),
   'a new manager runs') or diag($t->log_tail(30));
my $new_manager = $t->manager_pid;
ok(wait_for(sub { !pid_alive($old_manager) }, 30), 'the old manager retired')
    or diag($t->log_tail(30));
ok(wait_for(sub { !grep { pid_alive($_) } @old_workers }, 30),
   'the old workers are gone');
ok(wait_for(sub { $t->workers(match => qr/--app=hello\b/, manager => $new_manager) == 4 }, 20),
   'the new manager runs 4 workers');
# The new manager took the spawn socket over: the class of before the
# upgrade is made again on demand, and a new one is made.
is($t->get('/cgi/before.fcgi')->{status}, 200, 'the fcgid-script class answers after the takeover');
is($t->get('/cgi/after.fcgi')->{status}, 200, 'a class never seen before is made by the new manager');
sleep 1;
my $s = $t->load_finish($load);
note(FcgiPmTest::load_summary_text($s));
is($s->{failed}, 0, 'zero failed requests across the upgrade');
is($s->{non2xx}, 0, 'zero non-2xx answers');
is($s->{bad_body}, 0, 'every answer came from the app');
unlike($t->log_text, qr/ShutdownTimeout\); killing it/,
       'every retired worker left by itself, none was killed');
diag(join "\n", @{ $s->{errors} }) if $s->{failed} || $s->{non2xx};

my $log = $t->log_since($mark);
like($log, qr/speaks protocol $cur, this module $next/, 'the takeover is logged');
like($log, qr/telling the previous manager \(pid $old_manager\) to retire/,
     'the new manager retired the old one once its apps were ready');

# A second graceful with the upgraded module keeps the new manager.
ok(eval { $t->graceful }, "graceful with protocol $next") or diag($@);
is($t->manager_pid, $new_manager, 'the new manager stays');
ok($t->stop, 'stop');
ok(wait_for(sub { !pid_alive($new_manager) }, 20), 'manager gone after stop');
is_deeply([$t->sock_files], [], 'no socket file left');

done_testing;
