#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 22-storm.t - signal storms never make the manager stop or restart
# (issue 7).
#
# php-cgi with PHP_FCGI_MAX_REQUESTS=20 under load respawns workers all the
# time.  Into that: three storms of 50 SIGHUPs to the manager ~100 us apart,
# and three gracefuls, one right after each storm.  A worker that gets a
# signal between fork() and resetting its handlers must never act as the
# manager.  Asserted: the manager pid never changes (sampled all along),
# exactly one manager, no "manager ... exiting" in the log, zero 503, zero
# failed requests.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep usleep);
use FcgiPmTest qw(wait_for pid_alive proc_stat);

plan skip_all => 'no /usr/bin/php-cgi (install php-cgi)' unless -x '/usr/bin/php-cgi';

my $t = FcgiPmTest->new(mpm => 'event');
my $root = $t->root;
$t->docfile('hello.php');
my $docroot = $t->docroot;
my $tag = $t->tag_env;
my $hello = $t->app('hello');
$t->write_conf(<<"EOT");
<FcgiPmApp php>
    Command /usr/bin/php-cgi -d fcgipm.tag=$root
    Processes 4
    Env PHP_FCGI_MAX_REQUESTS 20
    $tag
    ShutdownTimeout 10
</FcgiPmApp>
<Directory "$docroot">
    <Files "*.php">
        FcgiPmPass php
    </Files>
</Directory>
<FcgiPmApp hello>
    Command $hello --app=hello
    Processes 2
    ShutdownTimeout 10
</FcgiPmApp>
<Location /hello>
    FcgiPmPass hello
</Location>
EOT
ok($t->start, 'httpd started');
ok($t->wait_ok('/hello.php', 20), 'php answers');
ok($t->wait_ok('/hello/', 20), 'hello answers');
my $manager = $t->manager_pid;
ok($manager, "manager $manager");
my $mstart = proc_stat($manager)->{starttime};
my $mark = $t->log_mark;

my $load = $t->load_start(
    clients => 12, until_stopped => 1, max_seconds => 60, timeout => 30,
    expect  => qr/^APP=hello-(?:php|c)$/m,
    path    => sub { my ($c, $i) = @_; return ($c % 4 == 3) ? "/hello/x?c=$c&i=$i" : "/hello.php?c=$c&i=$i" },
);
my @changes;
my $watch = sub {
    my $m = $t->manager_pid;
    push @changes, sprintf('%.3f: manager %s', time, $m // 'none') unless defined $m && $m == $manager;
};
sleep 1.5;
for my $round (1 .. 3) {
    # The storm: the pid was checked above; it is the manager we started.
    my $st = proc_stat($manager);
    ok($st && $st->{state} ne 'Z' && $st->{starttime} == $mstart, "storm $round: the first manager is still there")
        or last;
    my $sent = 0;
    for (1 .. 50) {
        $sent += kill 'HUP', $manager;
        usleep(100);
    }
    is($sent, 50, "storm $round: 50 SIGHUPs delivered to the manager");
    $watch->();
    ok(eval { $t->graceful }, "graceful $round right after storm $round") or diag($@);
    for (1 .. 20) { $watch->(); sleep 0.1 }
}
for (1 .. 30) { $watch->(); sleep 0.1 }
my $s = $t->load_finish($load);
note(FcgiPmTest::load_summary_text($s));
my $log = $t->log_since($mark);

is_deeply(\@changes, [], 'the manager pid never changed during the storms');
is($t->manager_pid, $manager, 'manager unchanged at the end');
my @m = $t->managers;
is(scalar @m, 1, 'exactly one manager');
is((proc_stat($manager) || {})->{starttime}, $mstart, 'same manager process');
unlike($log, qr/manager pid \d+ exiting/, 'no manager exit logged');
unlike($log, qr/manager running, pid/, 'no new manager started');
cmp_ok($s->{total}, '>=', 300, "at least 300 requests ($s->{total})");
is($s->{by_status}{503} // 0, 0, 'zero 503');
is($s->{failed}, 0, 'zero failed requests');
is($s->{non2xx}, 0, 'zero non-2xx answers');
is($s->{bad_body}, 0, 'every answer from the apps');
diag(join "\n", FcgiPmTest::load_summary_text($s), @{ $s->{errors} })
    if $s->{failed} || $s->{non2xx} || $s->{bad_body};
my $exits = () = $log =~ /app php: worker \d+ exited/g;
cmp_ok($exits, '>=', 10, "php workers recycled during the storms ($exits exits)");

ok($t->stop, 'httpd stopped');
ok(wait_for(sub { !$t->our_processes }, 20), 'nothing left after stop');
$t->cleanup;
done_testing;
