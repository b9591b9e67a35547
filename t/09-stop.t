#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 09-stop.t - "-k stop" leaves no manager, no worker and no socket behind
# (within a bounded time, ShutdownTimeout 3); "-k start" right after works;
# "-k graceful-stop" lets an in-flight request (sleep=2000) finish with 200,
# then nothing is left.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(wait_for pid_alive);

my $t = FcgiPmTest->new;
my $root = $t->root;
my $hello = $t->app('hello');
my $hello_pl = $t->app('hello.pl');
$t->write_conf(<<"EOT");
<FcgiPmApp hello>
    Command $hello --app=hello
    Processes 2
    ShutdownTimeout 3
</FcgiPmApp>
<Location /hello>
    FcgiPmPass hello
</Location>
<FcgiPmApp perl>
    Command $hello_pl
    Processes 1
    ShutdownTimeout 3
</FcgiPmApp>
<Location /perl>
    FcgiPmPass perl
</Location>
EOT

sub ours_text {
    my @p = @_ ? @_ : $t->our_processes;
    return join(', ', map { "$_ (" . (FcgiPmTest::proc_cmdline($_) // '?') . ')' } @p) || 'none';
}

# Everything of this server: tracked pids + the pids given (managers and
# workers seen before the stop).
sub nothing_left {
    my (@tracked) = @_;
    return !$t->our_processes && !(grep { pid_alive($_) } @tracked) && !$t->sock_files;
}

sub up_and_serving {
    my ($what) = @_;
    ok($t->wait_ok('/hello/', 20), "$what: hello answers");
    ok($t->wait_ok('/perl/', 20), "$what: perl answers");
    ok(wait_for(sub { $t->workers(match => qr/--app=hello\b/) == 2 && $t->workers(match => qr/hello\.pl/) == 1 }, 20),
       "$what: workers up");
    ok(wait_for(sub { $t->sock_files == 2 }, 10), "$what: hello.sock and perl.sock exist")
        or diag('sockets: ' . join(' ', $t->sock_files));
    my $m = $t->manager_pid;
    ok($m, "$what: manager " . ($m // 'none'));
    return ($m, $t->workers);
}

# --- -k stop -------------------------------------------------------------------
ok($t->start, 'httpd started');
my ($m1, @w1) = up_and_serving('start');
my $httpd1 = $t->httpd_pid;
my $t0 = time;
ok($t->stop(timeout => 20), 'apache2 -k stop: httpd parent exits');
my $gone = wait_for(sub { nothing_left($m1, @w1) }, 15, 0.1);
ok($gone, sprintf('after -k stop: no manager, worker or socket left (%.1f s)', time - $t0))
    or diag('left: ' . ours_text($t->our_processes, grep { pid_alive($_) } $m1, @w1)
            . '; sockets: ' . join(' ', $t->sock_files));
ok(!pid_alive($httpd1), 'httpd parent gone');

# --- -k start right after ----------------------------------------------------
ok($t->start, 'apache2 -k start right after the stop');
my ($m2, @w2) = up_and_serving('restart after stop');
isnt($m2, $m1, 'a new manager');
is($t->get('/hello/')->{status}, 200, 'request after the new start: 200');

# --- -k graceful-stop with a request in flight ---------------------------------
my $load = $t->load_start(clients => 1, min_requests => 1, timeout => 30, max_seconds => 30,
                          path => '/hello/inflight?sleep=2000', expect => qr/^APP=hello-c$/m);
sleep 0.5;
$t0 = time;
my $httpd2 = $t->httpd_pid;
ok($t->graceful_stop(nowait => 1), 'apache2 -k graceful-stop sent while a request is in flight');
my $s = $t->load_finish($load);
is($s->{total}, 1, 'the in-flight request finished');
is($s->{ok}, 1, 'the in-flight request completed with 200 and the app\'s answer')
    or diag(join "\n", @{ $s->{errors} });
ok(wait_for(sub { !pid_alive($httpd2) }, 30),
   'httpd parent exits after graceful-stop');
$gone = wait_for(sub { nothing_left($m2, @w2) }, 15, 0.1);
ok($gone, sprintf('after -k graceful-stop: no manager, worker or socket left (%.1f s)', time - $t0))
    or diag('left: ' . ours_text($t->our_processes, grep { pid_alive($_) } $m2, @w2)
            . '; sockets: ' . join(' ', $t->sock_files));
my $log = $t->log_text;
for my $w (grep { $_ } @w2) {
    like($log, qr/worker \Q$w\E exited/, "log: worker $w exited");
}

# --- -k stop with a worker stuck in a long request -------------------------------
# httpd's own stop waits for its child busy with the proxied request (it
# sends SIGTERMs, then SIGKILL after ~9 s: not the module's doing); once the
# httpd parent is gone, ShutdownTimeout 3 bounds the rest: the worker busy
# for 30 s is killed and nothing is left.
ok($t->start, 'httpd started again');
my ($m3, @w3) = up_and_serving('third start');
my $httpd3 = $t->httpd_pid;
my $stuck = $t->load_start(clients => 1, min_requests => 1, timeout => 40, max_seconds => 40,
                           path => '/hello/stuck?sleep=30000');
sleep 0.5;
$t0 = time;
ok($t->stop(timeout => 30), '-k stop with a request stuck for 30 s: httpd parent exits');
my $parent_gone = time;
$gone = wait_for(sub { nothing_left($m3, @w3) }, 25, 0.05);
my $took = time - $t0;
my $after_parent = time - $parent_gone;
ok($gone, sprintf('after -k stop: nothing left (%.1f s after the stop, %.1f s after the httpd parent exited)',
                  $took, $after_parent))
    or diag('left: ' . ours_text($t->our_processes, grep { pid_alive($_) } $m3, @w3)
            . '; sockets: ' . join(' ', $t->sock_files));
cmp_ok($after_parent, '<', 3 + 3, 'after the httpd parent exited, ShutdownTimeout 3 s (+3 s slack) bounds the rest');
cmp_ok($took, '<', 20, 'whole stop bounded (httpd\'s own ~9 s child reclaim + ShutdownTimeout)');
note(sprintf('stop with a stuck request: %.1f s in total, %.1f s of it after the httpd parent exited',
             $took, $after_parent));
my $ss = $t->load_finish($stuck);
note('stuck request ended with status ' . join(',', keys %{ $ss->{by_status} }));

done_testing;
